package merge

import (
	"slices"
	"strings"
	"testing"
)

func TestChangedFields(t *testing.T) {
	edit := func(from, to string) *Doc {
		if !strings.Contains(baseEvent, from) {
			t.Fatalf("baseEvent lacks %q", from)
		}
		return parseICS(t, strings.Replace(baseEvent, from, to, 1))
	}
	base := parseICS(t, baseEvent)
	card := parseVCard(t, "BEGIN:VCARD\nVERSION:4.0\nUID:c1\nFN:Ann Smith\nTEL:+1 555 1234\nEMAIL:ann@example.com\nEND:VCARD")
	tests := []struct {
		name string
		a, b *Doc
		want []string
	}{
		{"summary and location", base, edit("SUMMARY:Team meeting\nLOCATION:Room 1", "SUMMARY:Board meeting\nLOCATION:Room 9"),
			[]string{"LOCATION", "SUMMARY"}},
		{"start", base, edit("DTSTART;TZID=Europe/Paris:20240108T100000", "DTSTART;TZID=Europe/Paris:20240108T090000"),
			[]string{"DTSTART"}},
		{"an attendee added: the name once, no address", base,
			edit("ATTENDEE;CN=Bob:mailto:bob@example.com", "ATTENDEE;CN=Bob:mailto:bob@example.com\nATTENDEE:mailto:cleo@example.com\nATTENDEE:mailto:dan@example.com"),
			[]string{"ATTENDEE"}},
		{"volatile only", base, edit("DTSTAMP:20240101T000000Z", "DTSTAMP:20250101T000000Z"), nil},
		{"same doc", base, base, nil},
		{"contact phone and mail", card,
			parseVCard(t, "BEGIN:VCARD\nVERSION:4.0\nUID:c1\nFN:Ann Smith\nTEL:+1 555 9999\nEMAIL:ann@example.org\nEND:VCARD"),
			[]string{"EMAIL", "TEL"}},
		{"contact deleted field", card,
			parseVCard(t, "BEGIN:VCARD\nVERSION:4.0\nUID:c1\nFN:Ann Smith\nTEL:+1 555 1234\nEND:VCARD"),
			[]string{"EMAIL"}},
		{"new item", nil, mk("x", KindContact, "FN:Ann", "EMAIL=a@x:a@x"), []string{"EMAIL", "FN"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ChangedFields(tc.a, tc.b)
			if !slices.Equal(got, tc.want) {
				t.Errorf("ChangedFields = %q, want %q", got, tc.want)
			}
			for _, f := range got {
				if strings.ContainsAny(f, "=@:/") {
					t.Errorf("field %q holds more than a property name", f)
				}
			}
		})
	}
}
