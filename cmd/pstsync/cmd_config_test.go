package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/pstsync/pstsync/config"
	"github.com/pstsync/pstsync/freebusy"
	"github.com/pstsync/pstsync/pstlock"
	"github.com/pstsync/pstsync/runlock"
)

// isolate points the config and state locations into a temp dir and
// clears PSTSYNC_* / AWS_* variables of the caller's environment.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PSTSYNC_") && k != "PSTSYNC_SAMPLES" && k != "PSTSYNC_ROOT" || strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
		}
	}
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	t.Setenv("APPDATA", filepath.Join(dir, "config"))
	t.Setenv("LOCALAPPDATA", filepath.Join(dir, "state"))
	return dir
}

func TestConfigInitAndCheck(t *testing.T) {
	dir := isolate(t)
	store := filepath.Join(dir, "store")
	os.Mkdir(store, 0o755)
	path, _ := config.DefaultPath(runtime.GOOS, os.Getenv)

	code, out, errOut := runCLI(t, "config", "init", "--user", "anna", "--pst", filepath.Join(dir, "anna.pst"),
		"--store", store, "--mailbox", filepath.Join(dir, "mailbox"), "--share", "Team, Sales")
	if code != exitOK || !strings.Contains(out, path) {
		t.Fatalf("init: %d %q %q", code, out, errOut)
	}
	if st, err := os.Stat(path); err != nil || runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("written file: %v %v", st, err)
	}
	before, _ := os.ReadFile(path)
	if code, _, errOut := runCLI(t, "config", "init"); code == exitOK || !strings.Contains(errOut, "--force") {
		t.Errorf("second init: %d %q", code, errOut)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("refused init changed the file")
	}

	t.Setenv("PSTSYNC_S3_ACCESS_KEY", "AKIAEXAMPLE")
	t.Setenv("PSTSYNC_S3_SECRET_KEY", "very-secret-value")
	t.Setenv("PSTSYNC_ON_CONFLICT", "theirs")
	code, out, errOut = runCLI(t, "config", "check", "--every", "5m")
	if code != exitOK || !strings.Contains(out, "configuration OK") {
		t.Fatalf("check: %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{`"Team, Sales"`, `on_conflict          = "theirs"`, "env PSTSYNC_ON_CONFLICT", `"5m"`, "flag --every", "reachable, 0 revision(s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errOut, "very-secret-value") || strings.Contains(out+errOut, "AKIAEXAMPLE") {
		t.Error("check printed a credential")
	}
	if code, _, errOut := runCLI(t, "config", "check", "--on-conflict", "mine", "--store", filepath.Join(dir, "gone")); code != exitUnreachable {
		t.Errorf("missing store: %d %q", code, errOut)
	}
	// an S3 server that is not there: exit "store unreachable", credentials not echoed
	code, _, errOut = runCLI(t, "config", "check", "--store", "s3://office/pstsync", "--s3-endpoint", "127.0.0.1:1",
		"--s3-tls=false", "--s3-path-style", "--s3-timeout", "1s")
	if code != exitUnreachable || strings.Contains(errOut, "very-secret-value") {
		t.Errorf("unreachable S3: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "config", "check", "--every", "10s"); code != exitConfig || !strings.Contains(errOut, "every") {
		t.Errorf("bad every: %d %q", code, errOut)
	}
	if code, _, _ := runCLI(t, "config", "check", "--config", filepath.Join(dir, "none.toml")); code != exitConfig {
		t.Errorf("missing --config file: %d", code)
	}
	// credentials have no flag: a usage error, not silently accepted
	if code, _, _ := runCLI(t, "config", "check", "--s3-secret-key", "x"); code != exitUsage {
		t.Errorf("--s3-secret-key: exit %d, want %d", code, exitUsage)
	}
}

func TestScheduleInstallPrints(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("registers a real task on Windows")
	}
	dir := isolate(t)
	if code, _, errOut := runCLI(t, "schedule", "install"); code != exitConfig {
		t.Errorf("without config: %d %q", code, errOut)
	}
	store := filepath.Join(dir, "store")
	cfgPath := filepath.Join(dir, "my config.toml")
	if code, _, errOut := runCLI(t, "config", "init", "--config", cfgPath, "--user", "bob", "--pst", "b.pst", "--store", store, "--mailbox", dir); code != exitOK {
		t.Fatal(errOut)
	}
	code, out, errOut := runCLI(t, "schedule", "install", "--config", cfgPath, "--every", "30m", "--log-level", "debug")
	if code != exitOK {
		t.Fatalf("%d %q", code, errOut)
	}
	for _, want := range []string{"sync --config \"" + cfgPath + "\" --log-level=debug", "OnUnitInactiveSec=30m", "SuccessExitStatus=5 6 9", "*/30 * * * *"} {
		if runtime.GOOS == "darwin" && strings.Contains(want, "Sec") {
			continue
		}
		if !strings.Contains(out, want) {
			t.Errorf("install output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, "schedule", "status", "--config", cfgPath)
	if code != exitOK || !strings.Contains(out, "no run recorded yet") {
		t.Errorf("status: %d %s", code, out)
	}
}

func TestExitCodesOfSyncOutcomes(t *testing.T) {
	tests := []struct {
		err  error
		code int
	}{
		{nil, exitOK},
		{fmt.Errorf("run: %w", &runlock.LockedError{Path: "x.lock"}), exitRunning},
		{fmt.Errorf("read: %w", &pstlock.LockedError{Path: "a.pst", Err: errors.New("busy")}), exitLocked},
		{fmt.Errorf("load: %w", &config.Error{Key: "user", Msg: "missing"}), exitConfig},
		{configProblems{2}, exitConfig},
		{&unreachableError{store: "s3://b", err: errors.New("dial tcp: refused")}, exitUnreachable},
		{&conflictsError{n: 2, report: "conflicts.html"}, exitConflicts},
		{&partialError{failed: 1, report: "r"}, exitPartial},
		{errors.New("boom"), exitError},
	}
	seen := map[int]bool{}
	for _, tc := range tests {
		if got := exitCode(tc.err); got != tc.code {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.code)
		}
		if exitOutcome[tc.code] == "" {
			t.Errorf("exit code %d has no outcome name", tc.code)
		}
		seen[tc.code] = true
	}
	for _, c := range scheduledOKCodes {
		if !seen[c] {
			t.Errorf("scheduled-OK code %d untested", c)
		}
	}
}

// TestConfigInitFreeBusyHint: config init and check print the Internet
// Free/Busy search path to enter in Outlook.
func TestConfigInitFreeBusyHint(t *testing.T) {
	dir := isolate(t)
	store := filepath.Join(dir, "office", "store")
	os.MkdirAll(store, 0o755)
	code, out, errOut := runCLI(t, "config", "init", "--user", "anna", "--pst", filepath.Join(dir, "anna.pst"),
		"--store", store, "--mailbox", filepath.Join(dir, "mailbox"))
	want := "Search location: " + freebusy.SearchPath(filepath.Join(dir, "office", "freebusy"))
	if code != exitOK || !strings.Contains(out, want) || !strings.HasSuffix(want, "%NAME%.vfb") {
		t.Fatalf("init: %d %q %q; want %q", code, out, errOut, want)
	}
	code, out, _ = runCLI(t, "config", "check", "--freebusy", `\\nas\office\fb`)
	if code != exitOK || !strings.Contains(out, `Search location: file://\\nas\office\fb\%NAME%.vfb`) {
		t.Errorf("check: %d\n%s", code, out)
	}
}
