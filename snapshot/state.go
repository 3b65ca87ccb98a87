package snapshot

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/pstsync/pstsync/sink"
)

// UserState is what the snapshot remembers of one user between syncs: the
// revision last synced (the merge base) and the link table between the
// user's PST items and the shared items.
type UserState struct {
	Version int    `json:"version"`
	User    string `json:"user"`
	BaseRev int64  `json:"base_rev"`
	Links   []Link `json:"links"`
	// Machine is the id of the computer whose run wrote the state: the
	// same user syncing from a second computer is detected from it.
	Machine string `json:"machine,omitempty"`
	// Delivered lists, per shared item, the version last written to the
	// user's mailbox: the merge base of what comes back from it.
	Delivered []Delivered `json:"delivered,omitempty"`
	// Sources lists how each source (a file, a PST folder) was read by
	// the run that wrote the state.
	Sources []Source `json:"sources,omitempty"`
	// Updated is set by the caller; the package has no clock.
	Updated time.Time `json:"updated"`
}

// Link ties one item of the user's PST (Key: the syncer's stable key for
// it) to a shared item (UID in Collection), with the change marker seen at
// the last sync.
type Link struct {
	Key        string `json:"key"`
	UID        string `json:"uid"`
	Collection string `json:"collection"`
	Marker     Marker `json:"marker"`
	// Source is the source the item was read from (see Source.Key).
	Source string `json:"source,omitempty"`
	// Private: the user's item is private; the shared item is its busy
	// time only.
	Private bool `json:"private,omitempty"`
	// Copy: the item is a second, unchanged copy of shared item UID
	// (another item of the side holds it); it has no opinion while it
	// stays as Marker says.
	Copy bool `json:"copy,omitempty"`
	// Rewrites (Outlook bridge): the fields of the item as pstsync wrote
	// it into Outlook that Outlook shows differently (its own rewriting:
	// organizer, picture, time zones), one per line as "written shown
	// field" with short hashes of the two values ("-" for none). A field
	// read back as Outlook showed it is no edit of the user's. Encoded by
	// the syncer; a string so that a Link stays comparable.
	Rewrites string `json:"rewrites,omitempty"`
}

// Delivered is the version (Hash) of shared item UID in Collection last
// delivered to the user.
type Delivered struct {
	Collection string `json:"collection"`
	UID        string `json:"uid"`
	Hash       string `json:"hash"`
}

// Source is how one source of the user's side was read: Key names it (a
// file's path relative to the source folder, a PST folder's collection),
// Clean says it was read completely and without error, Hash is the
// SHA-256 of a file's content (change detection) and Items how many items
// it held. Stat, when set, is the file's metadata as it was when its
// content was read: a file whose metadata is the same in the next run
// still has that content and is not read again.
type Source struct {
	Key   string   `json:"key"`
	Clean bool     `json:"clean"`
	Hash  string   `json:"hash,omitempty"`
	Items int      `json:"items"`
	Stat  FileStat `json:"stat,omitzero"`
}

// FileStat is what a file's metadata says of its content, as git's index
// keeps it: size, modification and status-change times (nanoseconds since
// 1970) and the file's identity (inode and device). The zero FileStat
// means none is known.
type FileStat struct {
	Size  int64  `json:"size"`
	MTime int64  `json:"mtime"`
	CTime int64  `json:"ctime"`
	Inode uint64 `json:"ino"`
	Dev   uint64 `json:"dev,omitempty"`
}

// IsZero reports whether f is the zero FileStat (nothing known).
func (f FileStat) IsZero() bool { return f == FileStat{} }

// Marker is how the syncer tells whether a PST item changed since the last
// sync: its last-modification time, its change key, and the hash of its
// canonical bytes.
type Marker struct {
	LastModified time.Time `json:"last_modified,omitzero"`
	ChangeKey    string    `json:"change_key,omitempty"`
	Hash         string    `json:"hash,omitempty"`
}

// validate checks the state's consistency.
func (st *UserState) validate() error {
	if !ValidUser(st.User) {
		return fmt.Errorf("%w: user name %q", ErrInvalid, st.User)
	}
	if st.BaseRev < 0 {
		return fmt.Errorf("%w: state of %s: negative base revision %d", ErrInvalid, st.User, st.BaseRev)
	}
	// Duplicates are found among neighbours when the lists are in the
	// order Encode writes them (as every stored state is), else by a map.
	linkCmp := func(a, b Link) int { return cmp.Or(cmp.Compare(a.Collection, b.Collection), cmp.Compare(a.Key, b.Key)) }
	linkDup := dupFinder(st.Links, linkCmp, func(l Link) [2]string { return [2]string{l.Collection, l.Key} })
	for i, l := range st.Links {
		if l.Key == "" || l.UID == "" || l.Collection == "" {
			return fmt.Errorf("%w: state of %s: link %d is incomplete: %+v", ErrInvalid, st.User, i, l)
		}
		if l.Marker.Hash != "" && !ValidHash(l.Marker.Hash) {
			return fmt.Errorf("%w: state of %s: link %d: bad hash %q", ErrInvalid, st.User, i, l.Marker.Hash)
		}
		if linkDup(i) {
			return fmt.Errorf("%w: state of %s: item %q linked twice in %s", ErrInvalid, st.User, l.Key, l.Collection)
		}
	}
	delDup := dupFinder(st.Delivered, func(a, b Delivered) int {
		return cmp.Or(cmp.Compare(a.Collection, b.Collection), cmp.Compare(a.UID, b.UID))
	}, func(d Delivered) [2]string { return [2]string{d.Collection, d.UID} })
	for i, d := range st.Delivered {
		if d.UID == "" || d.Collection == "" || !ValidHash(d.Hash) {
			return fmt.Errorf("%w: state of %s: delivered %d is incomplete: %+v", ErrInvalid, st.User, i, d)
		}
		if delDup(i) {
			return fmt.Errorf("%w: state of %s: item %q delivered twice in %s", ErrInvalid, st.User, d.UID, d.Collection)
		}
	}
	srcDup := dupFinder(st.Sources, func(a, b Source) int { return cmp.Compare(a.Key, b.Key) },
		func(s Source) [2]string { return [2]string{s.Key} })
	for i, s := range st.Sources {
		if s.Key == "" || srcDup(i) || (s.Hash != "" && !ValidHash(s.Hash)) {
			return fmt.Errorf("%w: state of %s: source %d is invalid or repeated: %+v", ErrInvalid, st.User, i, s)
		}
	}
	return nil
}

// dupFinder returns a function telling whether xs[i] has the identity
// (by id) of an earlier element. When xs is sorted by c (identity first),
// only neighbours are compared; otherwise a map remembers identities.
func dupFinder[T any](xs []T, c func(a, b T) int, id func(T) [2]string) func(i int) bool {
	if slices.IsSortedFunc(xs, c) {
		return func(i int) bool { return i > 0 && id(xs[i-1]) == id(xs[i]) }
	}
	seen := make(map[[2]string]bool, len(xs))
	return func(i int) bool {
		k := id(xs[i])
		if seen[k] {
			return true
		}
		seen[k] = true
		return false
	}
}

// sorted is a copy of st as its file holds it: the version set, the links
// sorted by collection, key and UID, the delivered versions by collection
// and UID, the sources by key.
func (st *UserState) sorted() UserState {
	c := *st
	c.Version = FormatVersion
	c.Links = slices.Clone(st.Links)
	if c.Links == nil {
		c.Links = []Link{}
	}
	slices.SortFunc(c.Links, func(a, b Link) int {
		return cmp.Or(cmp.Compare(a.Collection, b.Collection), cmp.Compare(a.Key, b.Key), cmp.Compare(a.UID, b.UID))
	})
	c.Delivered = slices.Clone(st.Delivered)
	slices.SortFunc(c.Delivered, func(a, b Delivered) int {
		return cmp.Or(cmp.Compare(a.Collection, b.Collection), cmp.Compare(a.UID, b.UID))
	})
	c.Sources = slices.Clone(st.Sources)
	slices.SortFunc(c.Sources, func(a, b Source) int { return cmp.Compare(a.Key, b.Key) })
	return c
}

// Encode returns the state file's bytes: deterministic JSON with the links
// sorted by collection, key and UID. It validates st first.
func (st *UserState) Encode() ([]byte, error) {
	if err := st.validate(); err != nil {
		return nil, err
	}
	c := st.sorted()
	if data, ok := appendStateJSON(make([]byte, 0, stateJSONSize(&c)), &c); ok {
		return data, nil
	}
	return encodeStateSlow(&c)
}

// encodeStateSlow encodes st with encoding/json: what appendStateJSON
// writes faster (see stateenc.go), and the error it leaves to it.
func encodeStateSlow(st *UserState) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(st); err != nil {
		return nil, fmt.Errorf("snapshot: encoding state of %s: %w", st.User, err)
	}
	return buf.Bytes(), nil
}

// ParseState parses and validates a state file. Every failure wraps
// ErrCorruptState.
func ParseState(data []byte) (*UserState, error) {
	st, err := parseStateFast(data)
	if err != nil {
		st, err = parseStateSlow(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptState, err)
	}
	if st.Version != FormatVersion {
		return nil, fmt.Errorf("%w: format version %d (this pstsync reads version %d)", ErrCorruptState, st.Version, FormatVersion)
	}
	if err := st.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptState, err)
	}
	return st, nil
}

// LoadState reads user's state and returns it with its ETag (for
// SaveState).
//
//   - No state stored: (nil, "", nil): the user is new (or the state was
//     lost) and syncs from scratch.
//   - A state that cannot be parsed, or that belongs to another user: (nil,
//     etag, err) with errors.Is(err, ErrCorruptState). The caller starts
//     the user fresh and may overwrite the damaged file by passing etag to
//     SaveState. A fresh start must never delete anything.
func (r *Repo) LoadState(ctx context.Context, user string) (*UserState, string, error) {
	if !ValidUser(user) {
		return nil, "", fmt.Errorf("%w: user name %q", ErrInvalid, user)
	}
	key := StateKey(user)
	data, etag, err := r.store.Get(ctx, key)
	if sink.IsNotExist(err) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("snapshot: reading %s: %w", key, err)
	}
	st, err := ParseState(data)
	if err != nil {
		return nil, etag, fmt.Errorf("snapshot: %s: %w", key, err)
	}
	if st.User != user {
		return nil, etag, fmt.Errorf("snapshot: %s: %w: it belongs to user %q", key, ErrCorruptState, st.User)
	}
	return st, etag, nil
}

// SaveState writes user's state and returns the new ETag. etag is the one
// LoadState returned: "" creates the state only if there is none; any other
// value replaces the state only if it is unchanged since it was read. When
// another run changed it meanwhile, nothing is written and the error
// satisfies IsConflict. st.User is set to user when empty.
func (r *Repo) SaveState(ctx context.Context, user string, st *UserState, etag string) (string, error) {
	data, err := EncodeState(user, st)
	if err != nil {
		return "", err
	}
	return r.PutState(ctx, user, data, etag)
}

// EncodeState returns the bytes SaveState writes for user's state st (a
// run encodes while it does other work, and keeps a local copy of them).
// st.User is taken as user when empty.
func EncodeState(user string, st *UserState) ([]byte, error) {
	if !ValidUser(user) {
		return nil, fmt.Errorf("%w: user name %q", ErrInvalid, user)
	}
	c := *st
	if c.User == "" {
		c.User = user
	}
	if c.User != user {
		return nil, fmt.Errorf("%w: saving the state of %q as user %q", ErrInvalid, c.User, user)
	}
	data, err := c.Encode()
	if err != nil {
		return nil, fmt.Errorf("snapshot: save state: %w", err)
	}
	return data, nil
}

// PutState writes user's state as EncodeState encoded it, data, on the
// same conditions as SaveState.
func (r *Repo) PutState(ctx context.Context, user string, data []byte, etag string) (string, error) {
	if !ValidUser(user) {
		return "", fmt.Errorf("%w: user name %q", ErrInvalid, user)
	}
	cond := sink.Cond{IfNoneMatch: etag == "", IfMatch: etag}
	key := StateKey(user)
	newTag, err := r.store.Put(ctx, key, data, cond)
	if err != nil {
		if sink.IsPreconditionFailed(err) {
			return "", fmt.Errorf("snapshot: %s changed since it was read (another sync of %s running?): %w", key, user, ErrConflict)
		}
		return "", fmt.Errorf("snapshot: writing %s: %w", key, err)
	}
	return newTag, nil
}
