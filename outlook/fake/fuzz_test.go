package fake_test

import (
	"bytes"

	"context"
	"github.com/emersion/go-ical"
	"github.com/pstsync/pstsync/sink"
	"testing"
	"time"

	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/outlook"
	"github.com/pstsync/pstsync/outlook/fake"
)

// FuzzCalendarThroughOutlook feeds arbitrary calendars (as a store or a
// colleague could hand them over) through FromDoc, the fake Outlook and
// back: no panic, and an item Outlook accepts converts back.
func FuzzCalendarThroughOutlook(f *testing.F) {
	set, err := outlook.SelftestSet(time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC))
	if err != nil {
		f.Fatal(err)
	}
	for _, x := range set[:3] {
		c, err := merge.ToCalendar(x.Doc)
		if err != nil {
			f.Fatal(err)
		}
		var b []byte
		b, err = encode(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20260101\r\nRRULE:FREQ=YEARLY;BYDAY=2MO;BYMONTH=3;INTERVAL=0\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := merge.DecodeCalendar(data)
		if err != nil {
			return
		}
		w, err := outlook.FromDoc(d)
		if err != nil {
			return
		}
		o := fake.New()
		ctx := context.Background()
		e, err := o.Write(ctx, outlook.FolderRef{Kind: outlook.Calendar}, "", w)
		if err != nil {
			return
		}
		it, err := o.Read(ctx, outlook.FolderRef{Kind: outlook.Calendar}, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := outlook.ToDoc(it); err != nil {
			t.Fatalf("accepted item does not convert back: %v", err)
		}
	})
}

func encode(c *ical.Calendar) ([]byte, error) {
	var b bytes.Buffer
	err := sink.EncodeICS(&b, c)
	return b.Bytes(), err
}
