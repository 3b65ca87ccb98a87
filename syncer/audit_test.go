package syncer

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pstsync/pstsync/snapshot"
)

// TestAuditFieldsChanged: a revision's audit record names the fields
// (property names) each edit changed; an added item names none; a
// private item's record names only busy-time fields and never its title
// or a value.
func TestAuditFieldsChanged(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		before     string
		after      string
		wantFields []string
		wantTitle  string
		secrets    []string // must appear nowhere in the audit trail
	}{
		{"summary and location", "e.ics",
			icsEvent("E", "Planning", "LOCATION:Room 1", "DESCRIPTION:Agenda"),
			icsEvent("E", "Planning Q3", "LOCATION:Room 2", "DESCRIPTION:Agenda"),
			[]string{"LOCATION", "SUMMARY"}, "Planning Q3", nil},
		{"start moved, stamp changed", "e.ics",
			icsEvent("E", "Review"),
			strings.Replace(strings.Replace(icsEvent("E", "Review"), "DTSTART:20250301T100000Z", "DTSTART:20250301T090000Z", 1),
				"DTSTAMP:20250101T000000Z", "DTSTAMP:20250201T000000Z", 1),
			[]string{"DTSTART"}, "Review", nil},
		{"attendee added", "e.ics",
			icsEvent("E", "Board", "ATTENDEE:mailto:ann@example.com"),
			icsEvent("E", "Board", "ATTENDEE:mailto:ann@example.com", "ATTENDEE:mailto:bob@example.com"),
			[]string{"ATTENDEE"}, "Board", []string{"bob@example.com"}},
		{"contact phone and mail", "c.vcf",
			vcfCard("C", "Ann Lee", "TEL:+1 555 1234", "EMAIL:ann@example.com", "NOTE:x"),
			vcfCard("C", "Ann Lee", "TEL:+1 555 9876", "EMAIL:ann@example.org", "NOTE:x"),
			[]string{"EMAIL", "TEL"}, "Ann Lee", []string{"9876", "ann@example.org"}},
		{"private: busy time only", "p.ics",
			icsEvent("P", "Doctor Kowalski", "CLASS:PRIVATE", "LOCATION:Clinic Nord", "DESCRIPTION:blood test"),
			strings.Replace(icsEvent("P", "Doctor Nowak", "CLASS:PRIVATE", "LOCATION:Clinic Sud", "DESCRIPTION:x-ray"),
				"DTSTART:20250301T100000Z", "DTSTART:20250301T083000Z", 1),
			[]string{"DTSTART"}, "Private appointment",
			[]string{"Doctor", "Kowalski", "Nowak", "Clinic", "blood", "x-ray", "LOCATION", "DESCRIPTION"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			put(t, e.src("alice"), tc.file, tc.before)
			res := e.sync("alice")
			if len(res.Changes) != 1 || res.Changes[0].Op != snapshot.OpAdd || res.Changes[0].Fields != nil {
				t.Fatalf("first sync: changes %+v, want one add without fields", res.Changes)
			}
			put(t, e.src("alice"), tc.file, tc.after)
			res = e.sync("alice")
			if !res.Committed || len(res.Changes) != 1 {
				t.Fatalf("edit: committed %v, changes %+v", res.Committed, res.Changes)
			}
			if c := res.Changes[0]; c.Op != snapshot.OpModify || !slices.Equal(c.Fields, tc.wantFields) {
				t.Errorf("change = %+v, want modify of %q", c, tc.wantFields)
			}
			// the stored audit trail says the same
			events, err := e.repo.History(context.Background(), snapshot.HistoryFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 2 || !slices.Equal(events[1].Fields, tc.wantFields) || events[1].Title != tc.wantTitle ||
				events[0].Fields != nil {
				t.Fatalf("history: %+v", events)
			}
			js, err := json.Marshal(events)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.secrets {
				if strings.Contains(string(js), s) {
					t.Errorf("the audit trail reveals %q: %s", s, js)
				}
			}
		})
	}
}

// TestAuditFieldsOfAMerge: when a colleague's edit of another field is
// merged in, the revision names only what it changed in the shared item.
func TestAuditFieldsOfAMerge(t *testing.T) {
	e := newEnv(t)
	put(t, e.src("alice"), "e.ics", icsEvent("E", "Planning", "LOCATION:Room 1"))
	e.sync("alice")
	e.sync("bob")
	e.importItem("bob", Calendar, "E")
	e.sync("bob")
	put(t, e.src("alice"), "e.ics", icsEvent("E", "Planning", "LOCATION:Room 2"))
	if res := e.sync("alice"); len(res.Changes) != 1 || !slices.Equal(res.Changes[0].Fields, []string{"LOCATION"}) {
		t.Fatalf("alice's edit: %+v", res.Changes)
	}
	put(t, e.src("bob"), "imported-E.ics", icsEvent("E", "Planning Q3", "LOCATION:Room 1"))
	res := e.sync("bob")
	if len(res.Changes) != 1 || !slices.Equal(res.Changes[0].Fields, []string{"SUMMARY"}) || res.Changes[0].By != "bob" {
		t.Fatalf("bob's merged edit: %+v", res.Changes)
	}
}
