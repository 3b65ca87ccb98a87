package syncer

import (
	"context"
	"fmt"
	"testing"

	"github.com/pstsync/pstsync/snapshot"
)

// TestEditorsOfLargeRevision: a revision of more changes than the head
// pointer repeats (opened without reading them) still names its author in
// the conflicts of a user who synced before it.
func TestEditorsOfLargeRevision(t *testing.T) {
	e := newEnv(t)
	const n = 300 // more than the head repeats
	for i := range n {
		put(t, e.src("alice"), fmt.Sprintf("e%03d.ics", i), icsEvent(fmt.Sprintf("E%03d", i), "Lunch"))
	}
	e.sync("alice")
	e.sync("bob")
	e.importItem("bob", Calendar, "E000")
	e.sync("bob")
	for i := range n {
		put(t, e.src("alice"), fmt.Sprintf("e%03d.ics", i), icsEvent(fmt.Sprintf("E%03d", i), "Lunch at noon"))
	}
	if res := e.sync("alice"); len(res.Changes) != n {
		t.Fatalf("alice's revision has %d changes, want %d", len(res.Changes), n)
	}
	put(t, e.src("bob"), "imported-E000.ics", icsEvent("E000", "Lunch at one"))

	// Bob's computer opens the store afresh: the head omits the changes.
	repo, err := snapshot.Open(context.Background(), e.store)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := repo.Latest(context.Background()); err != nil || !m.ChangesOmitted {
		t.Fatalf("the head does not omit the changes (%v): the test tests nothing", err)
	}
	o := e.opts("bob")
	o.Repo = repo
	res, err := Sync(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Conflicts) == 0 {
		t.Fatalf("no conflict: %+v", res)
	}
	for _, c := range res.Conflicts {
		if c.UID == "E000" && c.TheirsBy != "alice" {
			t.Errorf("conflict on %s: theirs by %q, want alice", c.UID, c.TheirsBy)
		}
	}
}
