package snapshot

import (
	"context"
	"fmt"
	"testing"
)

// bigRepo commits one revision of n items (n/2 events, n/2 contacts) with
// realistic UIDs and titles.
func bigRepo(tb testing.TB, n int) *countingStore {
	tb.Helper()
	ctx := context.Background()
	cs := newCounting(newMemStore())
	r := openRepo(tb, cs)
	cols := map[string]map[string]Entry{"calendar": {}, "contacts": {}}
	for i := range n {
		h, err := r.PutObject(ctx, fmt.Appendf(nil, "BEGIN:VCALENDAR item %d END:VCALENDAR", i))
		if err != nil {
			tb.Fatal(err)
		}
		if i%2 == 0 {
			cols["calendar"][fmt.Sprintf("040000008200E00074C5B7101A82E0080000000%09d", i)] =
				Entry{Hash: h, Kind: "event", Title: fmt.Sprintf("Weekly planning meeting %d", i)}
		} else {
			cols["contacts"][fmt.Sprintf("urn:uuid:6f1c2a3e-0000-4000-8000-%012d", i)] =
				Entry{Hash: h, Kind: "contact", Title: fmt.Sprintf("Firstname Lastname %d", i)}
		}
	}
	if _, err := r.Commit(ctx, &Manifest{Author: alice, Time: t0, Collections: cols}); err != nil {
		tb.Fatal(err)
	}
	return cs
}

// TestLatestReadsNoObject: finding and loading a 10,000-item revision reads
// the head and its checkpoint tree (one object), never an item's object.
func TestLatestReadsNoObject(t *testing.T) {
	ctx := context.Background()
	cs := bigRepo(t, 10000)
	before, revGets := cs.getsOf("objects"), cs.getsOf("revisions")
	r := openRepo(t, cs)
	m, err := r.Latest(ctx)
	if err != nil || m.Items() != 10000 {
		t.Fatalf("Latest: %v", err)
	}
	if _, err := r.Manifest(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Latest(ctx); err != nil {
		t.Fatal(err)
	}
	if n := cs.getsOf("objects") - before; n != 1 {
		t.Errorf("loading the manifest read %d objects, want 1 (the tree)", n)
	}
	// Cold: probe the next revision and read the latest; warm: one probe.
	if n := cs.getsOf("revisions") - revGets; n != 3 {
		t.Errorf("%d Gets of revisions for one cold and one warm Latest, want 3", n)
	}
	// A no-op commit on top of it does not read objects either.
	m.Parent, m.Rev = m.Rev, 0
	if _, err := r.Commit(ctx, m); err != nil {
		t.Fatal(err)
	}
	if n := cs.getsOf("objects") - before; n != 1 {
		t.Errorf("committing an unchanged manifest read %d more objects", n-1)
	}
}

// BenchmarkLatestCold: a new Repo (a sync run starting) finds and parses a
// 10,000-item latest revision.
func BenchmarkLatestCold(b *testing.B) {
	ctx := context.Background()
	cs := bigRepo(b, 10000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := Open(ctx, cs)
		if err != nil {
			b.Fatal(err)
		}
		m, err := r.Latest(ctx)
		if err != nil || m.Items() != 10000 {
			b.Fatal(err)
		}
	}
}

// BenchmarkLatestWarm: Latest on a Repo that is up to date (one probe and a
// copy of the cached manifest).
func BenchmarkLatestWarm(b *testing.B) {
	ctx := context.Background()
	r := openRepo(b, bigRepo(b, 10000))
	if _, err := r.Latest(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Latest(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCommit10k: committing a 10,000-item revision that changes one
// item (encode, verify, put).
func BenchmarkCommit10k(b *testing.B) {
	ctx := context.Background()
	r := openRepo(b, bigRepo(b, 10000))
	m, err := r.Latest(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m.Parent, m.Rev = m.Rev, 0
		if m, err = r.Commit(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}
