package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/pstsync/pstsync/config"
	"github.com/pstsync/pstsync/pst"
	"github.com/pstsync/pstsync/pstlock"
	"github.com/pstsync/pstsync/runlock"
	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/syncer"
)

// Exit codes, documented in the README. This is the one place they are
// defined; scheduled tasks and scripts rely on them.
const (
	exitOK          = 0
	exitError       = 1 // output could not be written, internal error
	exitUsage       = 2 // bad command line
	exitPartial     = 3 // finished, but some items could not be read or written
	exitInput       = 4 // an input file could not be opened at all
	exitConflicts   = 5 // sync finished; conflicts wait in the report (both versions kept)
	exitLocked      = 6 // the PST is held by another program (Outlook); run skipped, nothing changed
	exitUnreachable = 7 // the store could not be reached (network, credentials, bucket)
	exitConfig      = 8 // the configuration is invalid (file, environment or flags)
	exitRunning     = 9 // another run for this user is still running (or the store is being encrypted); run skipped
	// exitOutlook: Outlook cannot be used: not installed, not running,
	// not Windows, or a folder not found.
	exitOutlook = 10
	// exitOutlookBlocked: Outlook blocked the access (programmatic access
	// prompt) or did not answer in time; nothing changed.
	exitOutlookBlocked = 11
	exitOtherPC        = 12 // the user's state was written by another computer; nothing changed
	exitPassphrase     = 13 // the store is encrypted and the passphrase is missing or wrong; nothing written
	exitInterrupted    = 130
)

// exitOutcome names each exit code (log summary line, last-run.txt).
var exitOutcome = map[int]string{
	exitOK:             "ok",
	exitError:          "error",
	exitUsage:          "usage error",
	exitPartial:        "partial",
	exitInput:          "input unreadable",
	exitConflicts:      "conflicts pending",
	exitLocked:         "PST locked",
	exitUnreachable:    "store unreachable",
	exitConfig:         "bad config",
	exitRunning:        "already running",
	exitOutlook:        "Outlook unavailable",
	exitOutlookBlocked: "Outlook blocked or not answering",
	exitOtherPC:        "user synced from another computer",
	exitPassphrase:     "wrong passphrase",
	exitInterrupted:    "interrupted",
}

// scheduledOKCodes are the exit codes a scheduler must not treat as a
// failed run (systemd SuccessExitStatus).
var scheduledOKCodes = []int{exitConflicts, exitLocked, exitRunning}

// unreachableError is a store that could not be reached.
type unreachableError struct {
	store string
	err   error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("store %s cannot be reached: %v; check the network, the address and the credentials, then run: pstsync config check", e.store, e.err)
}
func (e *unreachableError) Unwrap() error { return e.err }

// conflictsError reports a sync that succeeded but left conflicts for a
// person to look at.
type conflictsError struct {
	n      int
	report string
}

func (e *conflictsError) Error() string {
	return fmt.Sprintf("%d conflict(s): both versions were kept; see %s", e.n, e.report)
}

// exitCoder is an error that names its own exit code (the Outlook
// bridge's, cmd_outlook.go).
type exitCoder interface {
	error
	exitCode() int
}

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

// partialError reports items, parts of items, folders or index pages
// that could not be read; the report has the details.
type partialError struct {
	failed  int // items not exported
	partial int // items exported without some parts
	files   int // files not read whole
	report  string
}

func (e *partialError) Error() string {
	if e.failed == 0 && e.partial == 0 {
		return fmt.Sprintf("%d file(s) are damaged: everything readable was exported; see %s for what could not be read", e.files, e.report)
	}
	return fmt.Sprintf("%d item(s) could not be exported and %d were exported without some parts; see %s for each one and why", e.failed, e.partial, e.report)
}

// syncProblemsError reports a sync that finished but left the items of
// sources it could not read cleanly as they were.
type syncProblemsError struct {
	sources   int
	conflicts int
	status    string
}

func (e *syncProblemsError) Error() string {
	msg := fmt.Sprintf("%d file(s) or folder(s) could not be read cleanly; their items were left as they were (nothing deleted); see %s", e.sources, e.status)
	if e.conflicts > 0 {
		msg += fmt.Sprintf("; also %d conflict(s), both versions kept (conflicts.html)", e.conflicts)
	}
	return msg
}

func exitCode(err error) int {
	var ue usageError
	var spe *syncProblemsError
	var ie *inputError
	var pe *partialError
	var se *unreachableError
	var ce *conflictsError
	var coded exitCoder
	var pe2 *passphraseError
	var be *storeBusyError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &pe2):
		return exitPassphrase
	case errors.As(err, &be):
		return exitRunning
	case errors.Is(err, config.ErrInvalid):
		return exitConfig
	case errors.Is(err, runlock.ErrLocked):
		return exitRunning
	case errors.Is(err, pstlock.ErrLocked):
		return exitLocked
	case errors.As(err, &se), errors.Is(err, sink.ErrUnavailable), errors.Is(err, sink.ErrAccessDenied),
		errors.Is(err, sink.ErrStoreMissing):
		return exitUnreachable
	case errors.Is(err, syncer.ErrOtherMachine):
		return exitOtherPC
	case errors.As(err, &ie):
		return exitInput
	case errors.As(err, &pe), errors.As(err, &spe):
		return exitPartial
	case errors.As(err, &ce):
		return exitConflicts
	case errors.As(err, &coded):
		return coded.exitCode()
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
	case pstlock.IsLocked(err):
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
