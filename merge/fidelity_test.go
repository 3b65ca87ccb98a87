package merge

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// crlf turns a readable test text (LF lines) into content lines.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

// roundTrip checks decode → Canonical → decode gives the same item.
func roundTrip(t *testing.T, d *Doc) *Doc {
	t.Helper()
	if d.UID == "" {
		d = d.Clone()
		d.UID = "roundtrip-uid"
	}
	data := Canonical(d)
	var d2 *Doc
	var err error
	if d.Kind == KindContact {
		d2, err = DecodeVCard(data)
	} else {
		d2, err = DecodeCalendar(data)
	}
	if err != nil {
		t.Fatalf("re-decode %q: %v\n%s", d.UID, err, data)
	}
	if d2.UID != d.UID || !SameFields(d, d2) {
		t.Fatalf("round trip of %q changed %v\n%s", d.UID, ChangedKeys(d, d2), data)
	}
	if again := Canonical(d2); !bytes.Equal(again, data) {
		t.Fatalf("canonical form of %q not stable:\n%s\n---\n%s", d.UID, data, again)
	}
	return d2
}

type want struct {
	key, value string
	params     map[string]string // param name → values joined with ","
}

func checkFields(t *testing.T, d *Doc, wants []want) {
	t.Helper()
	for _, w := range wants {
		f, ok := d.Fields[w.key]
		if !ok {
			t.Errorf("no field %q; have %v", w.key, ChangedKeys(nil, d))
			continue
		}
		if f.Value != w.value {
			t.Errorf("%s = %q, want %q", w.key, f.Value, w.value)
		}
		for k, v := range w.params {
			if got := strings.Join(f.Params[k], ","); got != v {
				t.Errorf("%s;%s = %q, want %q", w.key, k, got, v)
			}
		}
	}
}

func TestVCardFidelity(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		wants []want
	}{{
		name: "vCard 2.1 Android export",
		in: `BEGIN:VCARD
VERSION:2.1
N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=B6rg;;;
FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:J=C3=B6rg M=C3=BCller
TEL;HOME;VOICE:+49 30 1234
TEL;CELL;PREF:+49 170 5555
NOTE;ENCODING=QUOTED-PRINTABLE:first line=0D=0Asecond =
line continues
ADR;HOME;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:;;Stra=DFe 1;Berlin;;10115;Germany
PHOTO;ENCODING=BASE64;JPEG:/9j/4AAQ
 SkZJRgABAQ

EMAIL;INTERNET:j@example.com
UID:v21-1
END:VCARD
`,
		wants: []want{
			{key: "N", value: "Müller;Jörg;;;"},
			{key: "FN", value: "Jörg Müller"},
			{key: "TEL=49301234", value: "+49 30 1234", params: map[string]string{"TYPE": "home,voice"}},
			{key: "TEL=491705555", value: "+49 170 5555", params: map[string]string{"TYPE": "cell", "PREF": "1"}},
			{key: "NOTE", value: "first line\nsecond line continues"},
			{key: "ADR=;;straße 1;berlin;;10115;germany", value: ";;Straße 1;Berlin;;10115;Germany", params: map[string]string{"TYPE": "home"}},
			{key: "PHOTO", value: "data:image/jpeg;base64,/9j/4AAQSkZJRgABAQ"},
			{key: "EMAIL=j@example.com", value: "j@example.com", params: map[string]string{"TYPE": "internet"}},
		},
	}, {
		name: "vCard 3.0 escaping, Apple photo, LABEL",
		in: `BEGIN:VCARD
VERSION:3.0
UID:v30-1
FN:Ann\; Bob\: C
N:Doe;Jane;Mary,Ann;Dr.;
ORG:Smith\, Jones Ltd;R\;D
ADR;TYPE=work:;;Line 1,Line 2;Town;;;
NICKNAME:Jo\, Jr.,Jojo
CATEGORIES:a\,b,c
PHOTO;BASE64:/9j/4AAQ
LABEL;TYPE=work:12 Main St\nTown
X-MS-MEMBER;X-CN=DOMAIN\name:mailto:x@example.com
X-P;X-Q="a;b\c":v
URL:http\://example.com/a
NOTE:back\\slash and \x
END:VCARD
`,
		wants: []want{
			{key: "FN", value: "Ann; Bob: C"},
			{key: "N", value: "Doe;Jane;Mary,Ann;Dr.;"},
			{key: "ORG", value: `Smith\, Jones Ltd;R\;D`},
			{key: "ADR=;;line 1,line 2;town;;;", value: ";;Line 1,Line 2;Town;;;"},
			{key: "NICKNAME", value: `Jo\, Jr.,Jojo`},
			{key: `CATEGORIES=a\,b`, value: `a\,b`},
			{key: "CATEGORIES=c", value: "c"},
			{key: "PHOTO", value: "data:image/jpeg;base64,/9j/4AAQ"},
			{key: "LABEL=12 Main St\nTown", value: "12 Main St\nTown", params: map[string]string{"TYPE": "work"}},
			{key: "X-MS-MEMBER=mailto:x@example.com", value: "mailto:x@example.com", params: map[string]string{"X-CN": `DOMAIN\name`}},
			{key: "X-P=v", value: "v", params: map[string]string{"X-Q": `a;b\c`}},
			{key: "URL=http://example.com/a", value: "http://example.com/a"},
			{key: "NOTE", value: `back\slash and \x`},
		},
	}, {
		name: "vCard 4.0 with Latin-1 bytes and a leading space in the UID",
		in:   "BEGIN:VCARD\nVERSION:4.0\nUID: urn:uuid:1\nFN:Ren\xe9 Fran\xe7ois\nTITLE:\x93quoted\x94\nEND:VCARD\n",
		wants: []want{
			{key: "FN", value: "René François"},
			{key: "TITLE", value: "“quoted”"},
		},
	}, {
		name: "mixed UTF-8 and Latin-1 on one line, UTF-8 labelled ISO-8859-1",
		in:   "BEGIN:VCARD\nVERSION:2.1\nUID:mixed\nFN:J\xc3\xbcrgen M\xfcller\nNOTE;CHARSET=ISO-8859-1:Gr\xc3\xbc\xc3\x9fe\nTITLE;CHARSET=ISO-8859-1:Gr\xfc\xdfe\nEND:VCARD\n",
		wants: []want{
			{key: "FN", value: "Jürgen Müller"},
			{key: "NOTE", value: "Grüße"},
			{key: "TITLE", value: "Grüße"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fi := ReadVCFFile(crlf(tt.in))
			if len(fi.Problems) > 0 || !fi.Complete || len(fi.Docs) != 1 {
				t.Fatalf("ReadVCFFile: %d docs, problems %v, complete %v", len(fi.Docs), fi.Problems, fi.Complete)
			}
			d := fi.Docs[0]
			checkFields(t, d, tt.wants)
			for _, f := range d.Fields {
				if strings.ContainsRune(f.Value, '\uFFFD') {
					t.Errorf("%s holds U+FFFD: %q", f.Name, f.Value)
				}
			}
			checkFields(t, roundTrip(t, d), tt.wants)
		})
	}
	if d := ReadVCFFile(crlf("BEGIN:VCARD\nVERSION:4.0\nUID: urn:uuid:1\nFN:x\nEND:VCARD\n")).Docs[0]; d.UID != " urn:uuid:1" {
		t.Errorf("UID %q lost its leading space", d.UID)
	}
}

func TestICSFidelity(t *testing.T) {
	zone := `BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:STANDARD
DTSTART:19701025T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
`
	in := `BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
` + zone + `BEGIN:VEVENT
UID: leading-space
DTSTAMP;TZID=Europe/Berlin:20250101T100000
DTSTART;;VALUE=DATE:20250301
SUMMARY:Caf` + "\xe9" + ` au lait
END:VEVENT
BEGIN:VEVENT
UID:twice
DTSTAMP:20250101T000000Z
DTSTART:20250301T100000Z
SUMMARY:first
END:VEVENT
BEGIN:VEVENT
UID:twice
DTSTAMP:20250101T000000Z
DTSTART:20250302T100000Z
SUMMARY:second
END:VEVENT
BEGIN:VEVENT
UID:twice
RECURRENCE-ID:20250308T100000Z
DTSTAMP:20250101T000000Z
DTSTART:20250308T110000Z
SUMMARY:override of the first
END:VEVENT
BEGIN:VEVENT
UID:broken
this line has no colon
END:VEVENT
BEGIN:VTODO
SUMMARY:no uid
END:VTODO
END:VCALENDAR
`
	fi := ReadICSFile(crlf(in))
	if !fi.Complete {
		t.Error("not complete")
	}
	if len(fi.Problems) != 1 || fi.Problems[0].UID != "broken" || fi.Problems[0].Index != 4 {
		t.Errorf("problems %v, want the one of item 5 (broken)", fi.Problems)
	}
	if len(fi.Docs) != 4 {
		t.Fatalf("%d docs, want 4", len(fi.Docs))
	}
	d := fi.Docs[0]
	if d.UID != " leading-space" {
		t.Errorf("UID %q", d.UID)
	}
	checkFields(t, d, []want{
		{key: "DTSTART", value: "20250301", params: map[string]string{"VALUE": "DATE"}},
		{key: "SUMMARY", value: "Café au lait"},
	})
	if !strings.Contains(string(Canonical(d)), "TZID:Europe/Berlin") {
		t.Errorf("the zone DTSTAMP names was dropped:\n%s", Canonical(d))
	}
	roundTrip(t, d)
	a, b := fi.Docs[1], fi.Docs[2]
	if a.UID != "twice" || b.UID != "twice" || a.Fields["SUMMARY"].Value != "first" || b.Fields["SUMMARY"].Value != "second" {
		t.Errorf("two masters: %q %q", a.Fields["SUMMARY"].Value, b.Fields["SUMMARY"].Value)
	}
	if _, ok := a.Fields["RID=20250308T100000Z/SUMMARY"]; !ok {
		t.Error("the override did not join the first master")
	}
	if len(b.Zones) != 0 || len(a.Zones) != 0 {
		t.Error("items carry zones they do not use")
	}
	roundTrip(t, a)
	roundTrip(t, b)
	if td := fi.Docs[3]; td.UID != "" || td.Kind != KindTodo {
		t.Errorf("item without UID: %q %s", td.UID, td.Kind)
	} else {
		roundTrip(t, td)
	}
}

func TestReadFileCompleteness(t *testing.T) {
	ev := "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART:20250101T000000Z\nEND:VEVENT\n"
	card := "BEGIN:VCARD\nVERSION:3.0\nUID:c1\nFN:x\nEND:VCARD\n"
	tests := []struct {
		name     string
		ics      bool
		in       string
		docs     int
		problems int
		complete bool
	}{
		{"empty ics", true, "", 0, 0, true},
		{"blank ics", true, "\r\n \r\n", 0, 0, true},
		{"ics cut short after an item", true, ev, 1, 1, false},
		{"ics cut short inside an item", true, ev + "BEGIN:VEVENT\nUID:b\n", 1, 2, false},
		{"ics whole", true, ev + "END:VCALENDAR\n", 1, 0, true},
		{"not ics", true, "hello world\n", 0, 1, false},
		{"empty vcf", false, "", 0, 0, true},
		{"vcf whole", false, card + card, 2, 0, true},
		{"vcf cut short", false, card + "BEGIN:VCARD\nVERSION:3.0\nUID:c2\n", 1, 1, false},
		{"vcf junk between cards", false, card + "junk\n" + card, 2, 1, true},
		{"binary", false, "\x00\x01\x02\xff", 0, 1, false},
		{"two overrides of one instance", true, "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:r\nDTSTART:20250101T100000Z\nRRULE:FREQ=DAILY\nEND:VEVENT\n" +
			"BEGIN:VEVENT\nUID:r\nRECURRENCE-ID:20250102T100000Z\nSUMMARY:a\nEND:VEVENT\n" +
			"BEGIN:VEVENT\nUID:r\nRECURRENCE-ID:20250102T100000Z\nSUMMARY:b\nEND:VEVENT\nEND:VCALENDAR\n", 2, 0, true},
		{"bad zone spoils its items only", true, "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:Z\nbad line\nEND:VTIMEZONE\n" +
			"BEGIN:VEVENT\nUID:z\nDTSTART;TZID=Z:20250101T100000\nEND:VEVENT\n" +
			"BEGIN:VEVENT\nUID:u\nDTSTART:20250101T100000Z\nEND:VEVENT\nEND:VCALENDAR\n", 1, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fi FileItems
			if tt.ics {
				fi = ReadICSFile(crlf(tt.in))
			} else {
				fi = ReadVCFFile(crlf(tt.in))
			}
			if len(fi.Docs) != tt.docs || len(fi.Problems) != tt.problems || fi.Complete != tt.complete {
				t.Errorf("docs %d problems %v complete %v; want %d, %d, %v", len(fi.Docs), fi.Problems, fi.Complete, tt.docs, tt.problems, tt.complete)
			}
		})
	}
}

func FuzzReadICSFile(f *testing.F) {
	f.Add(crlf("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART;;VALUE=DATE:20250101\nEND:VEVENT\nEND:VCALENDAR\n"))
	f.Add([]byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nRECURRENCE-ID:1\r\nEND:VEVENT\r\n"))
	addForeignSeeds(f, ".ics")
	f.Fuzz(func(t *testing.T, data []byte) {
		fi := ReadICSFile(data)
		for _, d := range fi.Docs {
			if d.UID == "" {
				d = d.Clone()
				d.UID = "x"
			}
			checkCanonicalDirect(t, "fuzz", d)
			c := Canonical(d)
			d2, err := DecodeCalendar(c)
			if err != nil {
				t.Fatalf("canonical form does not decode: %v\n%s", err, c)
			}
			if d2.UID != d.UID || !SameFields(d, d2) || !bytes.Equal(Canonical(d2), c) {
				t.Fatalf("canonical form is no fixed point: %v\n%s\n---\n%s", ChangedKeys(d, d2), c, Canonical(d2))
			}
		}
	})
}

func FuzzReadVCFFile(f *testing.F) {
	f.Add(crlf("BEGIN:VCARD\nVERSION:2.1\nTEL;HOME;VOICE:1\nNOTE;ENCODING=QUOTED-PRINTABLE:a=\nb\nEND:VCARD\n"))
	f.Add(crlf("BEGIN:VCARD\nVERSION:3.0\nN:a\\;b;c,d;;;\nCATEGORIES:a\\,b\nEND:VCARD\n"))
	addForeignSeeds(f, ".vcf")
	f.Fuzz(func(t *testing.T, data []byte) {
		fi := ReadVCFFile(data)
		for _, d := range fi.Docs {
			if d.UID == "" {
				d = d.Clone()
				d.UID = "x"
			}
			c := Canonical(d)
			d2, err := DecodeVCard(c)
			if err != nil {
				t.Fatalf("canonical form does not decode: %v\n%s", err, c)
			}
			if d2.UID != d.UID || !SameFields(d, d2) || !bytes.Equal(Canonical(d2), c) {
				t.Fatalf("canonical form is no fixed point: %v\n%s\n---\n%s", ChangedKeys(d, d2), c, Canonical(d2))
			}
		}
	})
}

func TestParseObjectMessage(t *testing.T) {
	d := FromMessage("<a@b>", "abc123", "Inbox/Sub", 0)
	d.Fields[msgFlag+"SEEN"] = Field{Name: "FLAG", Value: "SEEN"}
	got, err := ParseObject(Canonical(d), KindMessage)
	if err != nil || got.UID != d.UID || !SameFields(d, got) {
		t.Fatalf("message record round trip: %v %v", err, ChangedKeys(d, got))
	}
	if _, err := ParseObject([]byte("FOLDER:x\r\n"), KindMessage); err == nil {
		t.Error("a record without UID decoded")
	}
	if _, err := ParseObject(nil, "nonsense"); err == nil {
		t.Error("unknown kind decoded")
	}
}

// addForeignSeeds seeds a fuzz target with the foreign test data.
func addForeignSeeds(f *testing.F, ext string) {
	paths, _ := filepath.Glob("testdata/foreign/*/*" + ext)
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
}
