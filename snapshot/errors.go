package snapshot

import (
	"errors"
	"fmt"

	"github.com/pstsync/pstsync/sink"
)

// Sentinel errors. Errors returned by this package wrap them with context;
// test with errors.Is (or IsConflict).
var (
	// ErrConflict: another writer was first (a revision with the same
	// number exists, or the parent is no longer the latest revision, or a
	// state file changed since it was read). It wraps sink.ErrPrecondition.
	ErrConflict = fmt.Errorf("snapshot: conflict: %w", sink.ErrPrecondition)
	// ErrCorruptObject: an object's bytes do not match its hash.
	ErrCorruptObject = errors.New("snapshot: object is corrupt")
	// ErrObjectMissing: a manifest refers to an object that is not stored.
	ErrObjectMissing = errors.New("snapshot: object missing")
	// ErrCorruptManifest: a revision manifest cannot be parsed or is
	// inconsistent.
	ErrCorruptManifest = errors.New("snapshot: manifest is corrupt")
	// ErrCorruptState: a user's state file cannot be parsed. The caller
	// must start that user fresh (treating differences as additions or
	// conflicts, never as deletions).
	ErrCorruptState = errors.New("snapshot: user state is corrupt")
	// ErrInvalid: the caller passed an invalid manifest, state, hash or
	// user name.
	ErrInvalid = errors.New("snapshot: invalid argument")
)

// IsConflict reports whether err means another writer got there first: the
// caller must re-read the latest revision (or state), merge and retry.
func IsConflict(err error) bool { return errors.Is(err, sink.ErrPrecondition) }

// CorruptObjectError is returned when an object's bytes do not hash to its
// name. The bytes are never returned with it.
type CorruptObjectError struct {
	Hash   string // the object's name (expected hash)
	Actual string // the hash of the bytes read
}

func (e *CorruptObjectError) Error() string {
	return fmt.Sprintf("snapshot: object %s is corrupt: its bytes hash to %s", e.Hash, e.Actual)
}

// Unwrap makes errors.Is(err, ErrCorruptObject) true.
func (e *CorruptObjectError) Unwrap() error { return ErrCorruptObject }

// ConflictError is returned by Commit when revision Rev cannot be created
// because another writer created it first or the manifest's parent is not
// the latest revision.
type ConflictError struct {
	Rev    int64 // the revision that was to be written
	Latest int64 // the latest revision seen, when known (else 0)
	Err    error // the store's error, if the store refused the write
}

func (e *ConflictError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("snapshot: revision %d was created by another writer: re-read, merge and retry: %v", e.Rev, e.Err)
	}
	return fmt.Sprintf("snapshot: cannot write revision %d: the latest revision is %d: re-read, merge and retry", e.Rev, e.Latest)
}

// Unwrap makes IsConflict(err) and errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// IsCorruptState reports whether err means a user's state file is damaged
// (the user must start fresh; see Repo.LoadState).
func IsCorruptState(err error) bool { return errors.Is(err, ErrCorruptState) }
