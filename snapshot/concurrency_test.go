package snapshot

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/sink/memstore"
)

// runConcurrentCommits has writers each add one item of its own with the
// read-latest, commit, retry-on-conflict loop every syncer uses, each
// through its own Repo (as on separate PCs).
func runConcurrentCommits(t *testing.T, s sink.Store, writers int) {
	ctx := context.Background()
	cs := newCounting(s)
	// Widen the window between the parent check and the put-if-absent so
	// that both ways of losing occur.
	cs.beforePut = func(string) { runtime.Gosched() }
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, writers)
	conflicts := make([]int, writers)
	for i := range writers {
		wg.Go(func() {
			user := fmt.Sprintf("user%d", i)
			r, err := Open(ctx, cs)
			if err != nil {
				errs[i] = err
				return
			}
			h, err := r.PutObject(ctx, fmt.Appendf(nil, "BEGIN:VCARD\r\nFN:%s\r\nEND:VCARD\r\n", user))
			if err != nil {
				errs[i] = err
				return
			}
			<-start
			for attempt := 0; attempt < 10*writers; attempt++ {
				latest, err := r.Latest(ctx)
				if err != nil {
					errs[i] = err
					return
				}
				m := &Manifest{Author: Author{User: user, Host: "pc"}, Time: t0,
					Collections: map[string]map[string]Entry{}}
				if latest != nil {
					m = latest // our own copy
					m.Author, m.Time = Author{User: user, Host: "pc"}, t0
					m.Parent, m.Rev = latest.Rev, 0
				}
				if m.Collections["contacts"] == nil {
					m.Collections["contacts"] = map[string]Entry{}
				}
				m.Collections["contacts"]["uid-"+user] = Entry{Hash: h, Kind: "contact", Title: user}
				m.Changes = []Change{{Collection: "contacts", UID: "uid-" + user, Op: OpAdd, By: user}}
				_, err = r.Commit(ctx, m)
				if err == nil {
					return
				}
				if !IsConflict(err) {
					errs[i] = err
					return
				}
				conflicts[i]++
			}
			errs[i] = fmt.Errorf("%s: gave up after %d conflicts", user, conflicts[i])
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	r := openRepo(t, cs)
	revs, err := r.Revisions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for i := 1; i <= writers; i++ {
		want = append(want, int64(i))
	}
	if !reflect.DeepEqual(revs, want) {
		t.Fatalf("revisions = %v, want 1..%d", revs, writers)
	}
	for _, rev := range revs {
		if n := cs.putOK[RevisionKey(rev)]; n != 1 {
			t.Errorf("revision %d written %d times", rev, n)
		}
	}
	latest, err := r.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(latest.Collections["contacts"]); n != writers {
		t.Errorf("latest revision has %d items, want %d", n, writers)
	}
	for i := range writers {
		if _, ok := latest.Collections["contacts"][fmt.Sprintf("uid-user%d", i)]; !ok {
			t.Errorf("user%d's addition is lost", i)
		}
	}
	// Every revision adds exactly one item to its parent.
	for rev := int64(1); rev <= int64(writers); rev++ {
		m, err := r.Manifest(ctx, rev)
		if err != nil {
			t.Fatal(err)
		}
		if m.Items() != int(rev) || m.Parent != rev-1 || len(m.Changes) != 1 {
			t.Errorf("revision %d: %d items, parent %d, %d changes", rev, m.Items(), m.Parent, len(m.Changes))
		}
	}
	if probs, err := r.Check(ctx); err != nil || len(probs) != 0 {
		t.Errorf("Check after concurrent commits: %v, %v", probs, err)
	}
	total := 0
	for _, c := range conflicts {
		total += c
	}
	lost := cs.puts.Load() - int64(len(cs.putOK)) // every key succeeded once
	t.Logf("%d writers: %d conflicts retried, %d refused puts", writers, total, lost)
}

func TestConcurrentCommits(t *testing.T) {
	runConcurrentCommits(t, newMemStore(), 10)
}

// TestConcurrentCommitsSharedRepo: goroutines of one process sharing one
// Repo follow the same rules.
func TestConcurrentCommitsSharedRepo(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, newMemStore())
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			h, err := r.PutObject(ctx, fmt.Appendf(nil, "item %d", i))
			if err != nil {
				t.Error(err)
				return
			}
			for {
				latest, err := r.Latest(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				m := &Manifest{Author: alice, Time: t0, Collections: map[string]map[string]Entry{"c": {}}}
				if latest != nil {
					m.Parent, m.Collections = latest.Rev, latest.Collections
				}
				m.Collections["c"][fmt.Sprint(i)] = Entry{Hash: h, Kind: "event"}
				if _, err := r.Commit(ctx, m); err == nil {
					return
				} else if !IsConflict(err) {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	latest, err := r.Latest(ctx)
	if err != nil || latest.Rev != 10 || len(latest.Collections["c"]) != 10 {
		t.Fatalf("latest = rev %d with %d items, %v", latest.Rev, len(latest.Collections["c"]), err)
	}
}

// TestHeadLags: a committer that stops between its revision and the head
// (killed, or the head write failed) loses nothing: readers probe past the
// head, the next commit moves it, and check passes.
func TestHeadLags(t *testing.T) {
	ctx := context.Background()
	ms := memstore.New()
	failHead := true
	ms.Fault = func(op memstore.Op, key string) error {
		if op == memstore.OpPut && key == headKey && failHead {
			return errors.New("killed")
		}
		return nil
	}
	a := openRepo(t, ms)
	commit(t, a, 0, alice, items{"calendar": {"e1": "one"}})
	commit(t, a, 1, alice, items{"calendar": {"e1": "two", "e2": "x"}})
	if _, _, err := ms.Get(ctx, headKey); !sink.IsNotExist(err) {
		t.Fatalf("head written: %v", err)
	}
	failHead = false
	b := openRepo(t, ms)
	m, err := b.Latest(ctx)
	if err != nil || m.Rev != 2 || m.Items() != 2 {
		t.Fatalf("Latest with no head = %+v, %v", m, err)
	}
	commit(t, b, 2, alice, items{"calendar": {"e1": "three"}})
	failHead = true
	commit(t, b, 3, alice, items{"calendar": {"e1": "four"}}) // the head stays at 3
	failHead = false
	c := openRepo(t, ms)
	if m, err := c.Latest(ctx); err != nil || m.Rev != 4 || m.Collections["calendar"]["e1"].Title != "title of e1" {
		t.Fatalf("Latest past a lagging head = %+v, %v", m, err)
	}
	if _, err := c.Commit(ctx, &Manifest{Parent: 3, Author: alice, Time: t0}); !IsConflict(err) {
		t.Errorf("a commit on the head's revision, not the latest: %v", err)
	}
	if probs, err := c.Check(ctx); err != nil || len(probs) > 0 {
		t.Errorf("Check = %v, %v", probs, err)
	}
}

// TestReadsVersion1Store: a store written by an earlier release (a full
// manifest per revision, no head) opens, takes new revisions on top and
// checks clean.
func TestReadsVersion1Store(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	if _, err := s.Put(ctx, ObjectKey(HashOf([]byte("one"))), []byte("one"), sink.Cond{}); err != nil {
		t.Fatal(err)
	}
	e := Entry{Hash: HashOf([]byte("one")), Kind: "event", Title: "one"}
	for rev := int64(1); rev <= 2; rev++ {
		m := &Manifest{Rev: rev, Parent: rev - 1, Author: alice, Time: t0,
			Collections: map[string]map[string]Entry{"calendar": {fmt.Sprint("e", rev): e}, "contacts": {}}}
		data, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, RevisionKey(rev), data, sink.Cond{}); err != nil {
			t.Fatal(err)
		}
	}
	r := openRepo(t, s)
	m, err := r.Latest(ctx)
	if err != nil || m.Rev != 2 || m.Items() != 1 || m.Collections["contacts"] == nil {
		t.Fatalf("Latest of a version 1 store = %+v, %v", m, err)
	}
	commit(t, r, 2, alice, items{"calendar": {"e2": "two", "e3": "three"}})
	m, err = openRepo(t, s).Latest(ctx)
	if err != nil || m.Rev != 3 || m.Items() != 2 {
		t.Fatalf("Latest after a commit on a version 1 store = %+v, %v", m, err)
	}
	if old, err := r.Manifest(ctx, 1); err != nil || old.Collections["calendar"]["e1"] != e {
		t.Errorf("Manifest(1) = %+v, %v", old, err)
	}
	if probs, err := r.Check(ctx); err != nil || len(probs) > 0 {
		t.Errorf("Check = %v, %v", probs, err)
	}
	if _, err := r.Prune(ctx, Policy{Within: 0, Daily: 0, Monthly: 0}, t0.Add(1000*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if m, err := openRepo(t, s).Latest(ctx); err != nil || m.Rev != 3 || m.Items() != 2 {
		t.Fatalf("Latest after pruning a version 1 store = %+v, %v", m, err)
	}
	if probs, err := r.Check(ctx); err != nil || len(probs) > 0 {
		t.Errorf("Check after prune = %v, %v", probs, err)
	}
}
