package syncer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPrivateNeverInStore: nothing of a private appointment but its busy
// time is written to the store, in any object, state or revision; the
// owner's mailbox keeps the full version, the colleague's the busy time.
func TestPrivateNeverInStore(t *testing.T) {
	e := newEnv(t)
	put(t, e.src("alice"), "doc.ics", icsEvent("P", "Doctor", "CLASS:CONFIDENTIAL", "LOCATION:Clinic", "DESCRIPTION:Blood test"))
	put(t, e.src("alice"), "secret.vcf", vcfCard("S", "Secret Friend", "CLASS:PRIVATE", "NOTE:Hidden note"))
	put(t, e.src("alice"), "a.vcf", vcfCard("A", "Ann"))
	e.sync("alice")
	put(t, e.src("alice"), "doc.ics", icsEvent("P", "Doctor", "CLASS:CONFIDENTIAL", "LOCATION:Clinic 2", "DESCRIPTION:Blood test"))
	e.sync("alice")
	e.sync("bob")
	ctx := context.Background()
	keys, err := e.store.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		data, _, err := e.store.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		for _, leak := range []string{"Doctor", "Clinic", "Blood", "Secret", "Hidden"} {
			if strings.Contains(string(data), leak) {
				t.Errorf("store object %s holds %q", k, leak)
			}
		}
	}
	if got := read(t, filepath.Join(e.mailbox("bob"), CalendarFile)); !strings.Contains(got, "Private appointment") || strings.Contains(got, "Doctor") {
		t.Errorf("bob's calendar:\n%s", got)
	}
	if got := read(t, filepath.Join(e.mailbox("alice"), CalendarFile)); !strings.Contains(got, "Clinic 2") {
		t.Errorf("alice's own version was replaced by the busy time:\n%s", got)
	}
}

// TestOtherMachineRefused: a state written by another computer is
// refused; --take-over adopts it without deleting.
func TestOtherMachineRefused(t *testing.T) {
	e := newEnv(t)
	put(t, e.src("alice"), "a.ics", icsEvent("A", "Alpha"))
	put(t, e.src("alice"), "b.ics", icsEvent("B", "Beta"))
	o := e.opts("alice")
	o.Machine = "pc-1"
	if _, err := Sync(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	remove(t, e.src("alice"), "a.ics")
	o = e.opts("alice")
	o.Machine = "pc-2"
	_, err := Sync(context.Background(), o)
	var om *OtherMachineError
	if !errors.As(err, &om) || !errors.Is(err, ErrOtherMachine) || om.Machine != "pc-1" {
		t.Fatalf("want OtherMachineError naming pc-1, got %v", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	o = e.opts("alice")
	o.Machine, o.TakeOver = "pc-2", true
	res, err := Sync(context.Background(), o)
	if err != nil || res.Deleted != 0 {
		t.Fatalf("take-over: %v %+v", err, res)
	}
	// From now on pc-2 owns the state.
	o = e.opts("alice")
	o.Machine = "pc-1"
	if _, err := Sync(context.Background(), o); !errors.Is(err, ErrOtherMachine) {
		t.Fatalf("pc-1 after the take-over: %v", err)
	}
}

// TestQuietRunWritesNothing: a run with nothing new writes no revision,
// no state and no mailbox file, and decodes nothing.
func TestQuietRunWritesNothing(t *testing.T) {
	e := newEnv(t)
	put(t, e.src("alice"), "a.ics", icsEvent("A", "Alpha"))
	e.sync("alice")
	e.sync("alice")
	ctx := context.Background()
	_, etag, err := e.store.Get(ctx, "users/alice/state.json")
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(e.mailbox("alice"), CalendarFile))
	if err != nil {
		t.Fatal(err)
	}
	res := e.sync("alice")
	if res.Committed || res.Decoded != 0 || len(res.Files) != 0 {
		t.Fatalf("quiet run: %+v", res)
	}
	if _, etag2, _ := e.store.Get(ctx, "users/alice/state.json"); etag2 != etag {
		t.Error("a quiet run rewrote the state")
	}
	if info2, _ := os.Stat(filepath.Join(e.mailbox("alice"), CalendarFile)); !info2.ModTime().Equal(info.ModTime()) {
		t.Error("a quiet run rewrote calendar.ics")
	}
}

// TestFileSizeLimit: a file over the limit is reported and its items left
// as they were.
func TestFileSizeLimit(t *testing.T) {
	e := newEnv(t)
	put(t, e.src("alice"), "a.ics", icsEvent("A", "Alpha"))
	put(t, e.src("alice"), "b.ics", icsEvent("B", "Beta"))
	e.sync("alice")
	put(t, e.src("alice"), "b.ics", icsEvent("B", "Beta", "DESCRIPTION:"+strings.Repeat("x", 400)))
	o := e.opts("alice")
	o.MaxFileSize = 300
	res, err := Sync(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || res.Problems[0].Source != "b.ics" || !strings.Contains(res.Problems[0].Err, "limit") {
		t.Fatalf("problems: %+v", res.Problems)
	}
	if res.Committed || len(e.latest().Collections[Calendar]) != 2 {
		t.Fatalf("a file over the limit changed the snapshot: %+v", res)
	}
}

// TestPrivateOwnVersionFreshMailbox: the owner's own version of a private
// item is delivered from memory even into a new, empty mailbox folder (it
// is not in the store).
func TestPrivateOwnVersionFreshMailbox(t *testing.T) {
	e := newEnv(t)
	put(t, e.src("alice"), "doc.ics", icsEvent("P", "Doctor", "CLASS:PRIVATE", "LOCATION:Clinic"))
	put(t, e.src("alice"), "a.ics", icsEvent("A", "Alpha"))
	e.sync("alice")
	if err := os.RemoveAll(e.mailbox("alice")); err != nil {
		t.Fatal(err)
	}
	e.sync("alice")
	if got := read(t, filepath.Join(e.mailbox("alice"), CalendarFile)); !strings.Contains(got, "Clinic") {
		t.Fatalf("alice's own private version missing from her new mailbox:\n%s", got)
	}
}
