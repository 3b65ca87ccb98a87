package snapshot

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/pstsync/pstsync/sink/memstore"
)

// TestHeadOmitsManyChanges: a revision of more changes than the head
// repeats is opened without reading it (a sync that changes nothing never
// needs its changes); Header and Manifest still give them.
func TestHeadOmitsManyChanges(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	r := openRepo(t, s)
	its := items{"calendar": {}}
	for i := range maxHeadChanges + 10 {
		its["calendar"][fmt.Sprintf("u%04d", i)] = fmt.Sprintf("event %d", i)
	}
	m1 := commit(t, r, 0, alice, its)
	if len(m1.Changes) != maxHeadChanges+10 {
		t.Fatalf("revision 1 has %d changes", len(m1.Changes))
	}

	var gets []string
	s.Fault = func(op memstore.Op, key string) error {
		if op == memstore.OpGet {
			gets = append(gets, key)
		}
		return nil
	}
	r2 := openRepo(t, s)
	latest, err := r2.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range gets {
		if k == RevisionKey(1) {
			t.Errorf("opening read %s: %v", k, gets)
		}
	}
	if !latest.ChangesOmitted || latest.Changes != nil || latest.Items() != maxHeadChanges+10 {
		t.Errorf("Latest: omitted %v, %d changes, %d items", latest.ChangesOmitted, len(latest.Changes), latest.Items())
	}
	h, err := r2.Header(ctx, 1)
	if err != nil || h.ChangesOmitted || !reflect.DeepEqual(h.Changes, m1.Changes) {
		t.Errorf("Header(1): %v, omitted %v, %d changes", err, h.ChangesOmitted, len(h.Changes))
	}
	m, err := r2.Manifest(ctx, 1)
	if err != nil || m.ChangesOmitted || !reflect.DeepEqual(m.Changes, m1.Changes) {
		t.Errorf("Manifest(1): %v, omitted %v, %d changes", err, m.ChangesOmitted, len(m.Changes))
	}
	// A commit on top writes a head as usual.
	its["calendar"]["u0000"] = "changed"
	m2 := commit(t, r2, 1, alice, its)
	r3 := openRepo(t, s)
	latest, err = r3.Latest(ctx)
	if err != nil || latest.Rev != 2 || latest.ChangesOmitted || !reflect.DeepEqual(latest.Changes, m2.Changes) {
		t.Errorf("after a commit: %v, rev %d, omitted %v, changes %v", err, latest.Rev, latest.ChangesOmitted, latest.Changes)
	}
}
