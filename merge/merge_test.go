package merge

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/sink"
)

func TestMergeFieldRules(t *testing.T) {
	const C = KindContact
	tests := []struct {
		name               string
		base, ours, theirs *Doc
		want               []string // merged fields "KEY:VALUE", sorted
		conflicts          []string
	}{
		{"different fields combine",
			mk("u", C, "FN:Ann", "TITLE:Dev", "NOTE:n"),
			mk("u", C, "FN:Ann B", "TITLE:Dev", "NOTE:n"),
			mk("u", C, "FN:Ann", "TITLE:Lead", "NOTE:n"),
			[]string{"FN:Ann B", "NOTE:n", "TITLE:Lead"}, nil},
		{"same change on both sides",
			mk("u", C, "FN:Ann"), mk("u", C, "FN:Bea"), mk("u", C, "FN:Bea"),
			[]string{"FN:Bea"}, nil},
		{"same field changed differently",
			mk("u", C, "FN:Ann"), mk("u", C, "FN:Bea"), mk("u", C, "FN:Cleo"),
			[]string{"FN:Bea"}, []string{"FN"}},
		{"deleted on one side, unchanged on the other",
			mk("u", C, "FN:Ann", "NOTE:x"), mk("u", C, "FN:Ann"), mk("u", C, "FN:Ann", "NOTE:x"),
			[]string{"FN:Ann"}, nil},
		{"deleted on one side, modified on the other",
			mk("u", C, "FN:Ann", "NOTE:x"), mk("u", C, "FN:Ann"), mk("u", C, "FN:Ann", "NOTE:y"),
			[]string{"FN:Ann"}, []string{"NOTE"}},
		{"deleted on both sides",
			mk("u", C, "FN:Ann", "NOTE:x"), mk("u", C, "FN:Ann"), mk("u", C, "FN:Ann"),
			[]string{"FN:Ann"}, nil},
		{"added on one side",
			mk("u", C, "FN:Ann"), mk("u", C, "FN:Ann", "ROLE:r"), mk("u", C, "FN:Ann"),
			[]string{"FN:Ann", "ROLE:r"}, nil},
		{"added differently on both sides",
			mk("u", C, "FN:Ann"), mk("u", C, "FN:Ann", "ROLE:r"), mk("u", C, "FN:Ann", "ROLE:s"),
			[]string{"FN:Ann", "ROLE:r"}, []string{"ROLE"}},
		{"no base: union",
			nil, mk("u", C, "FN:Ann", "EMAIL=a:a"), mk("u", C, "FN:Ann", "EMAIL=b:b"),
			[]string{"EMAIL=a:a", "EMAIL=b:b", "FN:Ann"}, nil},
		{"no base: same key, different values",
			nil, mk("u", C, "FN:Ann", "TITLE:x"), mk("u", C, "FN:Ann", "TITLE:y"),
			[]string{"FN:Ann", "TITLE:x"}, []string{"TITLE"}},
		{"overrides: different occurrences combine",
			mk("e", KindEvent, "SUMMARY:s", "RID=1/SUMMARY:a", "RID=2/SUMMARY:b"),
			mk("e", KindEvent, "SUMMARY:s", "RID=1/SUMMARY:a1", "RID=2/SUMMARY:b"),
			mk("e", KindEvent, "SUMMARY:s", "RID=1/SUMMARY:a", "RID=2/SUMMARY:b2"),
			[]string{"RID=1/SUMMARY:a1", "RID=2/SUMMARY:b2", "SUMMARY:s"}, nil},
		{"overrides: same occurrence changed differently",
			mk("e", KindEvent, "SUMMARY:s", "RID=1/SUMMARY:a"),
			mk("e", KindEvent, "SUMMARY:s", "RID=1/SUMMARY:x"),
			mk("e", KindEvent, "SUMMARY:s", "RID=1/SUMMARY:y"),
			[]string{"RID=1/SUMMARY:x", "SUMMARY:s"}, []string{"RID=1/SUMMARY"}},
		{"overrides: removed on one side, edited on the other",
			mk("e", KindEvent, "SUMMARY:s", "RID=1/RECURRENCE-ID:1", "RID=1/SUMMARY:a", "RID=1/LOCATION:l"),
			mk("e", KindEvent, "SUMMARY:s"),
			mk("e", KindEvent, "SUMMARY:s", "RID=1/RECURRENCE-ID:1", "RID=1/SUMMARY:b", "RID=1/LOCATION:l"),
			[]string{"SUMMARY:s"}, []string{"RID=1/SUMMARY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, cs := Merge(tt.base, tt.ours, tt.theirs)
			var got []string
			for _, k := range fieldKeys(m) {
				got = append(got, k+":"+m.Fields[k].Value)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("merged = %q, want %q", got, tt.want)
			}
			if ck := conflictKeys(cs); !reflect.DeepEqual(ck, tt.conflicts) {
				t.Errorf("conflicts = %q, want %q", ck, tt.conflicts)
			}
			for _, c := range cs {
				if c.Resolution != ResOurs || c.Kind != ConflictField {
					t.Errorf("conflict %+v: want field conflict resolved as ours", c)
				}
			}
			// Symmetry: swapping the sides swaps the values, not the set.
			_, rcs := Merge(tt.base, tt.theirs, tt.ours)
			if ck := conflictKeys(rcs); !reflect.DeepEqual(ck, conflictKeys(cs)) {
				t.Errorf("swapped conflicts = %q, want %q", ck, conflictKeys(cs))
			}
		})
	}
}

func TestMergeConflictValues(t *testing.T) {
	_, cs := Merge(mk("u", KindContact, "FN:Ann", "NOTE:x"), mk("u", KindContact, "FN:Ann"), mk("u", KindContact, "FN:Ann", "NOTE:y"))
	if len(cs) != 1 {
		t.Fatalf("conflicts = %+v", cs)
	}
	c := cs[0]
	if str(c.Base) != "NOTE:x" || c.Ours != nil || str(c.Theirs) != "NOTE:y" || c.Title != "Ann" || c.UID != "u" {
		t.Errorf("conflict = base %s ours %s theirs %s title %q", str(c.Base), str(c.Ours), str(c.Theirs), c.Title)
	}
}

const baseCard = `BEGIN:VCARD
VERSION:4.0
UID:urn:uuid:1
FN:Ann Example
N:Example;Ann;;;
EMAIL;PREF=1:ann@example.com
TEL;TYPE=cell,voice:+1 (555) 010-0001
ADR;TYPE=work:;;1 Main St;Springfield;;12345;USA
CATEGORIES:Friends,Work
REV:20240101T000000Z
END:VCARD`

func edit(card string, repl ...string) string {
	return strings.NewReplacer(repl...).Replace(card)
}

func TestMergeVCardMultiValued(t *testing.T) {
	base := parseVCard(t, baseCard)
	tests := []struct {
		name          string
		ours, theirs  string
		wantEmails    []string
		wantConflicts []string
		check         func(t *testing.T, m *Doc)
	}{
		{"both add e-mails: union",
			edit(baseCard, "EMAIL;PREF=1:ann@example.com", "EMAIL;PREF=1:ann@example.com\nEMAIL:ann@home.example"),
			edit(baseCard, "EMAIL;PREF=1:ann@example.com", "EMAIL;PREF=1:ann@example.com\nEMAIL:ann@work.example"),
			[]string{"ann@example.com", "ann@home.example", "ann@work.example"}, nil, nil},
		{"removal on one side propagates",
			edit(baseCard, "EMAIL;PREF=1:ann@example.com\n", "EMAIL:ann@new.example\n"),
			baseCard,
			[]string{"ann@new.example"}, nil, nil},
		{"same address, case differs: one value",
			baseCard,
			edit(baseCard, "EMAIL;PREF=1:ann@example.com", "EMAIL;PREF=1:ANN@Example.COM"),
			[]string{"ANN@Example.COM"}, nil, nil},
		{"same value's params changed differently: conflict",
			edit(baseCard, "EMAIL;PREF=1:", "EMAIL;PREF=1;TYPE=work:"),
			edit(baseCard, "EMAIL;PREF=1:", "EMAIL;PREF=1;TYPE=home:"),
			[]string{"ann@example.com"}, []string{"EMAIL=ann@example.com"}, nil},
		{"phone reformatted on one side, other phone added on the other",
			edit(baseCard, "+1 (555) 010-0001", "15550100001"),
			edit(baseCard, "TEL;TYPE=cell,voice:+1 (555) 010-0001", "TEL;TYPE=cell,voice:+1 (555) 010-0001\nTEL;TYPE=home:555 0200"),
			[]string{"ann@example.com"}, nil,
			func(t *testing.T, m *Doc) {
				if m.Fields["TEL=15550100001"].Value != "15550100001" || m.Fields["TEL=5550200"].Value != "555 0200" {
					t.Errorf("phones: %v", fieldKeys(m))
				}
			}},
		{"categories per item",
			edit(baseCard, "CATEGORIES:Friends,Work", "CATEGORIES:Friends,Work,Golf"),
			edit(baseCard, "CATEGORIES:Friends,Work", "CATEGORIES:Work"),
			[]string{"ann@example.com"}, nil,
			func(t *testing.T, m *Doc) {
				card, _ := ToVCard(m)
				if got := card.Value("CATEGORIES"); got != "golf,work" && got != "Golf,Work" {
					t.Errorf("CATEGORIES = %q", got)
				}
			}},
		{"address component edited on both sides differently",
			edit(baseCard, "1 Main St", "2 Main St"),
			edit(baseCard, "1 Main St", "3 Main St"),
			[]string{"ann@example.com"}, nil,
			func(t *testing.T, m *Doc) {
				// Different address values are different identities: both kept.
				n := 0
				for k := range m.Fields {
					if strings.HasPrefix(k, "ADR=") {
						n++
					}
				}
				if n != 2 {
					t.Errorf("addresses: %v", fieldKeys(m))
				}
			}},
		{"REV and PRODID changes are not changes",
			edit(baseCard, "REV:20240101T000000Z", "REV:20250101T000000Z\nPRODID:-//x//y"),
			edit(baseCard, "FN:Ann Example", "FN:Ann E."),
			[]string{"ann@example.com"}, nil,
			func(t *testing.T, m *Doc) {
				if m.Fields["FN"].Value != "Ann E." {
					t.Errorf("FN = %q", m.Fields["FN"].Value)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, cs := Merge(base, parseVCard(t, tt.ours), parseVCard(t, tt.theirs))
			var emails []string
			for _, k := range fieldKeys(m) {
				if m.Fields[k].Name == "EMAIL" {
					emails = append(emails, m.Fields[k].Value)
				}
			}
			if !reflect.DeepEqual(emails, tt.wantEmails) {
				t.Errorf("emails = %q, want %q", emails, tt.wantEmails)
			}
			if ck := conflictKeys(cs); !reflect.DeepEqual(ck, tt.wantConflicts) {
				t.Errorf("conflicts = %q, want %q", ck, tt.wantConflicts)
			}
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
}

const baseEvent = `BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//pstsync//pstsync//EN
BEGIN:VTIMEZONE
TZID:Europe/Paris
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:ev1
SEQUENCE:2
DTSTAMP:20240101T000000Z
DTSTART;TZID=Europe/Paris:20240108T100000
DTEND;TZID=Europe/Paris:20240108T110000
RRULE:FREQ=WEEKLY;BYDAY=MO
EXDATE;TZID=Europe/Paris:20240115T100000
SUMMARY:Team meeting
LOCATION:Room 1
ATTENDEE;CN=Ann;PARTSTAT=ACCEPTED:mailto:ann@example.com
ATTENDEE;CN=Bob:mailto:bob@example.com
CATEGORIES:Work
CREATED:20231201T000000Z
LAST-MODIFIED:20240101T000000Z
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:Reminder
TRIGGER:-PT15M
END:VALARM
END:VEVENT
BEGIN:VEVENT
UID:ev1
RECURRENCE-ID;TZID=Europe/Paris:20240122T100000
DTSTAMP:20240101T000000Z
DTSTART;TZID=Europe/Paris:20240122T140000
DTEND;TZID=Europe/Paris:20240122T150000
SUMMARY:Team meeting (moved)
SEQUENCE:2
END:VEVENT
END:VCALENDAR`

func TestMergeEvent(t *testing.T) {
	base := parseICS(t, baseEvent)
	rid := "RID=20240122T100000/"
	if _, ok := base.Fields[rid+"SUMMARY"]; !ok {
		t.Fatalf("override keys missing: %v", fieldKeys(base))
	}
	for _, k := range []string{"ATTENDEE=ann@example.com", "ATTENDEE=bob@example.com", "EXDATE=20240115T100000", "CATEGORIES=work", "VALARM"} {
		if _, ok := base.Fields[k]; !ok {
			t.Errorf("key %s missing: %v", k, fieldKeys(base))
		}
	}
	tests := []struct {
		name          string
		ours, theirs  []string
		wantConflicts []string
		check         func(t *testing.T, m *Doc)
	}{
		{"override and master edits combine",
			[]string{"SUMMARY:Team meeting (moved)", "SUMMARY:Moved again"},
			[]string{"LOCATION:Room 1", "LOCATION:Room 2"},
			nil,
			func(t *testing.T, m *Doc) {
				if m.Fields[rid+"SUMMARY"].Value != "Moved again" || m.Fields["LOCATION"].Value != "Room 2" {
					t.Errorf("fields: %+v", m.Fields)
				}
			}},
		{"same override changed differently",
			[]string{"SUMMARY:Team meeting (moved)", "SUMMARY:A"},
			[]string{"SUMMARY:Team meeting (moved)", "SUMMARY:B"},
			[]string{rid + "SUMMARY"}, nil},
		{"attendees added on both sides, exdates on both",
			[]string{"ATTENDEE;CN=Bob:mailto:bob@example.com", "ATTENDEE;CN=Bob:mailto:bob@example.com\nATTENDEE:mailto:cleo@example.com",
				"EXDATE;TZID=Europe/Paris:20240115T100000", "EXDATE;TZID=Europe/Paris:20240115T100000\nEXDATE;TZID=Europe/Paris:20240129T100000"},
			[]string{"ATTENDEE;CN=Bob:mailto:bob@example.com", "ATTENDEE;CN=Bob:mailto:bob@example.com\nATTENDEE:mailto:dan@example.com",
				"EXDATE;TZID=Europe/Paris:20240115T100000", "EXDATE;TZID=Europe/Paris:20240115T100000,20240205T100000"},
			nil,
			func(t *testing.T, m *Doc) {
				for _, k := range []string{"ATTENDEE=cleo@example.com", "ATTENDEE=dan@example.com", "EXDATE=20240129T100000", "EXDATE=20240205T100000", "EXDATE=20240115T100000"} {
					if _, ok := m.Fields[k]; !ok {
						t.Errorf("%s missing: %v", k, fieldKeys(m))
					}
				}
			}},
		{"alarm changed differently is one conflict",
			[]string{"TRIGGER:-PT15M", "TRIGGER:-PT5M"},
			[]string{"TRIGGER:-PT15M", "TRIGGER:-PT30M"},
			[]string{"VALARM"}, nil},
		{"volatile only: no change",
			[]string{"DTSTAMP:20240101T000000Z", "DTSTAMP:20250101T000000Z", "SEQUENCE:2", "SEQUENCE:7", "LAST-MODIFIED:20240101T000000Z", "LAST-MODIFIED:20250101T000000Z", "CREATED:20231201T000000Z", "CREATED:20231202T000000Z"},
			[]string{"SUMMARY:Team meeting\n", "SUMMARY:Weekly\n"},
			nil,
			func(t *testing.T, m *Doc) {
				if m.Fields["SUMMARY"].Value != "Weekly" {
					t.Errorf("SUMMARY = %q", m.Fields["SUMMARY"].Value)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ours := parseICS(t, edit(baseEvent, tt.ours...))
			theirs := parseICS(t, edit(baseEvent, tt.theirs...))
			m, cs := Merge(base, ours, theirs)
			if ck := conflictKeys(cs); !reflect.DeepEqual(ck, tt.wantConflicts) {
				t.Errorf("conflicts = %q, want %q", ck, tt.wantConflicts)
			}
			if tt.check != nil {
				tt.check(t, m)
			}
			if _, err := ToCalendar(m); err != nil {
				t.Errorf("ToCalendar: %v", err)
			}
		})
	}
}

func TestVolatileAndSequence(t *testing.T) {
	base := parseICS(t, baseEvent)
	ours := parseICS(t, edit(baseEvent, "DTSTAMP:20240101T000000Z", "DTSTAMP:20250101T000000Z", "SEQUENCE:2\nDTSTAMP", "SEQUENCE:5\nDTSTAMP"))
	if !SameFields(base, ours) {
		t.Fatalf("volatile edits changed fields: %v", ChangedKeys(base, ours))
	}
	theirs := parseICS(t, edit(baseEvent, "LOCATION:Room 1", "LOCATION:Room 9"))
	m, _ := Merge(base, ours, theirs)
	if m != theirs {
		t.Errorf("merge with a volatile-only side should return theirs itself")
	}
	// Both sides changed: new doc with SEQUENCE max+1 and later Modified.
	ours2 := parseICS(t, edit(baseEvent, "SEQUENCE:2\nDTSTAMP", "SEQUENCE:5\nDTSTAMP", "SUMMARY:Team meeting\n", "SUMMARY:Other\n", "LAST-MODIFIED:20240101T000000Z", "LAST-MODIFIED:20240301T000000Z"))
	m, cs := Merge(base, ours2, theirs)
	if len(cs) != 0 || m == ours2 || m == theirs {
		t.Fatalf("conflicts %v", cs)
	}
	if got := m.Volatile["SEQUENCE"].Value; got != "6" {
		t.Errorf("SEQUENCE = %s, want 6", got)
	}
	if want := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC); !m.Modified.Equal(want) {
		t.Errorf("Modified = %v", m.Modified)
	}
	cal, err := ToCalendar(m)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := sink.EncodeICS(&buf, cal); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SEQUENCE:6\r\n", "LAST-MODIFIED:20240301T000000Z\r\n", "LOCATION:Room 9\r\n", "SUMMARY:Other\r\n", "BEGIN:VTIMEZONE\r\n", "CREATED:20231201T000000Z\r\n"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("merged ICS lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestCanonicalDeterministic(t *testing.T) {
	a := parseVCard(t, baseCard)
	// Same content, fields in another order.
	b := parseVCard(t, `BEGIN:VCARD
VERSION:4.0
CATEGORIES:Friends
CATEGORIES:Work
ADR;TYPE=WORK:;;1 Main St;Springfield;;12345;USA
TEL;TYPE=voice;TYPE=cell:+1 (555) 010-0001
EMAIL;PREF=1:ann@example.com
N:Example;Ann;;;
FN:Ann Example
UID:urn:uuid:1
REV:20240101T000000Z
END:VCARD`)
	if !bytes.Equal(Canonical(a), Canonical(b)) {
		t.Errorf("canonical differs:\n%s\n--\n%s", Canonical(a), Canonical(b))
	}
	if Hash(a) != Hash(b) || len(Hash(a)) != 64 {
		t.Errorf("hash %s vs %s", Hash(a), Hash(b))
	}
	c := a.Clone()
	c.Fields["NOTE"] = Field{Name: "NOTE", Value: "x"}
	if Hash(a) == Hash(c) {
		t.Error("different content, same hash")
	}
	e1, e2 := parseICS(t, baseEvent), parseICS(t, baseEvent)
	if !bytes.Equal(Canonical(e1), Canonical(e2)) {
		t.Error("event canonical not deterministic")
	}
}

func TestMessageFlags(t *testing.T) {
	base := FromMessage("m1", "h", "Inbox", sink.FlagSeen|sink.FlagFlagged)
	ours := FromMessage("m1", "h", "Inbox", sink.FlagSeen)                                        // unflagged
	theirs := FromMessage("m1", "h", "Archive", sink.FlagSeen|sink.FlagFlagged|sink.FlagAnswered) // moved, answered
	m, cs := Merge(base, ours, theirs)
	if len(cs) != 0 {
		t.Fatalf("conflicts: %+v", cs)
	}
	h, folder, flags := ToMessage(m)
	if h != "h" || folder != "Archive" || flags != sink.FlagSeen|sink.FlagAnswered {
		t.Errorf("got %s %s %v", h, folder, flags)
	}
	// Both move to different folders: conflict, no copy for messages.
	res := MergeCollection(map[string]*Doc{"m1": base},
		map[string]*Doc{"m1": FromMessage("m1", "h", "A", 0)},
		map[string]*Doc{"m1": FromMessage("m1", "h", "B", 0)}, Options{})
	if len(res.Merged) != 1 || len(res.Conflicts) != 1 || res.Conflicts[0].Field != MsgFolder || res.Conflicts[0].Resolution != ResOurs {
		t.Errorf("result %+v", res)
	}
	if !strings.Contains(string(Canonical(m)), "FLAGS:SEEN,ANSWERED") {
		t.Errorf("canonical: %s", Canonical(m))
	}
}
