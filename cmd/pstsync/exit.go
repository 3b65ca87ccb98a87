package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/pstsync/pstsync/migrate"
	"github.com/pstsync/pstsync/pst"
)

// Exit codes, documented in the README.
const (
	exitOK          = 0
	exitError       = 1 // output could not be written, internal error
	exitUsage       = 2 // bad command line
	exitPartial     = 3 // finished, but some items could not be read or written
	exitInput       = 4 // an input file could not be opened at all
	exitInterrupted = 130
)

type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// inputError is a file that could not be opened at all; its message is one
// line naming the file and the remedy.
type inputError struct {
	path string
	err  error
}

func (e *inputError) Error() string { return describeInput(e.path, e.err) }
func (e *inputError) Unwrap() error { return e.err }

// partialError reports items that failed; the report has the details.
type partialError struct {
	failed int
	report string
}

func (e *partialError) Error() string {
	return fmt.Sprintf("%d item(s) could not be exported; see %s for each one and why", e.failed, e.report)
}

func exitCode(err error) int {
	var ue usageError
	var ie *inputError
	var pe *partialError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ie):
		return exitInput
	case errors.As(err, &pe):
		return exitPartial
	}
	return exitError
}

// describeInput turns an open error into one line: the file, what is
// wrong, what to do.
func describeInput(path string, err error) string {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("%s: no such file; check the path", path)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("%s: permission denied; run as a user who can read it, or copy it somewhere readable", path)
	case isSharingViolation(err):
		return fmt.Sprintf("%s: in use by another program (Outlook?); close it, or copy the file and read the copy", path)
	case errors.Is(err, syscall.EISDIR) || isDir(path):
		return fmt.Sprintf("%s: is a directory; pass the .pst file inside it", path)
	case errors.Is(err, pst.ErrNotPST):
		return fmt.Sprintf("%s: not an Outlook data file (.pst/.ost): %v; check that you picked the right file", path, unwrapFormat(err))
	case errors.Is(err, pst.ErrHeaderChecksum):
		return fmt.Sprintf("%s: damaged (header checksum mismatch); repair it with Outlook's Inbox Repair Tool (scanpst.exe), then retry", path)
	case errors.Is(err, pst.ErrTruncated):
		return fmt.Sprintf("%s: truncated or damaged (%v); copy it again from its source or repair it with scanpst.exe", path, unwrapFormat(err))
	case errors.As(err, &pe):
		return fmt.Sprintf("%s: %v", path, pe.Err)
	}
	return fmt.Sprintf("%s: cannot be read: %v; it may be damaged, try scanpst.exe", path, err)
}

func unwrapFormat(err error) string {
	var fe *pst.FormatError
	if errors.As(err, &fe) {
		return fe.What
	}
	return err.Error()
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// openErrOf rebuilds the open error of a file the export could not open,
// for the one-line message.
func openErrOf(f *migrate.FileReport) error {
	if _, err := pst.Open(f.File); err != nil {
		return err
	}
	return errors.New(f.Error)
}
