package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/outlook"
	"github.com/pstsync/pstsync/outlook/fake"
)

// TestSyncOutlookPath: `pstsync sync` reads and writes Outlook with
// --outlook, or when Outlook runs and answers although a PST is given;
// last-run.txt says which; the free/busy file is written beside the store;
// Outlook that cannot be used gives exit 10 or 11.
func TestSyncOutlookPath(t *testing.T) {
	dir := syncEnv(t)
	store := filepath.Join(dir, "store")
	o := fake.New()
	d, err := merge.DecodeCalendar([]byte(ev("E1", "Board")))
	if err != nil {
		t.Fatal(err)
	}
	w, err := outlook.FromDoc(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Write(context.Background(), outlook.FolderRef{Kind: outlook.Calendar}, "", w); err != nil {
		t.Fatal(err)
	}
	writeSrc(t, filepath.Join(dir, "bob"), "f.ics", ev("F", "Lunch"), 0)
	sync := func(user string, extra ...string) (int, string, string) {
		var out, errb bytes.Buffer
		args := append([]string{"pstsync", "sync", "--user", user, "--store", store, "--mailbox", filepath.Join(dir, "mb-"+user), "--init"}, extra...)
		code := run(args, &out, &errb)
		return code, out.String(), errb.String()
	}
	lastRun := func(user string) string {
		b, _ := os.ReadFile(filepath.Join(dir, "mb-"+user, "last-run.txt"))
		return string(b)
	}
	withOutlook(t, o, nil)
	if code, out, errOut := sync("alice", "--outlook"); code != exitOK || !strings.Contains(out, "outlook: 0 created, 0 updated, 0 removed") {
		t.Fatalf("--outlook: exit %d\n%s\n%s", code, out, errOut)
	}
	if lr := lastRun("alice"); !strings.Contains(lr, "Read from:  Outlook") {
		t.Errorf("last-run.txt does not say Outlook:\n%s", lr)
	}
	if _, err := os.Stat(filepath.Join(dir, "freebusy", "alice.vfb")); err != nil {
		t.Errorf("free/busy file: %v", err)
	}
	if code, _, errOut := sync("bob", "--source", filepath.Join(dir, "bob")); code != exitOK {
		t.Fatalf("bob: exit %d %s", code, errOut)
	}
	if lr := lastRun("bob"); !strings.Contains(lr, "Read from:  folder ") {
		t.Errorf("last-run.txt does not say folder:\n%s", lr)
	}
	// A PST is configured, but Outlook runs and answers: the bridge is
	// used (the PST, which does not even exist here, is not read), and
	// bob's item lands in Outlook.
	old := outlookRunning
	outlookRunning = func() (bool, error) { return true, nil }
	t.Cleanup(func() { outlookRunning = old })
	if code, out, errOut := sync("alice", "--pst", filepath.Join(dir, "missing.pst")); code != exitOK || !strings.Contains(out, "outlook: 1 created") {
		t.Fatalf("Outlook running: exit %d\n%s\n%s", code, out, errOut)
	}
	// Outlook runs but does not answer: the PST path is taken.
	withOutlook(t, nil, outlook.ErrTimeout)
	if code, _, _ := sync("alice", "--pst", filepath.Join(dir, "missing.pst")); code == exitOK || !strings.Contains(lastRun("alice"), "Read from:  PST file") {
		t.Errorf("fallback to the PST: exit %d\n%s", code, lastRun("alice"))
	}
	for _, tc := range []struct {
		name string
		err  error
		code int
	}{{"not running", outlook.ErrNotRunning, exitOutlook}, {"blocked", outlook.ErrBlocked, exitOutlookBlocked}} {
		withOutlook(t, nil, tc.err)
		if code, _, errOut := sync("alice", "--outlook"); code != tc.code {
			t.Errorf("%s: exit %d, want %d: %s", tc.name, code, tc.code, errOut)
		}
	}
	// Blocked in the middle of a read: exit 11, nothing committed.
	o.Fail = func(op string) error {
		if op == "List" {
			return outlook.ErrBlocked
		}
		return nil
	}
	withOutlook(t, o, nil)
	if code, _, errOut := sync("alice", "--outlook"); code != exitOutlookBlocked || !strings.Contains(errOut, "Programmatic Access") {
		t.Errorf("blocked read: exit %d: %s", code, errOut)
	}
}
