//go:build windows

package pstlock

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

var errWouldBlock = windows.ERROR_LOCK_VIOLATION

// openShared opens path for reading, sharing it with readers only: it
// fails with ERROR_SHARING_VIOLATION while another handle may write (or
// does not share reading), and while we hold it nobody can open it for
// writing — the copy is consistent.
func openShared(path string) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ, windows.FILE_SHARE_READ, nil,
		windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL|windows.FILE_FLAG_SEQUENTIAL_SCAN, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// isOSLocked reports ERROR_SHARING_VIOLATION (32) and ERROR_LOCK_VIOLATION
// (33); both are syscall.Errno values, so errors from package os and
// syscall match too.
func isOSLocked(err error) bool {
	return errors.Is(err, windows.ERROR_SHARING_VIOLATION) || errors.Is(err, windows.ERROR_LOCK_VIOLATION)
}
