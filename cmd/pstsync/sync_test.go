package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// syncEnv isolates the config file, state and lock folders of a test.
func syncEnv(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, k := range []string{"HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "APPDATA", "LOCALAPPDATA"} {
		t.Setenv(k, filepath.Join(dir, "home"))
	}
	for _, k := range []string{"PSTSYNC_CONFIG", "PSTSYNC_USER", "PSTSYNC_STORE", "PSTSYNC_PST", "PSTSYNC_SOURCE", "PSTSYNC_MAILBOX"} {
		t.Setenv(k, "")
	}
	return dir
}

func writeSrc(t *testing.T, dir, name, content string, age time.Duration) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	mt := time.Now().Add(-age)
	if err := os.Chtimes(p, mt, mt); err != nil {
		t.Fatal(err)
	}
}

func ev(uid, summary string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
		"\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250301T100000Z\r\nDTEND:20250301T110000Z\r\nSUMMARY:" + summary +
		"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}

func TestSyncCommands(t *testing.T) {
	dir := syncEnv(t)
	store := filepath.Join(dir, "store")
	sync := func(user string, extra ...string) (int, string, string) {
		var out, errb bytes.Buffer
		args := append([]string{"pstsync", "sync", "--user", user, "--source", filepath.Join(dir, user),
			"--store", store, "--mailbox", filepath.Join(dir, "mb-"+user), "--quiet"}, extra...)
		code := run(args, &out, &errb)
		return code, out.String(), errb.String()
	}
	writeSrc(t, filepath.Join(dir, "alice"), "e.ics", ev("E", "Lunch"), 3*time.Hour)
	if code, _, stderr := sync("alice"); code != exitUnreachable || !strings.Contains(stderr, "--init") {
		t.Fatalf("missing store: exit %d, %s", code, stderr)
	}
	if code, _, stderr := sync("alice", "--init"); code != exitOK {
		t.Fatalf("first sync: exit %d: %s", code, stderr)
	}
	// dry run writes nothing
	writeSrc(t, filepath.Join(dir, "bob"), "f.ics", ev("F", "Board"), 3*time.Hour)
	var out, errb bytes.Buffer
	code := run([]string{"pstsync", "sync", "--user", "bob", "--source", filepath.Join(dir, "bob"), "--store", store,
		"--mailbox", filepath.Join(dir, "mb-bob"), "--dry-run"}, &out, &errb)
	if code != exitOK || !strings.Contains(out.String(), "would add 1") {
		t.Fatalf("dry run: exit %d: %s %s", code, out.String(), errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "mb-bob")); err == nil {
		t.Fatal("dry run wrote the mailbox")
	}
	if code, _, stderr := sync("bob"); code != exitOK {
		t.Fatalf("bob: exit %d: %s", code, stderr)
	}
	// bob imports E and both edit its summary: exit code 5, both kept
	data, err := os.ReadFile(filepath.Join(dir, "mb-bob", "calendar", "E.ics"))
	if err != nil {
		t.Fatal(err)
	}
	writeSrc(t, filepath.Join(dir, "bob"), "E.ics", string(data), 2*time.Hour)
	if code, _, stderr := sync("bob"); code != exitOK {
		t.Fatalf("bob import: exit %d: %s", code, stderr)
	}
	writeSrc(t, filepath.Join(dir, "alice"), "e.ics", ev("E", "Lunch at noon"), time.Hour)
	writeSrc(t, filepath.Join(dir, "bob"), "E.ics", ev("E", "Lunch at one"), time.Hour)
	if code, _, stderr := sync("alice"); code != exitOK {
		t.Fatalf("alice edit: exit %d: %s", code, stderr)
	}
	if code, _, stderr := sync("bob"); code != exitConflicts || !strings.Contains(stderr, "conflicts.html") {
		t.Fatalf("conflict: exit %d: %s", code, stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"log"}, "bob", exitOK},
		{[]string{"report"}, "Lunch at", exitOK},
		{[]string{"report", "--json"}, `"resolution": "keep-both"`, exitOK},
		{[]string{"report", "--html"}, "<html", exitOK},
		{[]string{"check"}, "no problems", exitOK},
		{[]string{"restore", "--rev", "1"}, "restored as revision", exitOK},
		{[]string{"restore"}, "", exitUsage},
	} {
		var out, errb bytes.Buffer
		code := run(append(append([]string{"pstsync"}, tc.args...), "--store", store), &out, &errb)
		if code != tc.code || !strings.Contains(out.String(), tc.want) {
			t.Errorf("%v: exit %d, want %d; output lacks %q:\n%s%s", tc.args, code, tc.code, tc.want, out.String(), errb.String())
		}
	}
	// check finds damage and exits non-zero with a repair hint
	objs, _ := filepath.Glob(filepath.Join(store, "objects", "*", "*"))
	if len(objs) == 0 {
		t.Fatal("no objects")
	}
	if err := os.WriteFile(objs[0], []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run([]string{"pstsync", "check", "--store", store}, &out, &errb); code == exitOK || !strings.Contains(out.String(), "repair:") {
		t.Errorf("check of a damaged store: exit %d:\n%s", code, out.String())
	}
}

func TestMergeCommandSeedsFromSeveralUsers(t *testing.T) {
	dir := syncEnv(t)
	store := filepath.Join(dir, "store")
	writeSrc(t, filepath.Join(dir, "a"), "e.ics", ev("E", "One"), time.Hour)
	writeSrc(t, filepath.Join(dir, "b"), "e.ics", ev("E", "One"), time.Hour)
	writeSrc(t, filepath.Join(dir, "b"), "g.ics", ev("G", "Two"), time.Hour)
	var out, errb bytes.Buffer
	code := run([]string{"pstsync", "merge", "--store", store, "--init", "ann=" + filepath.Join(dir, "a"), "ben=" + filepath.Join(dir, "b")}, &out, &errb)
	if code != exitOK {
		t.Fatalf("merge: exit %d: %s %s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "ann: revision 1") || !strings.Contains(out.String(), "ben: revision 2: add 1") {
		t.Fatalf("merge output:\n%s", out.String())
	}
}

// TestSyncLogFile: a sync writes its structured log lines, with the one
// summary line per run, to the rotating log file.
func TestSyncLogFile(t *testing.T) {
	dir := syncEnv(t)
	logPath := filepath.Join(dir, "logs", "pstsync.log")
	t.Setenv("PSTSYNC_LOG_FILE", logPath)
	writeSrc(t, filepath.Join(dir, "alice"), "e.ics", ev("E", "Lunch"), 3*time.Hour)
	var out, errb bytes.Buffer
	code := run([]string{"pstsync", "sync", "--init", "--quiet", "--user", "alice", "--source", filepath.Join(dir, "alice"),
		"--store", filepath.Join(dir, "store"), "--mailbox", filepath.Join(dir, "mb")}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("no log file: %v", err)
	}
	if !bytes.Contains(b, []byte("alice")) || !bytes.Contains(b, []byte("sync finished")) {
		t.Errorf("log file lacks the run's summary line:\n%s", b)
	}
}
