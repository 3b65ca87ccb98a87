//go:build windows

package main

import (
	"errors"
	"syscall"
)

// ERROR_SHARING_VIOLATION and ERROR_LOCK_VIOLATION.
const (
	errSharingViolation syscall.Errno = 32
	errLockViolation    syscall.Errno = 33
)

// isSharingViolation reports whether another process holds the file open
// without sharing it (Outlook running).
func isSharingViolation(err error) bool {
	return errors.Is(err, errSharingViolation) || errors.Is(err, errLockViolation)
}
