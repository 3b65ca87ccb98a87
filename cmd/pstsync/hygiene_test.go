package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCorruptObjectRepair: one corrupt object blocks nobody's sync; check
// names it, check --repair fixes it with the next sync of a user who has
// the item, and check then passes.
func TestCorruptObjectRepair(t *testing.T) {
	dir := syncEnv(t)
	store := filepath.Join(dir, "store")
	cli := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(append([]string{"pstsync"}, args...), &out, &errb)
		return code, out.String() + errb.String()
	}
	sync := func(user string) (int, string) {
		return cli("sync", "--user", user, "--source", filepath.Join(dir, user), "--store", store,
			"--mailbox", filepath.Join(dir, "mb-"+user), "--quiet", "--init")
	}
	writeSrc(t, filepath.Join(dir, "alice"), "a.ics", ev("A", "Alpha"), 3*time.Hour)
	writeSrc(t, filepath.Join(dir, "alice"), "b.ics", ev("B", "Beta"), 3*time.Hour)
	if code, out := sync("alice"); code != exitOK {
		t.Fatalf("alice: %d %s", code, out)
	}
	// Damage the object of A.
	data, err := os.ReadFile(filepath.Join(dir, "mb-alice", "calendar", "A.ics"))
	if err != nil {
		t.Fatal(err)
	}
	var damaged string
	objs, _ := filepath.Glob(filepath.Join(store, "objects", "*", "*"))
	for _, p := range objs {
		if b, _ := os.ReadFile(p); bytes.Equal(b, data) {
			damaged = p
		}
	}
	if damaged == "" {
		t.Fatal("object of A not found")
	}
	if err := os.WriteFile(damaged, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	// bob still syncs: he gets B, adds C.
	writeSrc(t, filepath.Join(dir, "bob"), "c.ics", ev("C", "Gamma"), 3*time.Hour)
	if code, out := sync("bob"); code != exitOK {
		t.Fatalf("bob with a corrupt object in the store: exit %d: %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "mb-bob", "calendar", "B.ics")); err != nil {
		t.Errorf("bob did not get B: %v", err)
	}
	if code, out := cli("check", "--store", store); code == exitOK || !strings.Contains(out, "object-corrupt") {
		t.Fatalf("check: %d %s", code, out)
	}
	if code, out := cli("check", "--repair", "--store", store); !strings.Contains(out, "deleted the corrupt") {
		t.Fatalf("check --repair: %d %s", code, out)
	}
	// alice, who has A, writes it again.
	if code, out := sync("alice"); code != exitOK {
		t.Fatalf("alice after repair: %d %s", code, out)
	}
	if code, out := cli("check", "--store", store); code != exitOK {
		t.Fatalf("check after the repair and alice's sync: %d %s", code, out)
	}
	// bob gets A now.
	if code, out := sync("bob"); code != exitOK {
		t.Fatalf("bob: %d %s", code, out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "mb-bob", "calendar", "A.ics")); err != nil || !bytes.Contains(b, []byte("Alpha")) {
		t.Errorf("bob's A after the repair: %q, %v", b, err)
	}
}

// TestTempFilesReportedAndRepaired: a temporary file left by a killed
// writer is a note of check, and check --repair removes it.
func TestTempFilesReportedAndRepaired(t *testing.T) {
	dir := syncEnv(t)
	store := filepath.Join(dir, "store")
	writeSrc(t, filepath.Join(dir, "alice"), "a.ics", ev("A", "Alpha"), 3*time.Hour)
	var out, errb bytes.Buffer
	if code := run([]string{"pstsync", "sync", "--user", "alice", "--source", filepath.Join(dir, "alice"), "--store", store,
		"--mailbox", filepath.Join(dir, "mb"), "--quiet", "--init"}, &out, &errb); code != exitOK {
		t.Fatal(errb.String())
	}
	tmp := filepath.Join(store, "objects", ".x.123.pstsync-tmp")
	if err := os.WriteFile(tmp, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A new folder's hidden twin a batch was filling (its objects under
	// their own names) when it was killed.
	twin := filepath.Join(store, "objects", ".fe.k3j9.pstsync-tmp")
	if err := os.MkdirAll(twin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(twin, strings.Repeat("fe", 32)), []byte("half"), 0o444); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	for _, p := range []string{tmp, twin} {
		os.Chtimes(p, old, old)
	}
	out.Reset()
	if code := run([]string{"pstsync", "check", "--store", store}, &out, &errb); code != exitOK || strings.Count(out.String(), "temp-file") != 2 {
		t.Fatalf("check: %d %s", code, out.String())
	}
	out.Reset()
	run([]string{"pstsync", "check", "--repair", "--store", store}, &out, &errb)
	for _, p := range []string{tmp, twin} {
		if _, err := os.Stat(p); err == nil {
			t.Fatalf("%s still there after check --repair:\n%s", p, out.String())
		}
	}
	out.Reset()
	if code := run([]string{"pstsync", "check", "--store", store}, &out, &errb); code != exitOK || strings.Contains(out.String(), "temp-file") {
		t.Fatalf("check after the repair: %d %s", code, out.String())
	}
}

// TestEndpointSecretsMasked: credentials written into an endpoint URL
// appear neither in errors nor in config check.
func TestEndpointSecretsMasked(t *testing.T) {
	dir := syncEnv(t)
	for _, args := range [][]string{
		{"config", "check", "--user", "anna", "--store", "s3://bucket/p", "--s3-endpoint", "http://AKIAKEY:TOPSECRET@127.0.0.1:1",
			"--mailbox", filepath.Join(dir, "mb"), "--source", dir},
		{"log", "--store", "s3://bucket/p", "--s3-endpoint", "http://AKIAKEY:TOPSECRET@127.0.0.1:1"},
		{"log", "--store", "s3://bucket/p?endpoint=http://AKIAKEY:TOPSECRET@127.0.0.1:1"},
		{"sync", "--user", "anna", "--source", dir, "--mailbox", filepath.Join(dir, "mb"), "--quiet",
			"--store", "s3://bucket/p?endpoint=http://AKIAKEY:TOPSECRET@127.0.0.1:1"},
		{"sync", "--user", "anna", "--source", dir, "--mailbox", filepath.Join(dir, "mb"), "--quiet",
			"--store", "s3://bucket/p", "--s3-endpoint", "http://AKIAKEY:TOPSECRET@127.0.0.1:1"},
	} {
		var out, errb bytes.Buffer
		run(append([]string{"pstsync"}, args...), &out, &errb)
		all := out.String() + errb.String()
		if strings.Contains(all, "TOPSECRET") || strings.Contains(all, "AKIAKEY") {
			t.Errorf("%v shows the credentials:\n%s", args, all)
		}
		if !strings.Contains(all, "<redacted>") && !strings.Contains(all, "store URL") {
			t.Logf("%v:\n%s", args, all)
		}
	}
	// Nor in the log file, nor anywhere else the runs wrote.
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte("TOPSECRET")) {
				t.Errorf("%s holds the secret", p)
			}
		}
		return nil
	})
}

// TestPruneCommand: prune and its alias forget run on a live store; a sync
// prunes by itself once a day.
func TestPruneCommand(t *testing.T) {
	dir := syncEnv(t)
	store := filepath.Join(dir, "store")
	cli := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(append([]string{"pstsync"}, args...), &out, &errb)
		return code, out.String() + errb.String()
	}
	for i := range 3 {
		writeSrc(t, filepath.Join(dir, "alice"), "a.ics", ev("A", "Alpha "+string(rune('0'+i))), time.Duration(3-i)*time.Hour)
		if code, out := cli("sync", "--user", "alice", "--source", filepath.Join(dir, "alice"), "--store", store,
			"--mailbox", filepath.Join(dir, "mb"), "--quiet", "--init"); code != exitOK {
			t.Fatalf("sync: %d %s", code, out)
		}
	}
	// The first sync pruned (nothing to remove) and recorded it.
	head, err := os.ReadFile(filepath.Join(store, "head.json"))
	if err != nil || !strings.Contains(string(head), `"last_prune"`) {
		t.Errorf("no daily prune recorded in head.json: %s %v", head, err)
	}
	for _, args := range [][]string{
		{"prune", "--dry-run", "--keep-within", "0d", "--keep-daily", "0", "--keep-monthly", "0"},
		{"forget", "--keep-within", "0d", "--keep-daily", "0", "--keep-monthly", "0", "--grace", "0s"},
	} {
		code, out := cli(append(args, "--store", store)...)
		if code != exitOK || !strings.Contains(out, "2 revision(s), kept 1") {
			t.Errorf("%v: %d %s", args, code, out)
		}
	}
	if code, out := cli("log", "--store", store); code != exitOK || !strings.Contains(out, "pruned") {
		t.Errorf("log after prune: %d %s", code, out)
	}
	if code, out := cli("check", "--store", store); code != exitOK {
		t.Errorf("check after prune: %d %s", code, out)
	}
	if code, out := cli("prune", "--keep-within", "soon", "--store", store); code != exitUsage {
		t.Errorf("bad --keep-within: %d %s", code, out)
	}
}
