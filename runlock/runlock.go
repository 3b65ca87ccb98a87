// Package runlock keeps two runs of pstsync for the same user from
// overlapping. The lock is an OS file lock (flock on Unix, LockFileEx on
// Windows) on a file in the user's state folder, taken without waiting: a
// second run gets an error satisfying errors.Is(err, ErrLocked) and exits
// with its own exit code ("already running").
//
// Because the operating system drops the lock when its process ends, a run
// that crashed or was killed never blocks the next one: the file stays but
// is unlocked. The file holds the owner's PID, host and start time for
// messages; a new owner that finds the PID of a process that is no longer
// running logs that it takes over a stale lock. The file is never deleted
// (deleting a lock file races with a process that has just opened it).
package runlock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrLocked means another run holds the lock.
var ErrLocked = errors.New("another pstsync run for this user is still running")

// LockedError describes the holder of the lock, as far as its file says.
type LockedError struct {
	Path  string
	Owner Owner // zero when the file could not be read
}

func (e *LockedError) Error() string {
	msg := fmt.Sprintf("%v (lock %s", ErrLocked, e.Path)
	if e.Owner.PID != 0 {
		msg += fmt.Sprintf(", held by PID %d", e.Owner.PID)
		if e.Owner.Host != "" {
			msg += " on " + e.Owner.Host
		}
		if !e.Owner.Started.IsZero() {
			msg += " since " + e.Owner.Started.Format(time.RFC3339)
		}
	}
	return msg + "); this run is skipped"
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Owner is what a lock file records about its holder.
type Owner struct {
	PID     int
	Host    string
	Started time.Time
}

func (o Owner) encode() []byte {
	return fmt.Appendf(nil, "pid=%d\nhost=%s\nstarted=%s\n", o.PID, o.Host, o.Started.UTC().Format(time.RFC3339))
}

func parseOwner(b []byte) Owner {
	var o Owner
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch k {
		case "pid":
			o.PID, _ = strconv.Atoi(v)
		case "host":
			o.Host = v
		case "started":
			o.Started, _ = time.Parse(time.RFC3339, v)
		}
	}
	return o
}

// Lock is a held run lock.
type Lock struct {
	f    *os.File
	path string
}

// Acquire takes the lock at path without waiting, creating the file and
// its folder when needed. When another process (or another Acquire in
// this one) holds it, the error is a *LockedError (errors.Is ErrLocked).
func Acquire(ctx context.Context, path string) (*Lock, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("run lock: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("run lock: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			owner, _ := readOwner(path)
			return nil, &LockedError{Path: path, Owner: owner}
		}
		return nil, fmt.Errorf("run lock %s: %w", path, err)
	}
	prev, _ := readAll(f)
	if old := parseOwner(prev); old.PID != 0 && old.PID != os.Getpid() {
		if !processAlive(old.PID) {
			slog.InfoContext(ctx, "taking over a stale run lock: its process is no longer running",
				"lock", path, "stale_pid", old.PID, "stale_host", old.Host, "stale_since", old.Started)
		}
	}
	host, _ := os.Hostname()
	me := Owner{PID: os.Getpid(), Host: host, Started: time.Now()}
	if err := rewrite(f, me.encode()); err != nil {
		unlockFile(f)
		f.Close()
		return nil, fmt.Errorf("run lock %s: %w", path, err)
	}
	return &Lock{f: f, path: path}, nil
}

// Path is the lock file.
func (l *Lock) Path() string { return l.path }

// Release clears the owner record and drops the lock. Releasing twice is
// harmless.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	errTrunc := l.f.Truncate(0)
	errUnlock := unlockFile(l.f)
	errClose := l.f.Close()
	l.f = nil
	if err := errors.Join(errTrunc, errUnlock, errClose); err != nil {
		return fmt.Errorf("release run lock %s: %w", l.path, err)
	}
	return nil
}

// Holder reads the owner record of the lock file at path (zero Owner when
// the lock is free and the file empty).
func Holder(path string) (Owner, error) { return readOwner(path) }

func readOwner(path string) (Owner, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Owner{}, err
	}
	return parseOwner(b), nil
}

func readAll(f *os.File) ([]byte, error) {
	buf := make([]byte, 512)
	n, err := f.ReadAt(buf, 0)
	if n > 0 {
		err = nil
	}
	return buf[:n], err
}

func rewrite(f *os.File, b []byte) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(b, 0); err != nil {
		return err
	}
	return nil
}
