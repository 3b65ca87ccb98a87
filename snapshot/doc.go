// Package snapshot is the shared snapshot repository of `pstsync sync`, kept
// on a sink.Store (a local folder or S3).
//
// Layout (every key is relative to the store's root):
//
//	objects/<hh>/<sha256hex>      immutable item bytes (one canonical ICS, vCard
//	                              or EML per item), content-addressed; hh is
//	                              the first two hex digits of the hash; also
//	                              checkpoint trees and conflict records
//	revisions/<rev %012d>.json    header of revision rev (see Header): author,
//	                              host, time, the changes (audit record), and
//	                              the delta from its base revision; a
//	                              checkpoint names a tree object holding all
//	                              collections instead
//	head.json                     the latest revision its writer knew: its
//	                              header, its checkpoint and the changes
//	                              since (O(1) latest); only a hint
//	conflicts/<rev %012d>.json    the conflicts recorded with revision rev
//	users/<user>/state.json       per-user state (see UserState)
//	audit/<first>-<last>.json     audit records of revisions prune removed
//	prune/pending.json            objects a prune found unreferenced, with
//	                              since when (deleted by a later prune)
//
// A revision costs what it changed: its header holds the delta; every
// DefaultCheckpointItems (or a quarter of the items) changed items a
// revision is a checkpoint with a tree. Finding the latest revision reads
// head.json and probes the revision after it. Revision files are the
// authority: committing stays put-if-absent on the next number, and the
// head is moved afterwards with a conditional write.
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
