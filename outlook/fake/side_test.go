package fake_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pstsync/pstsync/outlook"
	"github.com/pstsync/pstsync/outlook/fake"
)

// TestSide runs the sync-facing helpers against the fake: deliver, read
// back unchanged by marker, a private item never overwritten or deleted,
// a failed read makes the folder incomplete, a blocked Outlook stops.
func TestSide(t *testing.T) {
	ctx := context.Background()
	o := fake.New()
	cal := outlook.FolderRef{Kind: outlook.Calendar}
	set, err := outlook.SelftestSet(time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	series, private := set[0].Doc, set[2].Doc
	e1, err := outlook.Deliver(ctx, o, cal, "", series)
	if err != nil {
		t.Fatal(err)
	}
	e2, err := outlook.Deliver(ctx, o, cal, "", private)
	if err != nil {
		t.Fatal(err)
	}
	delivered := map[string]outlook.Entry{outlook.Key(e1): e1, outlook.Key(e2): e2}
	unchanged := func(e outlook.Entry) bool {
		d, ok := delivered[outlook.Key(e)]
		return ok && d.Modified.Equal(e.Modified) && d.ChangeKey == e.ChangeKey
	}
	items, complete, errs, err := outlook.ReadFolder(ctx, o, cal, unchanged)
	if err != nil || !complete || len(errs) > 0 || len(items) != 2 || items[0].Doc != nil || items[1].Doc != nil {
		t.Fatalf("read after delivery: %+v %v %v %v", items, complete, errs, err)
	}
	// The private item stays as its owner has it.
	if _, err := outlook.Deliver(ctx, o, cal, outlook.Key(e2), series); !errors.Is(err, outlook.ErrPrivateKept) {
		t.Errorf("overwriting a private item: %v", err)
	}
	if err := outlook.Remove(ctx, o, cal, outlook.Key(e2)); !errors.Is(err, outlook.ErrPrivateKept) {
		t.Errorf("deleting a private item: %v", err)
	}
	// A changed item is read and converted; the pstsync UID comes back.
	if _, err := outlook.Deliver(ctx, o, cal, outlook.Key(e1), series); err != nil {
		t.Fatal(err)
	}
	items, _, _, _ = outlook.ReadFolder(ctx, o, cal, unchanged)
	var got []string
	for _, it := range items {
		if it.Doc != nil {
			got = append(got, it.Doc.UID)
		}
	}
	if len(got) != 1 || got[0] != series.UID {
		t.Errorf("changed items read: %v", got)
	}
	// A read that fails leaves the folder incomplete.
	o.Fail = func(op string) error {
		if op == "Read" {
			return errors.New("MAPI_E_CORRUPT_DATA")
		}
		return nil
	}
	if _, complete, errs, err := outlook.ReadFolder(ctx, o, cal, nil); err != nil || complete || len(errs) != 2 {
		t.Errorf("failed reads: complete %v, %d errors, %v", complete, len(errs), err)
	}
	o.Fail = func(op string) error {
		if op == "Read" {
			return outlook.ErrBlocked
		}
		return nil
	}
	if _, _, _, err := outlook.ReadFolder(ctx, o, cal, nil); !errors.Is(err, outlook.ErrBlocked) {
		t.Errorf("blocked: %v", err)
	}
	o.Fail = nil
	if err := outlook.Remove(ctx, o, cal, outlook.Key(e1)); err != nil {
		t.Fatal(err)
	}
	if err := outlook.Remove(ctx, o, cal, outlook.Key(e1)); err != nil {
		t.Errorf("removing an item already gone: %v", err)
	}
	if d := o.Deleted(fake.DefaultStore); len(d) != 1 {
		t.Errorf("Deleted Items: %v", d)
	}
}
