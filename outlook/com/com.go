// Package com is the Outlook bridge on Windows: COM automation of a
// running Outlook (or one it starts, with Options.Start) through go-ole.
//
// Every COM call runs on one goroutine locked to its OS thread, where COM
// was initialised (single-threaded apartment, as Outlook's object model
// requires). A caller waits at most for its context's deadline or
// Options.Timeout: a call blocked behind Outlook's programmatic-access
// prompt, a modal dialog or a hung Outlook gives outlook.ErrTimeout, and
// the session refuses every later call (the blocked call cannot be
// abandoned; the process exits and the next run retries).
//
// Reading asks PropertyAccessor for the MAPI properties the PST converters
// read (outlook.AppointmentProps, outlook.ContactProps), the recipients,
// the exceptions of a series (RecurrencePattern.Exceptions) and a
// contact's picture; writing sets the typed members of outlook.Write.
//
// On other systems Open returns outlook.ErrNotWindows. Under Wine (no
// Outlook) Open gives outlook.ErrNotInstalled: scripts/windows-test runs
// that path.
package com

import (
	"fmt"
	"strings"
	"time"

	"github.com/pstsync/pstsync/outlook"
)

// Options tune Open.
type Options struct {
	// Start starts Outlook when it is not running (CreateObject); without
	// it a closed Outlook is outlook.ErrNotRunning.
	Start bool
	// Timeout bounds each call to Outlook when the context has no earlier
	// deadline (default DefaultTimeout).
	Timeout time.Duration
}

// DefaultTimeout is the longest a single call to Outlook may take: long
// enough for a large folder listing, short enough that a scheduled run
// behind a prompt nobody sees ends well before the next one.
const DefaultTimeout = 60 * time.Second

// HRESULTs the calls map to outlook errors.
const (
	hrClassString    = 0x800401F3 // CO_E_CLASSSTRING: ProgID not registered (not installed)
	hrUnavailable    = 0x800401E3 // MK_E_UNAVAILABLE: no running instance
	hrAborted        = 0x80004004 // E_ABORT: access denied at the programmatic-access prompt
	hrAccessDenied   = 0x80070005 // E_ACCESSDENIED
	hrCallRejected   = 0x80010001 // RPC_E_CALL_REJECTED: Outlook busy
	hrRetryLater     = 0x8001010A // RPC_E_SERVERCALL_RETRYLATER
	hrDisconnected   = 0x80010108 // RPC_E_DISCONNECTED: Outlook went away
	hrServerUnavail  = 0x800706BA // RPC_S_SERVER_UNAVAILABLE
	hrObjectNotFound = 0x8004010F // MAPI_E_NOT_FOUND
	hrInvalidEntryID = 0x80040107 // MAPI_E_INVALID_ENTRYID
)

// classify maps an HRESULT to the outlook error a caller can act on; def
// is used for the codes of "not there" (class not registered, no running
// object) and may be nil.
func classify(code uintptr, text string, def error) error {
	c := uint32(code)
	switch c {
	case hrClassString, hrUnavailable:
		if def != nil {
			return fmt.Errorf("%w [0x%08X]", def, c)
		}
	case hrAborted, hrAccessDenied:
		return fmt.Errorf("%w [0x%08X]", outlook.ErrBlocked, c)
	case hrCallRejected, hrRetryLater, hrDisconnected, hrServerUnavail:
		return fmt.Errorf("%w [0x%08X]", outlook.ErrTimeout, c)
	case hrObjectNotFound, hrInvalidEntryID:
		return fmt.Errorf("%w [0x%08X]", outlook.ErrNotFound, c)
	}
	return fmt.Errorf("outlook: COM error 0x%08X: %s", c, strings.TrimSpace(text))
}
