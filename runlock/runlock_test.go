package runlock

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pstsync/pstsync/internal/testutil"
)

// The test binary doubles as the "other process": with RUNLOCK_HELPER set
// it takes the lock, says so on stdout and holds it until stdin closes
// (mode hold) or exits at once without releasing (mode crash).
func TestMain(m *testing.M) {
	if path := os.Getenv("RUNLOCK_HELPER"); path != "" {
		os.Exit(helper(path, os.Getenv("RUNLOCK_MODE")))
	}
	os.Exit(m.Run())
}

func helper(path, mode string) int {
	l, err := Acquire(context.Background(), path)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("locked")
	if mode == "crash" {
		return 0 // no Release: the OS drops the lock, the record stays
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := l.Release(); err != nil {
		return 1
	}
	return 0
}

func TestTwoGoroutines(t *testing.T) {
	path := filepath.Join(testutil.TempDir(t), "state", "alice.lock")
	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		results := make([]error, 2)
		locks := make([]*Lock, 2)
		start := make(chan struct{})
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				locks[i], results[i] = Acquire(context.Background(), path)
			}()
		}
		close(start)
		wg.Wait()
		won, lost := 0, 0
		for i, err := range results {
			switch {
			case err == nil:
				won++
				defer locks[i].Release()
			case errors.Is(err, ErrLocked):
				lost++
				var le *LockedError
				if !errors.As(err, &le) || le.Owner.PID != os.Getpid() && le.Owner.PID != 0 {
					t.Errorf("locked error %v: owner %+v", err, le)
				}
			default:
				t.Fatal(err)
			}
		}
		if won != 1 || lost != 1 {
			t.Fatalf("round %d: %d won, %d lost (%v)", round, won, lost, results)
		}
		for _, l := range locks {
			if err := l.Release(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// released: free again, and the record is cleared
	if o, err := Holder(path); err != nil || o.PID != 0 {
		t.Errorf("after release: %+v %v", o, err)
	}
}

func startHelper(t *testing.T, path, mode string) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "RUNLOCK_HELPER="+path, "RUNLOCK_MODE="+mode)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("helper said %q (%v)", line, err)
	}
	return cmd, stdin
}

func TestTwoProcesses(t *testing.T) {
	path := filepath.Join(testutil.TempDir(t), "bob.lock")
	cmd, stdin := startHelper(t, path, "hold")
	_, err := Acquire(context.Background(), path)
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second run: %v, want ErrLocked", err)
	}
	if le.Owner.PID != cmd.Process.Pid {
		t.Errorf("holder PID %d, want %d", le.Owner.PID, cmd.Process.Pid)
	}
	if !strings.Contains(err.Error(), fmt.Sprint(cmd.Process.Pid)) || !strings.Contains(err.Error(), "skipped") {
		t.Errorf("message: %v", err)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	l, err := Acquire(context.Background(), path)
	if err != nil {
		t.Fatalf("after the other run ended: %v", err)
	}
	if o, _ := Holder(path); o.PID != os.Getpid() {
		t.Errorf("record %+v, want our PID", o)
	}
	l.Release()
}

func TestStaleLockTakenOver(t *testing.T) {
	path := filepath.Join(testutil.TempDir(t), "carol.lock")
	cmd, stdin := startHelper(t, path, "crash")
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if o, _ := Holder(path); o.PID != cmd.Process.Pid {
		t.Fatalf("crashed run left %+v, want its PID %d", o, cmd.Process.Pid)
	}
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)
	l, err := Acquire(context.Background(), path)
	if err != nil {
		t.Fatalf("stale lock not taken over: %v", err)
	}
	defer l.Release()
	if !strings.Contains(buf.String(), "stale") || !strings.Contains(buf.String(), fmt.Sprint(cmd.Process.Pid)) {
		t.Errorf("no stale-lock log line: %q", buf.String())
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Acquire(ctx, filepath.Join(testutil.TempDir(t), "x.lock")); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func TestParseOwner(t *testing.T) {
	o := Owner{PID: 42, Host: "pc-7"}
	got := parseOwner(o.encode())
	if got.PID != 42 || got.Host != "pc-7" {
		t.Errorf("%+v", got)
	}
	if parseOwner([]byte("garbage\n\x00")).PID != 0 {
		t.Error("garbage parsed")
	}
}
