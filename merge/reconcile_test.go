package merge

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// rc builds ReconcileInputs for one calendar item "E" from docs.
type rc struct {
	docs map[string]*Doc
}

func (r *rc) h(d *Doc) string {
	if d == nil {
		return ""
	}
	h := Hash(d)
	r.docs[h] = d
	return h
}

func ev(kv ...string) *Doc {
	return mk("E", KindEvent, append([]string{"DTSTART:20250301T100000Z"}, kv...)...)
}

var kE = Key{Coll: "calendar", UID: "E"}

// TestReconcile applies the rules of the round trip to one item: S the
// user's version now, T the shared one, D delivered, U seen.
func TestReconcile(t *testing.T) {
	base := ev("SUMMARY:Lunch", "LOCATION:Room 1")
	tests := []struct {
		name       string
		S, T, D, U *Doc
		unchanged  bool // S is reported unchanged (no Doc)
		unclean    bool // S's source was not read cleanly
		untrusted  bool
		private    bool
		lossy      bool
		// want
		put       *Doc // the shared item after (nil: no change)
		deleted   bool
		conflicts []string // "kind field"
		copies    int
		noOpinion bool
	}{
		{name: "rule 1: S equals U, T changed: no opinion", S: base, U: base, D: base, T: ev("SUMMARY:Lunch", "LOCATION:Room 2"), unchanged: true},
		{name: "rule 2: an echo of the delivery has no opinion", S: ev("SUMMARY:Lunch", "LOCATION:Room 2"), D: ev("SUMMARY:Lunch", "LOCATION:Room 2"),
			U: base, T: ev("SUMMARY:Lunch at noon", "LOCATION:Room 2")},
		{name: "rule 2: fields a lossy client never kept count as unchanged", S: ev("SUMMARY:Lunch"), U: ev("SUMMARY:Old"), lossy: true,
			D: ev("SUMMARY:Lunch", "X-ALT-DESC:<b>x</b>"), T: ev("SUMMARY:Lunch", "X-ALT-DESC:<b>y</b>")},
		{name: "rule 3: a field removed from a file is removed, even one the user's older version lacked", S: ev("SUMMARY:Lunch"), U: ev("SUMMARY:Old"),
			D: ev("SUMMARY:Lunch", "LOCATION:Room 1"), T: ev("SUMMARY:Lunch", "LOCATION:Room 1"), put: ev("SUMMARY:Lunch")},
		{name: "rule 3: imported and edited, base is D: different fields combine", S: ev("SUMMARY:Lunch", "LOCATION:Room 9"),
			D: base, U: ev("SUMMARY:Lunch old"), T: ev("SUMMARY:Lunch at noon", "LOCATION:Room 1"),
			put: ev("SUMMARY:Lunch at noon", "LOCATION:Room 9")},
		{name: "rule 3: unlinked import (no U) edited: base is D, no conflict", S: ev("SUMMARY:Lunch", "LOCATION:Room 9"),
			D: base, T: ev("SUMMARY:Lunch at noon", "LOCATION:Room 1"),
			put: ev("SUMMARY:Lunch at noon", "LOCATION:Room 9")},
		{name: "rule 3: own version edited without importing: base is U", S: ev("SUMMARY:Lunch", "LOCATION:Room 9"),
			U: ev("SUMMARY:Lunch", "LOCATION:Room 1"), D: ev("SUMMARY:Lunch at one", "LOCATION:Room 1"), T: ev("SUMMARY:Lunch at one", "LOCATION:Room 1"),
			put: ev("SUMMARY:Lunch at one", "LOCATION:Room 9")},
		{name: "rule 3: same field changed differently: conflict, both kept", S: ev("SUMMARY:Lunch at noon", "LOCATION:Room 1"),
			D: base, U: base, T: ev("SUMMARY:Lunch at one", "LOCATION:Room 1"),
			put: ev("SUMMARY:Lunch at noon", "LOCATION:Room 1"), conflicts: []string{"field SUMMARY"}, copies: 1},
		{name: "rule 4: deleted from a clean source, T is U: deleted", U: base, D: base, T: base, deleted: true},
		{name: "rule 4: deleted, T edited by another: delete versus edit, recorded", U: base, D: base,
			T: ev("SUMMARY:Lunch (moved)", "LOCATION:Room 1"), conflicts: []string{"delete-modify SUMMARY"}},
		{name: "rule 4: deleted, T was delivered but the user had another version: kept, recorded", U: ev("SUMMARY:Lunch old"), D: base,
			T: base, conflicts: []string{"delete-modify LOCATION", "delete-modify SUMMARY"}},
		{name: "rule 4: deleted, T delivered holds all of U and more (fields a lossy client cannot keep): deleted", U: ev("SUMMARY:Lunch"), D: base,
			T: base, deleted: true, lossy: true},
		{name: "rule 5: absent from an unclean source: no opinion", U: base, D: base, T: base, unclean: true, noOpinion: true},
		{name: "lost state: absent never deletes", U: base, D: base, T: base, untrusted: true},
		{name: "rule 6: a new item is added", S: base, put: base},
		{name: "deleted on the shared side while edited: comes back, recorded", S: ev("SUMMARY:Lunch", "LOCATION:Room 9"), U: base, D: base,
			put: ev("SUMMARY:Lunch", "LOCATION:Room 9"), conflicts: []string{"delete-modify LOCATION"}},
		{name: "private: shared as busy time only", S: ev("SUMMARY:Doctor", "LOCATION:Clinic", "CLASS:PRIVATE", "DESCRIPTION:x"), private: true,
			put: ev("SUMMARY:"+PrivateTitle, "CLASS:PRIVATE")},
		{name: "private: an edit of the description changes nothing shared", S: ev("SUMMARY:Doctor", "CLASS:PRIVATE", "DESCRIPTION:y"),
			U: ev("SUMMARY:Doctor", "CLASS:PRIVATE", "DESCRIPTION:x"), D: ev("SUMMARY:Doctor", "CLASS:PRIVATE", "DESCRIPTION:x"),
			T: ev("SUMMARY:"+PrivateTitle, "CLASS:PRIVATE"), private: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &rc{docs: map[string]*Doc{}}
			in := &ReconcileInput{User: "ann", Now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Latest: map[Key]string{},
				Docs: r.docs, Clean: map[string]bool{"e.ics": !tc.unclean}, State: map[Key]ItemState{}, Trusted: !tc.untrusted,
				Editors: map[Key]string{kE: "bob"}, Lossy: tc.lossy}
			if tc.T != nil {
				in.Latest[kE] = r.h(tc.T)
			}
			if tc.D != nil || tc.U != nil {
				in.State[kE] = ItemState{Delivered: r.h(tc.D), Seen: r.h(tc.U), Source: "e.ics", Private: tc.private && tc.U != nil}
			}
			if tc.S != nil {
				si := SideItem{Key: kE, Source: "e.ics", Hash: r.h(tc.S), Doc: tc.S, Private: tc.private}
				if tc.unchanged {
					si.Doc = nil
				}
				in.Side = []SideItem{si}
			}
			p := Reconcile(in)
			got := p.Put[kE]
			switch {
			case tc.put == nil && got != nil:
				t.Errorf("shared item changed to %v, want no change", got.Fields)
			case tc.put != nil && (got == nil || !SameFields(got, tc.put)):
				t.Errorf("shared item %v, want %v", fieldsOf(got), tc.put.Fields)
			}
			if del := slices.Contains(p.Delete, kE); del != tc.deleted {
				t.Errorf("deleted %v, want %v", del, tc.deleted)
			}
			var cs []string
			for _, c := range p.Conflicts {
				cs = append(cs, string(c.Kind)+" "+c.Field)
				if c.Collection != "calendar" || c.UID != "E" || c.OursBy != "ann" {
					t.Errorf("conflict not labelled: %+v", c)
				}
			}
			if strings.Join(cs, ",") != strings.Join(tc.conflicts, ",") {
				t.Errorf("conflicts %v, want %v", cs, tc.conflicts)
			}
			if len(p.Copies) != tc.copies {
				t.Errorf("%d copies, want %d", len(p.Copies), tc.copies)
			}
			if no := slices.Contains(p.NoOpinion, kE); no != tc.noOpinion {
				t.Errorf("no opinion %v, want %v", no, tc.noOpinion)
			}
			// The state: what is delivered is the view; the user's own
			// version of a private item is delivered back to them.
			st := p.State[kE]
			if tc.S != nil && st.Seen != Hash(tc.S) {
				t.Errorf("seen %q, want the user's version", st.Seen)
			}
			if tc.private && tc.S != nil && st.Delivered != Hash(tc.S) {
				t.Errorf("the owner of a private item is delivered %q, not their own version", st.Delivered)
			}
			if h, ok := p.Deliver[kE]; ok && !tc.private {
				want := in.Latest[kE]
				if got != nil {
					want = Hash(got)
				}
				if h != want {
					t.Errorf("delivered %s, want %s", h, want)
				}
			}
		})
	}
}

func fieldsOf(d *Doc) any {
	if d == nil {
		return nil
	}
	return d.Fields
}

// TestReconcileQuiet: a second reconcile with the state the first one
// returned, nothing edited, changes nothing.
func TestReconcileQuiet(t *testing.T) {
	r := &rc{docs: map[string]*Doc{}}
	S := ev("SUMMARY:Lunch")
	in := &ReconcileInput{User: "ann", Latest: map[Key]string{}, Docs: r.docs, Clean: map[string]bool{"e.ics": true},
		Trusted: true, Side: []SideItem{{Key: kE, Source: "e.ics", Hash: r.h(S), Doc: S}}}
	p := Reconcile(in)
	if len(p.Put) != 1 {
		t.Fatalf("first run: %+v", p)
	}
	in2 := &ReconcileInput{User: "ann", Latest: map[Key]string{kE: r.h(p.Put[kE])}, Docs: r.docs, Clean: in.Clean,
		Trusted: true, State: p.State, Side: []SideItem{{Key: kE, Source: "e.ics", Hash: r.h(S), Doc: S}}}
	p2 := Reconcile(in2)
	if !p2.Empty() || len(p2.Conflicts) != 0 {
		t.Fatalf("quiet run changed: %+v", p2)
	}
	if p2.State[kE] != p.State[kE] {
		t.Fatalf("quiet run changed the state: %+v vs %+v", p2.State[kE], p.State[kE])
	}
}

// TestRedact: a private event keeps only its busy time.
func TestRedact(t *testing.T) {
	d := parseICS(t, `BEGIN:VCALENDAR
VERSION:2.0
PRODID:x
BEGIN:VEVENT
UID:P
DTSTART:20250301T100000Z
DTEND:20250301T110000Z
RRULE:FREQ=WEEKLY
SUMMARY:Doctor
DESCRIPTION:blood test
LOCATION:Clinic
CLASS:CONFIDENTIAL
ATTENDEE:mailto:doc@example.com
CATEGORIES:health
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:-PT15M
END:VALARM
END:VEVENT
BEGIN:VEVENT
UID:P
RECURRENCE-ID:20250308T100000Z
DTSTART:20250308T120000Z
SUMMARY:Doctor (moved)
LOCATION:Other clinic
END:VEVENT
END:VCALENDAR`)
	if !IsPrivate(d) {
		t.Fatal("CLASS:CONFIDENTIAL is private")
	}
	text := string(Canonical(Redact(d)))
	for _, leak := range []string{"Doctor", "blood", "Clinic", "doc@example.com", "health", "VALARM"} {
		if strings.Contains(text, leak) {
			t.Errorf("redacted item holds %q:\n%s", leak, text)
		}
	}
	for _, keep := range []string{"DTSTART:20250301T100000Z", "DTEND:20250301T110000Z", "RRULE:FREQ=WEEKLY", "RECURRENCE-ID:20250308T100000Z",
		"DTSTART:20250308T120000Z", "SUMMARY:" + PrivateTitle} {
		if !strings.Contains(text, keep) {
			t.Errorf("redacted item lacks %q:\n%s", keep, text)
		}
	}
}

// TestConflictCopyOverrideOnly: a conflict copy of an item holding only
// overrides gets no made-up master.
func TestConflictCopyOverrideOnly(t *testing.T) {
	d := mk("E", KindEvent, "RID=20250308T100000Z/RECURRENCE-ID:20250308T100000Z", "RID=20250308T100000Z/DTSTART:20250308T120000Z",
		"RID=20250308T100000Z/SUMMARY:Moved")
	cp := conflictCopy(d, "bob")
	if hasMasterFields(cp) {
		t.Fatalf("copy has master fields: %v", cp.Fields)
	}
	if got := cp.Fields["RID=20250308T100000Z/SUMMARY"].Value; !strings.Contains(got, "conflict copy from bob") {
		t.Fatalf("override summary %q", got)
	}
}

// TestReadFilesLenient: one bad item is a problem, not an error for the
// file; a file cut short is not complete.
func TestReadFilesLenient(t *testing.T) {
	good := "BEGIN:VEVENT\r\nUID:A\r\nDTSTART:20250301T100000Z\r\nSUMMARY:A\r\nEND:VEVENT\r\n"
	twoMasters := good + "BEGIN:VEVENT\r\nUID:A\r\nDTSTART:20250302T100000Z\r\nSUMMARY:A2\r\nEND:VEVENT\r\n"
	cal := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" + twoMasters + "END:VCALENDAR\r\n"
	fi := ReadICSFile([]byte(cal))
	if !fi.Complete || len(fi.Docs) != 2 || len(fi.Problems) != 0 {
		t.Fatalf("two masters: %+v", fi)
	}
	fi = ReadICSFile([]byte(cal[:len(cal)-len("END:VCALENDAR\r\n")]))
	if fi.Complete {
		t.Fatalf("a file without END:VCALENDAR is complete: %+v", fi)
	}
	noUID := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nDTSTART:20250301T100000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	fi = ReadICSFile([]byte(noUID))
	if len(fi.Docs) != 1 || fi.Docs[0].UID != "" {
		t.Fatalf("item without UID: %+v", fi)
	}
	vcf := "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:C1\r\nFN:Ann\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nUID:C2\r\nFN:Bob\r\n"
	fi = ReadVCFFile([]byte(vcf))
	if fi.Complete {
		t.Fatalf("a card without END:VCARD: %+v", fi)
	}
}

// FuzzReadFiles: the file readers never panic, whatever the bytes.
func FuzzReadFiles(f *testing.F) {
	f.Add([]byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	f.Add([]byte("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:a\r\nEND:VCARD\r\n"))
	f.Add([]byte("BEGIN:VCALENDAR\r\nDTSTART;;VALUE=DATE:2025\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, fi := range []FileItems{ReadICSFile(data), ReadVCFFile(data)} {
			for _, d := range fi.Docs {
				if d == nil {
					t.Fatal("nil doc")
				}
			}
		}
	})
}

// TestReconcileCopyUIDTaken: a conflict copy whose derived UID names an
// existing item (an earlier copy of the same version, edited since) never
// overwrites it; the new copy takes a fresh UID. (It replaces the saved
// failing history of the earlier model test.)
func TestReconcileCopyUIDTaken(t *testing.T) {
	r := &rc{docs: map[string]*Doc{}}
	base := ev("SUMMARY:Lunch")
	T := ev("SUMMARY:Lunch at one")
	S := ev("SUMMARY:Lunch at noon")
	cp := conflictCopy(T, "bob")
	edited := cp.Clone()
	edited.Fields["LOCATION"] = Field{Name: "LOCATION", Value: "Room 3"}
	kc := Key{Coll: "calendar", UID: cp.UID}
	in := &ReconcileInput{User: "ann", Latest: map[Key]string{kE: r.h(T), kc: r.h(edited)}, Docs: r.docs,
		Clean: map[string]bool{"e.ics": true}, Trusted: true, Editors: map[Key]string{kE: "bob"},
		State: map[Key]ItemState{kE: {Delivered: r.h(base), Seen: r.h(base), Source: "e.ics"}},
		Side:  []SideItem{{Key: kE, Source: "e.ics", Hash: r.h(S), Doc: S}}}
	p := Reconcile(in)
	if _, ok := p.Put[kc]; ok {
		t.Fatal("the existing copy was overwritten")
	}
	if len(p.Copies) != 1 || p.Copies[0] == kc || !strings.HasPrefix(p.Copies[0].UID, cp.UID+"-") {
		t.Fatalf("copies %v", p.Copies)
	}
	if len(p.Conflicts) != 1 || p.Conflicts[0].Copy != p.Copies[0].UID {
		t.Fatalf("conflict does not name the new copy: %+v", p.Conflicts)
	}
}

// TestReconcilePrivateBase: a colleague's change to the busy copy of a
// private item and the owner's later change of its time combine (the base
// is the busy time shared at the owner's last sync).
func TestReconcilePrivateBase(t *testing.T) {
	r := &rc{docs: map[string]*Doc{}}
	own := ev("SUMMARY:Doctor", "CLASS:PRIVATE", "DTEND:20250301T110000Z")
	busy := Redact(own)
	edited := busy.Clone()
	edited.Fields["TRANSP"] = Field{Name: "TRANSP", Value: "TRANSPARENT"} // a colleague's change
	moved := ev("SUMMARY:Doctor", "CLASS:PRIVATE", "DTEND:20250301T120000Z")
	in := &ReconcileInput{User: "ann", Latest: map[Key]string{kE: r.h(edited)}, Base: map[Key]string{kE: r.h(busy)}, Docs: r.docs,
		Clean: map[string]bool{"e.ics": true}, Trusted: true,
		State: map[Key]ItemState{kE: {Delivered: Hash(own), Seen: Hash(own), Source: "e.ics", Private: true}},
		Side:  []SideItem{{Key: kE, Source: "e.ics", Hash: r.h(moved), Doc: moved, Private: true}}}
	p := Reconcile(in)
	got := p.Put[kE]
	if got == nil || got.Fields["TRANSP"].Value != "TRANSPARENT" || got.Fields["DTEND"].Value != "20250301T120000Z" || len(p.Conflicts) != 0 {
		t.Fatalf("merged %v, conflicts %v", fieldsOf(got), p.Conflicts)
	}
	if strings.Contains(string(Canonical(got)), "Doctor") {
		t.Fatal("the private title was shared")
	}
}
