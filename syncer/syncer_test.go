package syncer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pstsync/pstsync/snapshot"
)

func TestTwoUsersShareAndImportBack(t *testing.T) {
	e := newEnv(t)
	put(t, e.src("alice"), "e1.ics", icsEvent("E1", "Planning", "LOCATION:Room 1"))
	put(t, e.src("alice"), "ann.vcf", vcfCard("C1", "Ann Lee", "EMAIL:ann@example.com"))
	res := e.sync("alice")
	if !res.Committed || res.Rev != 1 || res.Added != 2 {
		t.Fatalf("alice's first sync: %+v", res)
	}
	res = e.sync("bob")
	if res.Committed {
		t.Fatalf("bob has nothing to add but committed: %+v", res.Changes)
	}
	if res.Incoming[Calendar] != 1 || res.Incoming[Contacts] != 1 {
		t.Fatalf("bob's incoming: %v", res.Incoming)
	}
	in := read(t, filepath.Join(e.mailbox("bob"), IncomingDir, "000001-calendar.ics"))
	if !strings.Contains(in, "UID:E1") {
		t.Fatalf("incoming lacks E1:\n%s", in)
	}
	// bob imports both; his next sync links them: no new revision, no duplicate
	e.importItem("bob", Calendar, "E1")
	e.importItem("bob", Contacts, "C1")
	res = e.sync("bob")
	if res.Committed {
		t.Fatalf("import-back committed: %+v", res.Changes)
	}
	if n := e.latest().Items(); n != 2 {
		t.Fatalf("%d items after import-back, want 2", n)
	}
	// nothing changed: nothing decoded, nothing written
	res = e.sync("bob")
	if res.Committed || res.Decoded != 0 || len(res.Files) != 0 {
		t.Fatalf("no-change sync: committed %v, decoded %d, files %v", res.Committed, res.Decoded, res.Files)
	}
	// edits to different fields combine
	put(t, e.src("alice"), "e1.ics", icsEvent("E1", "Planning", "LOCATION:Room 2"))
	e.sync("alice")
	put(t, e.src("bob"), "imported-E1.ics", icsEvent("E1", "Planning Q3", "LOCATION:Room 1"))
	res = e.sync("bob")
	if len(res.Conflicts) != 0 {
		t.Fatalf("different fields conflicted: %+v", res.Conflicts)
	}
	obj := e.object(Calendar, "E1")
	if !strings.Contains(obj, "Room 2") || !strings.Contains(obj, "Planning Q3") {
		t.Fatalf("merged event lacks an edit:\n%s", obj)
	}
	if res.Incoming[Calendar] != 1 {
		t.Fatalf("bob should receive the merged event: %v", res.Incoming)
	}
}

func TestSameFieldConflictKeepsBoth(t *testing.T) {
	e := newEnv(t)
	put(t, e.src("alice"), "e.ics", icsEvent("E", "Lunch"))
	e.sync("alice")
	e.sync("bob")
	e.importItem("bob", Calendar, "E")
	e.sync("bob")
	put(t, e.src("alice"), "e.ics", icsEvent("E", "Lunch at noon"))
	put(t, e.src("bob"), "imported-E.ics", icsEvent("E", "Lunch at one"))
	e.sync("alice")
	res := e.sync("bob")
	if len(res.Conflicts) == 0 || res.Copies != 1 {
		t.Fatalf("want a conflict with a copy: %+v", res)
	}
	m := e.latest()
	if len(m.Collections[Calendar]) != 2 {
		t.Fatalf("calendar: %v", m.Collections[Calendar])
	}
	all := ""
	for uid := range m.Collections[Calendar] {
		all += e.object(Calendar, uid)
	}
	if !strings.Contains(all, "Lunch at noon") || !strings.Contains(all, "Lunch at one") {
		t.Fatalf("an edit was lost:\n%s", all)
	}
	if _, err := os.Stat(filepath.Join(e.mailbox("bob"), ConflictsHTML)); err != nil {
		t.Fatal(err)
	}
	js := read(t, filepath.Join(e.mailbox("bob"), ConflictsJSON))
	if !strings.Contains(js, `"uid": "E"`) {
		t.Fatalf("conflicts.json: %s", js)
	}
}

func TestDeleteVersusModify(t *testing.T) {
	e := newEnv(t)
	put(t, e.src("alice"), "e.ics", icsEvent("E", "Review"))
	e.sync("alice")
	e.sync("bob")
	e.importItem("bob", Calendar, "E")
	e.sync("bob")
	remove(t, e.src("alice"), "e.ics")
	put(t, e.src("alice"), "other.ics", icsEvent("O", "Other")) // not an empty side
	put(t, e.src("bob"), "imported-E.ics", icsEvent("E", "Review (moved)"))
	e.sync("bob")
	e.sync("alice")
	if !strings.Contains(e.object(Calendar, "E"), "Review (moved)") {
		t.Fatal("the edit was lost to a deletion")
	}
	// a deletion of an unchanged item propagates
	put(t, e.src("bob"), "keep.ics", icsEvent("K", "Keep"))
	e.sync("bob")
	remove(t, e.src("bob"), "imported-E.ics")
	e.sync("bob")
	e.sync("bob") // idempotent
	if _, ok := e.latest().Collections[Calendar]["E"]; ok {
		t.Fatal("bob's deletion did not propagate")
	}
}

func TestLostStateNeverDeletes(t *testing.T) {
	e := newEnv(t)
	put(t, e.src("alice"), "a.ics", icsEvent("A", "Alpha"))
	put(t, e.src("alice"), "b.ics", icsEvent("B", "Beta"))
	e.sync("alice")
	if err := e.store.Delete(context.Background(), snapshot.StateKey("alice")); err != nil {
		t.Fatal(err)
	}
	remove(t, e.src("alice"), "b.ics")
	res := e.sync("alice")
	if res.Deleted != 0 || len(e.latest().Collections[Calendar]) != 2 {
		t.Fatalf("lost state deleted: %+v", res)
	}
	// corrupt state: the same
	if _, err := e.store.Put(context.Background(), snapshot.StateKey("alice"), []byte("{garbage"), sinkCondNone()); err != nil {
		t.Fatal(err)
	}
	res = e.sync("alice")
	if !res.StateReset || res.Deleted != 0 {
		t.Fatalf("corrupt state: %+v", res)
	}
}

// TestLocalStateCopy: when the store loses the user's state, the copy in
// the mailbox folder still links the user's items to the shared ones (no
// duplicate, no conflict copy) but implies no deletion.
func TestLocalStateCopy(t *testing.T) {
	e := newEnv(t)
	put(t, e.src("alice"), "a.ics", icsEvent("A", "Alpha"))
	put(t, e.src("alice"), "b.ics", icsEvent("B", "Beta"))
	put(t, e.src("alice"), "c.vcf", vcfCard("C1", "Ann Lee", "EMAIL:ann@example.com"))
	e.sync("alice")
	if _, err := os.Stat(filepath.Join(e.mailbox("alice"), ".pstsync", "state-alice.json")); err != nil {
		t.Fatalf("no local copy of the state: %v", err)
	}
	// another user edits the contact; alice's state vanishes from the store
	put(t, e.src("bob"), "c.vcf", vcfCard("C1", "Ann Lee", "EMAIL:ann@example.com", "TITLE:Boss"))
	e.sync("bob")
	if err := e.store.Delete(context.Background(), snapshot.StateKey("alice")); err != nil {
		t.Fatal(err)
	}
	remove(t, e.src("alice"), "a.ics")
	res := e.sync("alice")
	if res.Deleted != 0 || len(e.latest().Collections[Calendar]) != 2 {
		t.Fatalf("recovered state deleted: %+v", res)
	}
	if len(res.Conflicts) != 0 || len(e.latest().Collections[Contacts]) != 1 {
		t.Fatalf("recovered state did not link the contact: %d conflicts, %d contacts", len(res.Conflicts), len(e.latest().Collections[Contacts]))
	}
	// A deletion made while the state was lost is not inferred later
	// either (A stays shared: the safe side). With the state back in the
	// store, a new deletion propagates as usual.
	e.sync("alice")
	if _, ok := e.latest().Collections[Calendar]["A"]; !ok {
		t.Error("an item deleted while the state was lost was deleted later")
	}
	put(t, e.src("alice"), "a.ics", icsEvent("A", "Alpha")) // keep the side non-empty
	e.sync("alice")
	remove(t, e.src("alice"), "b.ics")
	res = e.sync("alice")
	if _, ok := e.latest().Collections[Calendar]["B"]; ok {
		t.Errorf("with the state restored, alice's deletion did not propagate: %+v", res)
	}
}

func TestEmptySideRefused(t *testing.T) {
	e := newEnv(t)
	put(t, e.src("alice"), "a.ics", icsEvent("A", "Alpha"))
	e.sync("alice")
	remove(t, e.src("alice"), "a.ics")
	_, err := Sync(context.Background(), e.opts("alice"))
	if !errors.Is(err, ErrEmptySide) {
		t.Fatalf("want ErrEmptySide, got %v", err)
	}
	if e.latest().Rev != 1 {
		t.Fatal("a refused sync committed")
	}
	o := e.opts("alice")
	o.AllowMassDelete = true
	if _, err := Sync(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if len(e.latest().Collections[Calendar]) != 0 {
		t.Fatal("confirmed deletion did not happen")
	}
}
