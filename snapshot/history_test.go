package snapshot

import (
	"context"
	"testing"
	"time"
)

// TestHistoryThroughPrune: the audit trail of an item lists every change,
// those of pruned revisions from their audit records, with titles, after
// prune deleted the objects; Since filters by time.
func TestHistoryThroughPrune(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, newMemStore(), CheckpointEvery(7))
	// 60 revisions, one a day; item e5 changes in revisions 5, 25, 45
	history(t, r, 60, 24*time.Hour)
	all, err := r.History(ctx, HistoryFilter{UID: "e5"})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].Op != OpAdd || all[0].Title != "v5" || all[2].Title != "v45" || all[0].User != "alice" {
		t.Fatalf("before prune: %+v", all)
	}
	now := t0.Add(60 * 24 * time.Hour)
	if _, err := r.Prune(ctx, Policy{Within: 24 * time.Hour}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Prune(ctx, Policy{Within: 24 * time.Hour}, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Manifest(ctx, 5); err == nil {
		t.Fatal("revision 5 survived the prune")
	}
	after, err := r.History(ctx, HistoryFilter{UID: "e5"})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 3 {
		t.Fatalf("after prune: %+v", after)
	}
	for i, e := range after {
		if e.Rev != all[i].Rev || e.Title != all[i].Title || e.Op != all[i].Op || !e.Pruned {
			t.Errorf("after prune, event %d = %+v, was %+v", i, e, all[i])
		}
	}
	since, err := r.History(ctx, HistoryFilter{Since: t0.Add(40 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(since) != 21 || since[0].Rev != 40 {
		t.Fatalf("since day 40: %d events, first %+v", len(since), since[0])
	}
}
