package snapshot

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

// history commits n revisions, one every step, each changing one of 20
// items (a new object each time), with checkpoints every cp changed items.
func history(t *testing.T, r *Repo, n int, step time.Duration) {
	t.Helper()
	ctx := context.Background()
	for i := 1; i <= n; i++ {
		latest, err := r.Latest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cols := map[string]map[string]Entry{"calendar": {}}
		var parent int64
		if latest != nil {
			cols, parent = latest.Collections, latest.Rev
		}
		uid := fmt.Sprintf("e%d", i%20)
		h, err := r.PutObject(ctx, fmt.Appendf(nil, "BEGIN:VEVENT\r\nUID:%s\r\nSUMMARY:v%d\r\nEND:VEVENT\r\n", uid, i))
		if err != nil {
			t.Fatal(err)
		}
		prev := cloneColls(cols)
		cols["calendar"][uid] = Entry{Hash: h, Kind: "event", Title: fmt.Sprintf("v%d", i)}
		m := &Manifest{Parent: parent, Author: alice, Time: t0.Add(time.Duration(i) * step), Collections: cols,
			Changes: Diff(prev, cols, "alice")}
		if _, err := r.Commit(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	r := openRepo(t, s, CheckpointEvery(7))
	// 400 revisions, one every 12 hours: 200 days.
	history(t, r, 400, 12*time.Hour)
	before := map[int64]*Manifest{}
	for rev := int64(1); rev <= 400; rev++ {
		m, err := r.Manifest(ctx, rev)
		if err != nil {
			t.Fatal(err)
		}
		before[rev] = m
	}
	// bob last synced revision 10: it stays.
	if _, err := r.SaveState(ctx, "bob", &UserState{User: "bob", BaseRev: 10, Updated: t0}, ""); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(400 * 12 * time.Hour)
	res, err := r.Prune(ctx, Policy{Within: 7 * 24 * time.Hour, Daily: 30, Monthly: -1}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Removed) == 0 || res.ObjectsDeleted == 0 {
		t.Fatalf("nothing pruned: %+v", res)
	}
	r2 := openRepo(t, s)
	revs, _ := r2.Revisions(ctx)
	kept := map[int64]bool{}
	for _, rev := range revs {
		kept[rev] = true
		m, err := r2.Manifest(ctx, rev)
		if err != nil {
			t.Fatalf("Manifest(%d) after prune: %v", rev, err)
		}
		if !reflect.DeepEqual(m.Collections, before[rev].Collections) {
			t.Errorf("revision %d changed by prune", rev)
		}
		for _, items := range m.Collections {
			for _, e := range items {
				if _, err := r2.GetObject(ctx, e.Hash); err != nil {
					t.Errorf("revision %d: %v", rev, err)
				}
			}
		}
	}
	for _, want := range []int64{400, 399, 10} { // latest, within 7 days, bob's base
		if !kept[want] {
			t.Errorf("revision %d removed", want)
		}
	}
	if kept[11] || len(revs) > 14+30+7 {
		t.Errorf("kept %d revisions: %v", len(revs), revs)
	}
	probs, err := r2.Check(ctx)
	if err != nil || len(probs) > 0 {
		t.Errorf("Check after prune = %v, %v", probs, err)
	}
	log, err := r2.Log(ctx)
	if err != nil || len(log) != 400 {
		t.Fatalf("log after prune: %d entries, %v", len(log), err)
	}
	if !log[len(log)-2].Pruned || log[len(log)-2].Author != alice {
		t.Errorf("a pruned revision's log entry = %+v", log[len(log)-2])
	}
	if _, err := r2.Restore(ctx, 11, alice, now); err == nil {
		t.Error("restoring a pruned revision worked")
	}
	// Pruning again changes nothing.
	res, err = r2.Prune(ctx, Policy{Within: 7 * 24 * time.Hour, Daily: 30, Monthly: -1}, now)
	if err != nil || len(res.Removed) > 0 || res.ObjectsDeleted > 0 {
		t.Errorf("second prune = %+v, %v", res, err)
	}
}

// TestPruneWhileCommitting: writers commit while prune runs; no commit is
// lost and the store checks clean.
func TestPruneWhileCommitting(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	history(t, openRepo(t, s, CheckpointEvery(5)), 200, 24*time.Hour)
	// The first prune finds the old history's objects unreferenced; the
	// next ones, more than the grace period later (but less than that
	// apart: syncs take minutes, the grace is hours), delete them while
	// the writers commit.
	pr := openRepo(t, s)
	pol := Policy{Within: time.Hour, Daily: 3, Monthly: 1, Grace: time.Hour}
	now := t0.Add(300 * 24 * time.Hour)
	if _, err := pr.Prune(ctx, pol, now); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	const writers, each = 3, 15
	for w := range writers {
		wg.Go(func() {
			r, err := Open(ctx, s)
			if err != nil {
				t.Error(err)
				return
			}
			for i := 0; i < each; i++ {
				for {
					latest, err := r.Latest(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					h, err := r.PutObject(ctx, fmt.Appendf(nil, "w%d-%d", w, i))
					if err != nil {
						t.Error(err)
						return
					}
					m := latest
					m.Parent, m.Rev, m.Time = latest.Rev, 0, t0.Add(300*24*time.Hour)
					m.Collections["calendar"][fmt.Sprintf("w%d-%d", w, i)] = Entry{Hash: h, Kind: "event"}
					m.Changes = []Change{{Collection: "calendar", UID: fmt.Sprintf("w%d-%d", w, i), Op: OpAdd, By: "w"}}
					if _, err := r.Commit(ctx, m); err == nil {
						break
					} else if !IsConflict(err) {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	var deleted int
	for i := 1; i <= 3; i++ {
		res, err := pr.Prune(ctx, pol, now.Add(2*time.Hour+time.Duration(i)*time.Minute))
		if err != nil {
			t.Error(err)
		} else {
			deleted += res.ObjectsDeleted
		}
	}
	if deleted == 0 {
		t.Error("no object deleted while the writers committed")
	}
	wg.Wait()
	r := openRepo(t, s)
	m, err := r.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for w := range writers {
		for i := range each {
			if _, ok := m.Collections["calendar"][fmt.Sprintf("w%d-%d", w, i)]; !ok {
				t.Errorf("commit w%d-%d lost", w, i)
			}
		}
	}
	if probs, err := r.Check(ctx); err != nil || len(probs) > 0 {
		t.Errorf("Check = %v, %v", probs, err)
	}
}
