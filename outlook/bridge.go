// Package outlook is pstsync's bridge to a running Outlook: the small
// interface a sync needs (list items with id and modification time, read,
// write, delete, in the default Calendar and Contacts folders and named
// shared folders), the item model, and the conversions between Outlook
// items and merge.Doc.
//
// Reading goes through the same MAPI properties the PST reader decodes: an
// Item carries them as a pst.Message (read through Outlook's
// PropertyAccessor by the COM adapter), so the converters of pst/cal and
// pst/contact turn it into the same iCalendar and vCard, and the same
// merge.Doc, as the PST path does. Writing goes through the object
// model's typed members (Write), since Outlook recomputes the dependent
// properties itself and refuses some of them through PropertyAccessor
// (the recurrence blob among them): RecurrencePattern for series,
// GetOccurrence for exceptions. README ("Outlook live") gives the reasons
// and what each way loses.
//
// Implementations: outlook/com (Windows, COM automation through go-ole)
// and outlook/fake (in memory, with Outlook's known behaviours, for tests
// and for `pstsync outlook selftest --fake`).
package outlook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pstsync/pstsync/pst"
)

// FolderKind names which folder a FolderRef is.
type FolderKind int

// Folder kinds.
const (
	// Calendar is the default Calendar of the default store.
	Calendar FolderKind = iota + 1
	// Contacts is the default Contacts folder of the default store.
	Contacts
	// Named is a folder found by its name (a --share folder): searched in
	// every store of the profile; a name found in several stores is an
	// error (ErrAmbiguous) unless given as "Store/Folder".
	Named
)

// FolderRef identifies a folder.
type FolderRef struct {
	Kind FolderKind
	// Name is the folder's name (Named) or path "Store/Folder/Sub".
	Name string
}

func (f FolderRef) String() string {
	switch f.Kind {
	case Calendar:
		return "Calendar"
	case Contacts:
		return "Contacts"
	}
	return f.Name
}

// Entry is one row of a folder listing: what a sync needs to decide
// whether an item changed since the last run without reading it.
type Entry struct {
	// ID is the item's EntryID (hex). It is stable while the item stays
	// in its store; it changes when the item moves to another store, so a
	// sync links items by their pstsync UID too.
	ID string
	// Modified is PidTagLastModificationTime as Outlook keeps it: whole
	// seconds at best (compare with Equal, never with finer times).
	Modified time.Time
	// ChangeKey is PidTagChangeKey (hex): it changes with every save,
	// also within the same second.
	ChangeKey string
	// UID is the pstsync UID user property ("" for an item pstsync never
	// wrote). The listing carries it so that a moved item is recognised
	// without reading it.
	UID string
}

// Item is one item read from Outlook.
type Item struct {
	Entry
	// Msg holds the item's MAPI properties, recipients and attachments,
	// as the PST reader gives them: the exceptions of a series as
	// embedded messages, a contact's photo as its attachment. Named
	// properties are resolved through Msg.Props' namer.
	Msg *pst.Message
}

// Sensitivity values (OlSensitivity, PidTagSensitivity).
const (
	SensitivityNormal       = 0
	SensitivityPersonal     = 1
	SensitivityPrivate      = 2
	SensitivityConfidential = 3
)

// Private reports whether the item is marked private (olPrivate) or
// confidential: its details never leave this PC, only its busy time.
func (it *Item) Private() bool {
	if it == nil || it.Msg == nil {
		return false
	}
	s, _ := it.Msg.Props.Int(pst.TagSensitivity)
	return s == SensitivityPrivate || s == SensitivityConfidential
}

// Bridge is the user's side in Outlook: what a sync reads and where it
// delivers. Every call takes a context; an implementation returns within
// its deadline (ErrTimeout) even when Outlook does not answer.
type Bridge interface {
	// List returns every item of the folder that the sync handles
	// (appointments in a calendar, contacts in a contacts folder).
	List(ctx context.Context, f FolderRef) ([]Entry, error)
	// Read returns one item by EntryID (ErrNotFound when it is gone).
	Read(ctx context.Context, f FolderRef, id string) (*Item, error)
	// Write creates (id == "") or changes the item and returns its entry
	// as Outlook saved it (a new EntryID on create, the new
	// modification time). Outlook may refuse an item (ErrRefused).
	Write(ctx context.Context, f FolderRef, id string, w *Write) (Entry, error)
	// Delete moves the item to Deleted Items, as a user's delete does.
	Delete(ctx context.Context, f FolderRef, id string) error
}

// Session is a Bridge with the folder management that
// `pstsync outlook selftest` needs, and a Close.
type Session interface {
	Bridge
	// Stores returns the display names of the profile's stores, the
	// default store first.
	Stores(ctx context.Context) ([]string, error)
	// CreateFolder creates a folder for items of kind (Calendar or
	// Contacts) under that kind's default folder.
	CreateFolder(ctx context.Context, kind FolderKind, name string) (FolderRef, error)
	// RemoveFolder deletes a folder made by CreateFolder, for good.
	RemoveFolder(ctx context.Context, f FolderRef) error
	Close() error
}

// Errors of a Bridge. Callers test them with errors.Is; each has a one-line
// message saying what to do.
var (
	ErrNotInstalled = errors.New("outlook: not installed on this PC (no Outlook.Application): use the PST path (--pst) instead of --outlook")
	ErrNotRunning   = errors.New("outlook: Outlook is not running: start Outlook, or run without --outlook to read the PST file")
	ErrBlocked      = errors.New("outlook: access blocked (programmatic access security): allow it under File > Options > Trust Center > Programmatic Access, or keep antivirus up to date")
	ErrTimeout      = errors.New("outlook: no answer in time (busy, hung, or a dialog is open): close open dialogs; the next run retries")
	ErrNotFound     = errors.New("outlook: item not found")
	ErrNoFolder     = errors.New("outlook: folder not found")
	ErrAmbiguous    = errors.New("outlook: folder name found in several stores of the Outlook profile: name it as \"Store/Folder\"")
	ErrRefused      = errors.New("outlook: Outlook refused the item")
	ErrNotWindows   = errors.New("outlook: the Outlook bridge needs Windows")
)

// FolderError names the folder an error is about.
type FolderError struct {
	Folder FolderRef
	Err    error
}

func (e *FolderError) Error() string { return fmt.Sprintf("folder %q: %v", e.Folder, e.Err) }
func (e *FolderError) Unwrap() error { return e.Err }
