package pstlock

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pstsync/pstsync/internal/testutil"
)

// With PSTLOCK_HELPER set the test binary is "Outlook": it opens the file
// the way PSTLOCK_MODE says (see hold_*_test.go), prints "held" and keeps
// it open until its stdin closes.
func TestMain(m *testing.M) {
	if path := os.Getenv("PSTLOCK_HELPER"); path != "" {
		os.Exit(helper(path, os.Getenv("PSTLOCK_MODE")))
	}
	os.Exit(m.Run())
}

func helper(path, mode string) int {
	release, err := hold(path, mode)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("held")
	_, _ = io.Copy(io.Discard, os.Stdin)
	release()
	return 0
}

// holdInOtherProcess starts the helper and returns a function that ends it.
func holdInOtherProcess(t *testing.T, path, mode string) func() {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "PSTLOCK_HELPER="+path, "PSTLOCK_MODE="+mode)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "held" {
		t.Fatalf("helper: %q", line)
	}
	done := false
	stop := func() {
		if done {
			return
		}
		done = true
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

func fakePST(t *testing.T) (string, []byte) {
	t.Helper()
	data := bytes.Repeat([]byte("!BDN fake pst content "), 50000) // ~1 MB
	path := filepath.Join(testutil.TempDir(t), "Outlook.pst")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, data
}

func assertNoCopies(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		t.Errorf("left behind in %s: %s", dir, e.Name())
	}
}

func TestCopyFree(t *testing.T) {
	src, data := fakePST(t)
	dir := filepath.Join(testutil.TempDir(t), "copies")
	s, err := Copy(context.Background(), src, dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(s.Path)
	if err != nil || !bytes.Equal(got, data) || s.Size != int64(len(data)) {
		t.Fatalf("copy differs (%d bytes, %v)", len(got), err)
	}
	if err := s.Remove(); err != nil {
		t.Fatal(err)
	}
	assertNoCopies(t, dir)
}

func TestCopyHeldByOtherProcess(t *testing.T) {
	tests := []struct {
		mode   string
		locked bool
	}{
		{"exclusive", true},     // Outlook: no sharing at all
		{"writer-shares", true}, // a writer that lets others read: no consistent copy
		{"reader", false},       // another reader: fine
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			src, data := fakePST(t)
			dir := testutil.TempDir(t)
			stop := holdInOtherProcess(t, src, tc.mode)
			s, err := Copy(context.Background(), src, dir)
			if tc.locked {
				var le *LockedError
				if !IsLocked(err) || !errors.As(err, &le) || le.Path != src {
					t.Fatalf("Copy while held %s: %v, want a locked error", tc.mode, err)
				}
				if !strings.Contains(err.Error(), "skipped") || !strings.Contains(err.Error(), src) {
					t.Errorf("message: %v", err)
				}
				assertNoCopies(t, dir)
				stop()
				s, err = Copy(context.Background(), src, dir)
			}
			if err != nil {
				t.Fatalf("Copy after release: %v", err)
			}
			defer s.Remove()
			if got, _ := os.ReadFile(s.Path); !bytes.Equal(got, data) {
				t.Error("copy differs")
			}
		})
	}
}

func TestIsLocked(t *testing.T) {
	for _, err := range []error{nil, errors.New("x"), os.ErrNotExist, context.Canceled} {
		if IsLocked(err) {
			t.Errorf("IsLocked(%v)", err)
		}
	}
	wrapped := fmt.Errorf("sync: %w", &LockedError{Path: "a.pst", Err: errChanged})
	if !IsLocked(wrapped) || !errors.Is(wrapped, ErrLocked) {
		t.Error("wrapped LockedError not detected")
	}
}

func TestCopyMissingAndCancelled(t *testing.T) {
	_, err := Copy(context.Background(), filepath.Join(testutil.TempDir(t), "none.pst"), testutil.TempDir(t))
	if !errors.Is(err, os.ErrNotExist) || IsLocked(err) {
		t.Errorf("missing: %v", err)
	}
	src, _ := fakePST(t)
	dir := testutil.TempDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Copy(ctx, src, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	assertNoCopies(t, dir)
}

func TestRemoveStale(t *testing.T) {
	dir := testutil.TempDir(t)
	for _, n := range []string{copyPrefix + "1.pst", copyPrefix + "2.pst", "keep.lock"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o600)
	}
	n, err := RemoveStale(dir)
	if err != nil || n != 2 {
		t.Fatalf("removed %d, %v", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keep.lock")); err != nil {
		t.Error("removed an unrelated file")
	}
	if n, err := RemoveStale(filepath.Join(dir, "none")); n != 0 || err != nil {
		t.Errorf("missing dir: %d %v", n, err)
	}
}
