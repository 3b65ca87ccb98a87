package fake_test

import (
	"context"
	"testing"
	"time"

	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/outlook"
	"github.com/pstsync/pstsync/outlook/fake"
)

// TestSelftestRoundTrip runs `pstsync outlook selftest`'s fixed set (a
// weekly series with a moved and a deleted occurrence, attendees,
// categories and a reminder; an all-day event; a private event in another
// zone; a contact with photo and three addresses) through the fake and
// requires every item back unchanged.
func TestSelftestRoundTrip(t *testing.T) {
	o := fake.New()
	o.Local, _ = time.LoadLocation("Europe/Berlin")
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	o.Now = func() time.Time { return now }
	res, err := outlook.Selftest(context.Background(), o, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 {
		t.Fatalf("%d results, want 4", len(res))
	}
	for _, r := range res {
		if !r.OK() {
			t.Errorf("%s: err %v, diffs:\n%v", r.Name, r.Err, r.Diffs)
		}
	}
	for _, f := range o.Folders() {
		if f != fake.DefaultStore+"/Calendar" && f != fake.DefaultStore+"/Contacts" && f != fake.DefaultStore+"/Deleted Items" {
			t.Errorf("selftest left folder %s", f)
		}
	}
}

// TestWeekStartKept: Outlook takes a series' week start from the user's
// calendar options, so WKST lives in the RRuleProperty user property; it
// comes back while the series' pattern is the one written, and goes when
// the user changes the pattern in Outlook (the pattern is then Outlook's).
// UTC times come back as UTC times.
func TestWeekStartKept(t *testing.T) {
	ctx := context.Background()
	o := fake.New()
	cal := outlook.FolderRef{Kind: outlook.Calendar}
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:wk-1\r\nDTSTAMP:20260101T000000Z\r\n" +
		"DTSTART:20260106T090000Z\r\nDTEND:20260106T100000Z\r\nSUMMARY:Fortnightly\r\n" +
		"RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	d, err := merge.DecodeCalendar([]byte(ics))
	if err != nil {
		t.Fatal(err)
	}
	w, err := outlook.FromDoc(d)
	if err != nil {
		t.Fatal(err)
	}
	e, err := o.Write(ctx, cal, "", w)
	if err != nil {
		t.Fatal(err)
	}
	back := func() *merge.Doc {
		it, err := o.Read(ctx, cal, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := outlook.ToDoc(it)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := back()
	for _, f := range []string{"RRULE", "DTSTART", "DTEND"} {
		if g, w := got.Fields[f], d.Fields[f]; !g.Equal(w) {
			t.Errorf("%s came back as %+v, want %+v", f, g, w)
		}
	}
	// The user makes it weekly on Tuesdays in Outlook (the user property
	// stays, as Outlook keeps user properties over an edit).
	w.Recurrence.DayOfWeekMask = 4
	if _, err := o.Write(ctx, cal, e.ID, w); err != nil {
		t.Fatal(err)
	}
	if got := back().Fields["RRULE"].Value; got != "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU" {
		t.Fatalf("RRULE after the user's change: %q", got)
	}
}
