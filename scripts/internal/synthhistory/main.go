// Command synthhistory appends synthetic revisions to a local snapshot
// store, for scripts/store-growth: it measures how a sync's cost depends
// on the length of history without running a sync per revision.
//
// Usage: go run ./scripts/internal/synthhistory -store DIR -revisions N
//
// The store must hold exactly one revision (a real first sync). Revisions
// 2..N each change one item of it (to another item's stored object and
// back), as small headers with their delta, as Repo.Commit writes them;
// revision N restores revision 1's collections and is a checkpoint sharing
// its tree, and head.json names it. The files are written directly (no
// flush, no conditional write): this is a benchmark fixture, not a way to
// write a store.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/pstsync/pstsync/sink/localstore"
	"github.com/pstsync/pstsync/snapshot"
)

func main() {
	dir := flag.String("store", "", "local store folder holding one revision")
	n := flag.Int64("revisions", 200000, "revisions the store holds afterwards (odd)")
	flag.Parse()
	if err := run(*dir, *n); err != nil {
		fmt.Fprintln(os.Stderr, "synthhistory:", err)
		os.Exit(1)
	}
}

func run(dir string, n int64) error {
	if n%2 == 0 {
		n++
	}
	ctx := context.Background()
	st, err := localstore.New(dir)
	if err != nil {
		return err
	}
	repo, err := snapshot.Open(ctx, st)
	if err != nil {
		return err
	}
	latest, err := repo.Latest(ctx)
	if err != nil || latest == nil || latest.Rev != 1 {
		return fmt.Errorf("want a store with exactly one revision (got %v, %v)", latest, err)
	}
	h1, err := repo.Header(ctx, 1)
	if err != nil {
		return err
	}
	if h1.Tree == "" {
		return fmt.Errorf("revision 1 is not a checkpoint")
	}
	var coll, uid, other string
	var orig, alt snapshot.Entry
	for _, c := range slices.Sorted(maps.Keys(latest.Collections)) {
		uids := slices.Sorted(maps.Keys(latest.Collections[c]))
		if len(uids) >= 2 {
			coll, uid, other = c, uids[0], uids[1]
			orig, alt = latest.Collections[c][uid], latest.Collections[c][other]
			break
		}
	}
	if coll == "" {
		return fmt.Errorf("no collection with two items")
	}
	alt.Title = orig.Title + " (edited)"
	names := slices.Sorted(maps.Keys(latest.Collections))
	t0 := latest.Time
	var last snapshot.Header
	for rev := int64(2); rev <= n; rev++ {
		from, to := orig, alt
		if rev%2 == 1 {
			from, to = alt, orig
		}
		h := snapshot.Header{Version: snapshot.HeaderVersion, Rev: rev, Parent: rev - 1,
			Author: snapshot.Author{User: fmt.Sprintf("user%02d", rev%20), Host: "synthetic"},
			Time:   t0.Add(time.Duration(rev) * time.Minute), Items: latest.Items(),
			Changes: []snapshot.Change{{Collection: coll, UID: uid, Op: snapshot.OpModify, By: fmt.Sprintf("user%02d", rev%20)}},
			Base:    rev - 1, Delta: []snapshot.Delta{{Collection: coll, UID: uid, Entry: &to, Old: &from}},
			Chain: 1, Collections: names}
		if rev == n {
			h.Tree, h.Chain = h1.Tree, 0
		}
		data, err := json.Marshal(&h)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(snapshot.RevisionKey(rev))), append(data, '\n'), 0o644); err != nil {
			return err
		}
		last = h
	}
	head := map[string]any{"version": snapshot.HeaderVersion, "header": last, "checkpoint": n, "tree": h1.Tree,
		"collections": names}
	data, err := json.Marshal(head)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "head.json"), append(data, '\n'), 0o644)
}
