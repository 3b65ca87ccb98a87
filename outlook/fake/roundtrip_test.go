package fake_test

import (
	"context"
	"testing"
	"time"

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
