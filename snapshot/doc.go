// Package snapshot is the shared snapshot repository of `pstsync sync`, kept
// on a sink.Store (a local folder or S3).
//
// Layout (every key is relative to the store's root):
//
//	objects/<hh>/<sha256hex>      immutable item bytes (one canonical ICS, vCard
//	                              or EML per item), content-addressed; hh is
//	                              the first two hex digits of the hash
//	revisions/<rev %012d>.json    manifest of revision rev (see Manifest)
//	conflicts/<rev %012d>.json    the conflicts recorded with revision rev
//	users/<user>/state.json       per-user state (see UserState)
//
// Objects are written with put-if-absent and verified against their hash
// whenever they are read. Revisions are numbered 1, 2, 3, ... without gaps;
// a revision is created only with put-if-absent, so of two writers of the
// same revision exactly one wins and the other gets an error for which
// IsConflict is true: it must re-read the latest revision, merge again and
// retry. Nothing is ever overwritten in place except a user's own state
// file, which is replaced only with If-Match on the ETag that was read.
//
// The package keeps no clock: times (a revision's Time, a state's Updated)
// are set by the caller. It knows nothing of the merge: conflicts are stored
// as opaque JSON.
package snapshot
