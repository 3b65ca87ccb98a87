package freebusy

import (
	"testing"

	"github.com/pstsync/pstsync/merge"
)

// FuzzCompute: any calendar a store holds gives a valid period list or an
// error for that event, never a panic or an endless expansion.
func FuzzCompute(f *testing.F) {
	f.Add([]byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20260101T000000Z\r\n" +
		"DTSTART;TZID=Europe/Berlin:20261130T093000\r\nDTEND;TZID=Europe/Berlin:20261130T100000\r\n" +
		"RRULE:FREQ=WEEKLY;BYDAY=MO,WE;INTERVAL=2\r\nEXDATE;TZID=Europe/Berlin:20261214T093000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	f.Add([]byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20260101T000000Z\r\n" +
		"DTSTART;VALUE=DATE:20261201\r\nRRULE:FREQ=MONTHLY;BYMONTHDAY=-1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := merge.DecodeCalendar(data)
		if err != nil {
			return
		}
		_, ps, _ := Compute([]*merge.Doc{d}, Options{Now: now})
		for i, p := range ps {
			if !p.End.After(p.Start) || i > 0 && p.Start.Before(ps[i-1].Start) {
				t.Fatalf("bad period list %v", ps)
			}
		}
	})
}
