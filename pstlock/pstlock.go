// Package pstlock handles a PST file that another program (Outlook) holds
// open.
//
// Outlook keeps its PST open while it runs. Reading the file in place for
// the whole sync would either fail or read a file that changes under us,
// and a long read could stop Outlook from opening it. So a sync reads
// through a consistent copy: Copy opens the PST denying writers (Windows:
// FILE_SHARE_READ only — the open fails while any other handle can write,
// and no handle can gain write access while the copy runs), copies it to a
// temporary file next to the user's state and lets go at once. When the
// open fails because the file is in use (ERROR_SHARING_VIOLATION 32 or
// ERROR_LOCK_VIOLATION 33), Copy returns a *LockedError: the caller skips
// this run before touching any state, logs one clear line and exits with
// the "PST locked" exit code; the next scheduled run tries again.
//
// On Unix there are no mandatory share modes. There Copy takes a shared
// flock on the file for the duration of the copy and treats an exclusive
// flock held by another process exactly like the Windows sharing
// violation. Tests use that to simulate "Outlook has the file open" on
// Linux; a tool that writes without flock is not detected by the lock, but
// a size or modification-time change during the copy still is.
package pstlock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrLocked means another program holds the PST so that it cannot be read
// consistently now.
var ErrLocked = errors.New("in use by another program (Outlook?)")

// LockedError is a PST that could not be read because it is in use.
type LockedError struct {
	Path string
	Err  error // the OS error, or errChanged
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%s: %v, which does not let other programs read it now (%v); this run is skipped, the next one retries", e.Path, ErrLocked, e.Err)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

func (e *LockedError) Unwrap() error { return e.Err }

// IsLocked reports whether err means that a file is held open by another
// program: a *LockedError from this package, or on Windows the raw
// ERROR_SHARING_VIOLATION / ERROR_LOCK_VIOLATION of any file operation.
func IsLocked(err error) bool {
	return err != nil && (errors.Is(err, ErrLocked) || isOSLocked(err))
}

var errChanged = errors.New("the file changed while it was being copied")

// copyPrefix names the temporary copies, so RemoveStale finds what a
// killed run left behind.
const copyPrefix = "pstsync-copy-"

// Snapshot is a consistent copy of a PST.
type Snapshot struct {
	Path    string    // the copy: read this one
	Source  string    // the original
	Size    int64     // bytes copied
	ModTime time.Time // the original's modification time
}

// Remove deletes the copy.
func (s *Snapshot) Remove() error {
	if s == nil || s.Path == "" {
		return nil
	}
	err := os.Remove(s.Path)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	return err
}

// Copy makes a consistent copy of the PST at src in dir (created when
// missing; use a local folder with room for the PST). When another program
// holds the file, the error satisfies IsLocked and nothing is left in dir.
func Copy(ctx context.Context, src, dir string) (_ *Snapshot, err error) {
	in, err := openShared(src)
	if err != nil {
		if isOSLocked(err) || errors.Is(err, errWouldBlock) {
			return nil, &LockedError{Path: src, Err: err}
		}
		return nil, err
	}
	defer in.Close()
	before, err := in.Stat()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("copy %s: %w", src, err)
	}
	out, err := os.CreateTemp(dir, copyPrefix+"*.pst")
	if err != nil {
		return nil, fmt.Errorf("copy %s: %w", src, err)
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(out.Name())
		}
	}()
	n, err := io.Copy(out, &ctxReader{ctx: ctx, r: in})
	if err != nil {
		return nil, fmt.Errorf("copy %s to %s: %w", src, out.Name(), err)
	}
	if err := out.Close(); err != nil {
		return nil, fmt.Errorf("copy %s to %s: %w", src, out.Name(), err)
	}
	after, err := os.Stat(src)
	if err == nil && (after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) || n != before.Size()) {
		return nil, &LockedError{Path: src, Err: errChanged}
	}
	return &Snapshot{Path: out.Name(), Source: src, Size: n, ModTime: before.ModTime()}, nil
}

// RemoveStale deletes copies that a killed run left in dir. Call it while
// holding the run lock.
func RemoveStale(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
		return 0, err
	}
	n := 0
	var errs []error
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), copyPrefix) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				errs = append(errs, err)
				continue
			}
			n++
		}
	}
	return n, errors.Join(errs...)
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
