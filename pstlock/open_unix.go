//go:build unix

package pstlock

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

var errWouldBlock = unix.EWOULDBLOCK

// openShared opens path for reading and takes a shared flock without
// waiting: a process holding an exclusive flock (the Linux stand-in for
// Outlook) makes it fail with EWOULDBLOCK. Closing the file drops the lock.
func openShared(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	return f, nil
}

// isOSLocked: a raw EWOULDBLOCK is ambiguous on Unix; only openShared's
// (wrapped into a *LockedError) counts.
func isOSLocked(error) bool { return false }
