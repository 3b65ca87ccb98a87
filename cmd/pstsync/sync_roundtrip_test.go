package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSyncPartialOtherComputerReport: a file cut short gives exit 3 with
// the file named in last-run.txt and nothing deleted; the same user from
// another computer is refused with exit 12 and one line; a delete-versus-
// edit conflict is recorded and shown by pstsync report.
func TestSyncPartialOtherComputerReport(t *testing.T) {
	dir := syncEnv(t)
	store := filepath.Join(dir, "store")
	sync := func(user string, extra ...string) (int, string) {
		var out, errb bytes.Buffer
		args := append([]string{"pstsync", "sync", "--user", user, "--source", filepath.Join(dir, user),
			"--store", store, "--mailbox", filepath.Join(dir, "mb-"+user), "--quiet"}, extra...)
		code := run(args, &out, &errb)
		return code, errb.String()
	}
	src := filepath.Join(dir, "alice")
	writeSrc(t, src, "e.ics", ev("E", "Lunch"), 3*time.Hour)
	writeSrc(t, src, "f.ics", ev("F", "Board"), 3*time.Hour)
	if code, stderr := sync("alice", "--init"); code != exitOK {
		t.Fatalf("first sync: exit %d: %s", code, stderr)
	}
	full := ev("F", "Board")
	writeSrc(t, src, "f.ics", full[:strings.Index(full, "END:VCALENDAR")], time.Hour)
	code, stderr := sync("alice")
	if code != exitPartial || !strings.Contains(stderr, "could not be read cleanly") {
		t.Fatalf("truncated file: exit %d: %s", code, stderr)
	}
	status, err := os.ReadFile(filepath.Join(dir, "mb-alice", "last-run.txt"))
	if err != nil || !strings.Contains(string(status), "Not read:") || !strings.Contains(string(status), "f.ics") {
		t.Fatalf("last-run.txt does not name the file: %v\n%s", err, status)
	}
	cal, _ := os.ReadFile(filepath.Join(dir, "mb-alice", "calendar.ics"))
	if !strings.Contains(string(cal), "UID:F") {
		t.Fatalf("the item of the truncated file was deleted:\n%s", cal)
	}
	writeSrc(t, src, "f.ics", full, time.Hour)

	// The same user name on another computer (another state folder).
	home := os.Getenv("XDG_STATE_HOME")
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "other-pc"))
	t.Setenv("LOCALAPPDATA", filepath.Join(dir, "other-pc"))
	code, stderr = sync("alice")
	if code != exitOtherPC || !strings.Contains(stderr, "\npstsync: user alice is synced from another computer") {
		t.Fatalf("second computer: exit %d: %q", code, stderr)
	}
	t.Setenv("XDG_STATE_HOME", home)
	t.Setenv("LOCALAPPDATA", home)
	if code, stderr := sync("alice"); code != exitOK {
		t.Fatalf("back on the first computer: exit %d: %s", code, stderr)
	}

	// bob imports E and edits it; alice deletes it: the edit is kept and
	// the conflict recorded.
	data, err := os.ReadFile(filepath.Join(dir, "mb-alice", "calendar", "E.ics"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "bob"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, stderr := sync("bob"); code != exitOK {
		t.Fatalf("bob: exit %d: %s", code, stderr)
	}
	writeSrc(t, filepath.Join(dir, "bob"), "E.ics", strings.Replace(string(data), "SUMMARY:Lunch", "SUMMARY:Lunch moved", 1), time.Hour)
	if code, stderr := sync("bob"); code != exitOK {
		t.Fatalf("bob's edit: exit %d: %s", code, stderr)
	}
	if err := os.Remove(filepath.Join(src, "e.ics")); err != nil {
		t.Fatal(err)
	}
	if code, stderr := sync("alice"); code != exitConflicts {
		t.Fatalf("delete versus edit: exit %d: %s", code, stderr)
	}
	js, _ := os.ReadFile(filepath.Join(dir, "mb-alice", "conflicts.json"))
	if !strings.Contains(string(js), "delete-modify") {
		t.Fatalf("conflicts.json lacks the delete-versus-edit conflict:\n%s", js)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"pstsync", "report", "--store", store}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "Lunch moved") {
		t.Fatalf("report: exit %d: %s %s", code, out.String(), errb.String())
	}
}
