package snapshot

import (
	"context"
	"testing"

	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/sink/localstore"
)

// The same scenarios against the local-folder store (the default backend).

func newLocal(t *testing.T) sink.Store {
	t.Helper()
	s, err := localstore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLocalStoreCheck(t *testing.T) { runCheckCases(t, newLocal) }

func TestLocalStoreConcurrentCommits(t *testing.T) { runConcurrentCommits(t, newLocal(t), 10) }

func TestLocalStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newLocal(t)
	r := openRepo(t, s)
	commit(t, r, 0, alice, items{"calendar": {"e1": "one"}})
	m2 := commit(t, r, 1, alice, items{"calendar": {"e1": "two", "e2": "three"}})
	got, err := openRepo(t, s).Latest(ctx)
	if err != nil || got.Rev != 2 || got.Items() != m2.Items() {
		t.Fatalf("Latest = %+v, %v", got, err)
	}
	if _, err := r.Commit(ctx, &Manifest{Parent: 1, Author: alice, Time: t0}); !IsConflict(err) {
		t.Errorf("stale commit: %v", err)
	}
	st := sampleState()
	tag, err := r.SaveState(ctx, "alice", st, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.SaveState(ctx, "alice", st, `"stale"`); !IsConflict(err) {
		t.Errorf("stale state etag: %v", err)
	}
	if _, etag, err := r.LoadState(ctx, "alice"); err != nil || etag != tag {
		t.Errorf("LoadState: %q, %v (want etag %q)", etag, err, tag)
	}
	if _, err := s.Put(ctx, StateKey("alice"), []byte("{"), sink.Cond{}); err != nil {
		t.Fatal(err)
	}
	st2, etag, err := r.LoadState(ctx, "alice")
	if st2 != nil || etag == "" || !IsCorruptState(err) {
		t.Fatalf("corrupt state: %+v, %q, %v", st2, etag, err)
	}
	if _, err := r.SaveState(ctx, "alice", &UserState{User: "alice", Updated: t0}, etag); err != nil {
		t.Errorf("replacing a corrupt state: %v", err)
	}
}
