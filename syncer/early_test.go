package syncer

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// countingReader is a SideReader that records the previous side it was
// asked to read against.
type countingReader struct {
	inner SideReader
	mu    sync.Mutex
	prevs []int // sources the previous side knew, per read
}

func (c *countingReader) ReadSide(ctx context.Context, prev *PrevSide) (*Side, error) {
	c.mu.Lock()
	c.prevs = append(c.prevs, len(prev.Sources))
	c.mu.Unlock()
	return c.inner.ReadSide(ctx, prev)
}

// TestEarlyRead: without a local copy of the state, the side is read
// while the state loads, once; when the store has a state all the same
// (the mailbox folder was emptied), that read is dropped and the side is
// read again against the state, so that its rules hold: here a newly
// empty file, which a read without a state would take for a clean, empty
// one (deleting its items).
func TestEarlyRead(t *testing.T) {
	e := newEnv(t)
	put(t, e.src("alice"), "cal.ics", icsEvent("a1@x", "One")+icsEvent("a2@x", "Two"))
	sync := func() (*Result, []int) {
		t.Helper()
		o := e.opts("alice")
		cr := &countingReader{inner: &FolderReader{Dir: o.Source, MaxFileSize: DefaultMaxFileSize}}
		o.Source, o.PST, o.pstReader = "", "unused.pst", cr
		res, err := Sync(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		return res, cr.prevs
	}
	res, reads := sync()
	if res.Added != 2 || len(reads) != 1 || reads[0] != 0 {
		t.Fatalf("first sync: added %d, reads %v; want 2 added in one read without a state", res.Added, reads)
	}
	if _, reads = sync(); len(reads) != 1 || reads[0] != 1 {
		t.Fatalf("second sync: reads %v, want one against the state", reads)
	}
	// The mailbox folder is gone (its local copy of the state with it),
	// and the file was emptied.
	if err := os.RemoveAll(e.mailbox("alice")); err != nil {
		t.Fatal(err)
	}
	put(t, e.src("alice"), "cal.ics", "")
	res, reads = sync()
	if len(reads) != 2 || reads[0] != 0 || reads[1] != 1 {
		t.Fatalf("sync without a local state: reads %v, want an early one dropped and one against the state", reads)
	}
	if res.Deleted != 0 || len(e.latest().Collections[Calendar]) != 2 {
		t.Fatalf("deleted %d: a newly empty file must not delete its items", res.Deleted)
	}
	if _, err := os.Stat(filepath.Join(e.mailbox("alice"), "calendar", FileName("a1@x")+".ics")); err != nil {
		t.Fatalf("mailbox not written again: %v", err)
	}
}

// TestFirstSyncStoresEarly: a user's first sync stores the items read
// while it merges; a dry run stores nothing, and what a real run stores is
// what its revision refers to.
func TestFirstSyncStoresEarly(t *testing.T) {
	e := newEnv(t)
	put(t, e.src("alice"), "a.ics", icsEvent("a1@x", "One"))
	put(t, e.src("alice"), "b.ics", icsEvent("a2@x", "Two"))
	put(t, e.src("alice"), "c.vcf", vcfCard("c1", "Carl"))
	ctx := context.Background()
	o := e.opts("alice")
	o.DryRun = true
	if _, err := Sync(ctx, o); err != nil {
		t.Fatal(err)
	}
	if keys, err := e.store.List(ctx, ""); err != nil || len(keys) != 0 {
		t.Fatalf("a dry run wrote %v (%v)", keys, err)
	}
	res := e.sync("alice")
	if res.Added != 3 {
		t.Fatalf("added %d, want 3", res.Added)
	}
	m := e.latest()
	for coll, items := range m.Collections {
		for uid, en := range items {
			if _, err := e.repo.GetObject(ctx, en.Hash); err != nil {
				t.Errorf("%s/%s: %v", coll, uid, err)
			}
		}
	}
	objs, err := e.store.List(ctx, "objects/")
	if err != nil {
		t.Fatal(err)
	}
	// The three items and the revision's tree.
	if len(objs) != 4 {
		t.Fatalf("%d objects stored, want 4: %v", len(objs), objs)
	}
}
