package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSyncKilledAtAnyMoment kills `pstsync sync` (SIGKILL) at moments
// spread over a whole run; after each kill `pstsync check` finds no
// problem, and a last complete run has every item.
func TestSyncKilledAtAnyMoment(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := syncEnv(t)
	bin := filepath.Join(t.TempDir(), "pstsync")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	store := filepath.Join(dir, "store")
	args := func(user string) []string {
		return []string{"sync", "--user", user, "--source", filepath.Join(dir, user), "--store", store,
			"--mailbox", filepath.Join(dir, "mb-"+user), "--quiet", "--init", "--prune-every", "0s"}
	}
	const n = 150
	for _, user := range []string{"alice", "bob"} {
		for i := range n {
			writeSrc(t, filepath.Join(dir, user), fmt.Sprintf("%s%03d.ics", user, i), ev(fmt.Sprintf("%s-%03d", user, i), fmt.Sprintf("Event %d of %s", i, user)), 3*time.Hour)
		}
	}
	// How long a whole first run takes, to spread the kills over it.
	probe := filepath.Join(dir, "probe")
	start := time.Now()
	if out, err := exec.Command(bin, "sync", "--user", "alice", "--source", filepath.Join(dir, "alice"), "--store", probe,
		"--mailbox", filepath.Join(dir, "mb-probe"), "--quiet", "--init").CombinedOutput(); err != nil {
		t.Fatalf("probe run: %v\n%s", err, out)
	}
	full := time.Since(start)
	check := func(when string) {
		t.Helper()
		// A run killed in its first milliseconds (a tenth of a short run)
		// may not have made the store yet, or (encrypted) not yet its key
		// file (at most a hidden temporary one): nothing was written,
		// nothing to check. The next sync starts the store
		// (TestSyncAfterKeyFileCut).
		if !holdsFiles(t, store) {
			t.Logf("%s: the store holds nothing yet", when)
			return
		}
		var out, errb bytes.Buffer
		if code := run([]string{"pstsync", "check", "--store", store}, &out, &errb); code != exitOK {
			t.Fatalf("check after %s: exit %d\n%s%s", when, code, out.String(), errb.String())
		}
	}
	const kills = 10
	for k := range kills {
		user := []string{"alice", "bob"}[k%2]
		if k >= 4 { // later kills hit changing syncs
			writeSrc(t, filepath.Join(dir, user), fmt.Sprintf("%s%03d.ics", user, k), ev(fmt.Sprintf("%s-%03d", user, k), fmt.Sprintf("Edit %d", k)), time.Hour)
		}
		cmd := exec.Command(bin, args(user)...)
		cmd.Env = os.Environ()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(full * time.Duration(k+1) / kills)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		check(fmt.Sprintf("kill %d (%s, at %d/%d of a run)", k, user, k+1, kills))
	}
	for _, user := range []string{"alice", "bob", "alice"} {
		if out, err := exec.Command(bin, args(user)...).CombinedOutput(); err != nil {
			var ee *exec.ExitError
			if !(asExit(err, &ee) && ee.ExitCode() == exitConflicts) {
				t.Fatalf("complete run of %s: %v\n%s", user, err, out)
			}
		}
	}
	check("the complete runs")
	// Nothing lost. (A run killed after its commit but before saving the
	// user's state makes the next run merge without a base: a later edit
	// can then come back as a conflict copy, never as a loss.)
	for _, user := range []string{"alice", "bob"} {
		for i := range n {
			p := filepath.Join(dir, "mb-alice", "calendar", fmt.Sprintf("%s-%03d.ics", user, i))
			if _, err := os.Stat(p); err != nil {
				t.Errorf("lost: %v", err)
			}
		}
	}
	copies, _ := filepath.Glob(filepath.Join(dir, "mb-alice", "calendar", "*-conflict-*.ics"))
	t.Logf("%d conflict copies", len(copies))
	var out, errb bytes.Buffer
	run([]string{"pstsync", "check", "--store", store}, &out, &errb)
	if strings.Contains(out.String(), "problem:") {
		t.Errorf("check:\n%s", out.String())
	}
}

func asExit(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*ee = e
	return ok
}

// holdsFiles reports whether the store folder holds a file that is not
// hidden (temporary files are).
func holdsFiles(t *testing.T, store string) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(store, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
