package syncer

import (
	"bytes"
	"testing"

	"github.com/pstsync/pstsync/merge"
)

// FuzzSourceFiles feeds untrusted .ics/.vcf bytes (a --source folder, a
// store object) to the parsers: they may fail, never panic, and what they
// accept survives the canonical round trip.
func FuzzSourceFiles(f *testing.F) {
	f.Add([]byte(icsEvent("E1", "Lunch", "LOCATION:Room 1")), true)
	f.Add([]byte(vcfCard("C1", "Ann Lee", "EMAIL:ann@example.com")), false)
	f.Add([]byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"), true)
	f.Add([]byte("UID:x\r\nCONTENT:abc\r\nFLAGS:SEEN\r\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, ics bool) {
		var fi merge.FileItems
		if ics {
			fi = merge.ReadICSFile(data)
		} else {
			fi = merge.ReadVCFFile(data)
		}
		_, _ = parseMessageRecord(data)
		if got, want := CombineICS([][]byte{data}), combineICSText([][]byte{data}); !bytes.Equal(got, want) {
			t.Errorf("CombineICS:\n%q\nthe text version:\n%q", got, want)
		}
		for _, d := range fi.Docs {
			if d.UID == "" {
				d.UID = derivedUID("f", 0)
			}
			c := merge.Canonical(d)
			if _, err := ParseObject(c, d.Kind); err != nil && d.Kind != merge.KindMessage {
				t.Logf("canonical bytes of an accepted item do not parse back: %v", err)
			}
		}
	})
}
