package snapshot

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// FormatVersion is the version of the manifest and state formats written by
// this package. Files with a different version are refused, not guessed at.
const FormatVersion = 1

// Op is the kind of a change recorded in a manifest.
type Op string

// The operations of a Change.
const (
	OpAdd          Op = "add"
	OpModify       Op = "modify"
	OpDelete       Op = "delete"
	OpConflictCopy Op = "conflict-copy"
)

// Valid reports whether op is one of the known operations.
func (op Op) Valid() bool {
	switch op {
	case OpAdd, OpModify, OpDelete, OpConflictCopy:
		return true
	}
	return false
}

// Author says who wrote a revision.
type Author struct {
	User string `json:"user"`
	Host string `json:"host,omitempty"`
}

// Entry is one item of a collection: the object holding its bytes, its kind
// (event, contact, message: the merge package's names) and a title for
// people (summary, full name, subject).
type Entry struct {
	Hash  string `json:"hash"`
	Kind  string `json:"kind"`
	Title string `json:"title,omitempty"`
}

// Change records what a revision did to one item: the audit record kept
// in the revision's header (and in the audit file when prune removes the
// revision).
type Change struct {
	Collection string `json:"collection"`
	UID        string `json:"uid"`
	Op         Op     `json:"op"`
	By         string `json:"by,omitempty"` // the user whose edit it was
	// Title, when set, is the item's title for people (summary, name).
	Title string `json:"title,omitempty"`
	// Fields, when set, names the fields the change touched (the merge
	// package's names), for the audit trail.
	Fields []string `json:"fields,omitempty"`
}

// Manifest is one revision of the shared snapshot: every collection (the
// shared calendar, the shared contacts, shared mail folders) as a map from
// item UID to Entry, plus who wrote it, when, and what changed relative to
// the parent revision.
type Manifest struct {
	Version int    `json:"version"`
	Rev     int64  `json:"rev"`
	Parent  int64  `json:"parent"`
	Author  Author `json:"author"`
	// Time is set by the caller; the package has no clock.
	Time        time.Time                   `json:"time"`
	Collections map[string]map[string]Entry `json:"collections"`
	Changes     []Change                    `json:"changes,omitempty"`
	// ChangesOmitted: Changes were left out (a revision of many changes
	// as Repo.Latest found it through the head pointer, which does not
	// repeat them); Repo.Header has them.
	ChangesOmitted bool `json:"-"`
	// ConflictsHash names the object holding the conflicts recorded with
	// this revision (the same bytes as conflicts/<rev>.json); empty when
	// there were none. Set by Commit.
	ConflictsHash string `json:"conflicts_object,omitempty"`
	// Conflicts, when set on a manifest passed to Commit, is stored as
	// conflicts/<rev>.json. It is opaque JSON (the merge package's
	// conflict list). It is not part of the manifest file; read it back
	// with Repo.Conflicts.
	Conflicts json.RawMessage `json:"-"`
}

// Items returns the number of items in all collections.
func (m *Manifest) Items() int {
	n := 0
	for _, c := range m.Collections {
		n += len(c)
	}
	return n
}

// Clone returns a deep copy of m.
func (m *Manifest) Clone() *Manifest {
	if m == nil {
		return nil
	}
	c := *m
	c.Collections = make(map[string]map[string]Entry, len(m.Collections))
	for name, items := range m.Collections {
		cp := make(map[string]Entry, len(items))
		for uid, e := range items {
			cp[uid] = e
		}
		c.Collections[name] = cp
	}
	c.Changes = slices.Clone(m.Changes)
	c.Conflicts = slices.Clone(m.Conflicts)
	return &c
}

// Encode returns the manifest's file bytes: deterministic JSON (collections
// and items sorted by name, changes sorted by collection, UID, op, user).
// It validates m first.
func (m *Manifest) Encode() ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	c := *m
	c.Version = FormatVersion
	if c.Collections == nil {
		c.Collections = map[string]map[string]Entry{}
	}
	c.Changes = slices.Clone(m.Changes)
	sortChanges(c.Changes)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&c); err != nil { // maps are encoded with sorted keys
		return nil, fmt.Errorf("snapshot: encoding revision %d: %w", m.Rev, err)
	}
	return buf.Bytes(), nil
}

func sortChanges(cs []Change) {
	if !slices.IsSortedFunc(cs, compareChanges) {
		slices.SortStableFunc(cs, compareChanges)
	}
}

func compareChanges(a, b Change) int {
	return cmp.Or(
		cmp.Compare(a.Collection, b.Collection),
		cmp.Compare(a.UID, b.UID),
		cmp.Compare(a.Op, b.Op),
		cmp.Compare(a.By, b.By))
}

// ParseManifest parses and validates a manifest file.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := decodeStrict(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptManifest, err)
	}
	if m.Version != FormatVersion {
		return nil, fmt.Errorf("%w: format version %d (this pstsync reads version %d; a newer pstsync may have written it)",
			ErrCorruptManifest, m.Version, FormatVersion)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptManifest, err)
	}
	if m.Collections == nil {
		m.Collections = map[string]map[string]Entry{}
	}
	return &m, nil
}

// decodeStrict decodes exactly one JSON value (nothing but white space
// after it: json.Unmarshal refuses trailing data) into v.
func decodeStrict(data []byte, v any) error { return json.Unmarshal(data, v) }

// validate checks the manifest's internal consistency. Rev, when set, must
// be Parent+1.
func (m *Manifest) validate() error {
	if m.Parent < 0 {
		return fmt.Errorf("%w: negative parent revision %d", ErrInvalid, m.Parent)
	}
	if m.Rev != m.Parent+1 {
		return fmt.Errorf("%w: revision %d with parent %d (revisions are sequential)", ErrInvalid, m.Rev, m.Parent)
	}
	if m.Author.User == "" {
		return fmt.Errorf("%w: revision %d has no author", ErrInvalid, m.Rev)
	}
	if m.Time.IsZero() {
		return fmt.Errorf("%w: revision %d has no time", ErrInvalid, m.Rev)
	}
	for name, items := range m.Collections {
		if name == "" {
			return fmt.Errorf("%w: revision %d: collection without a name", ErrInvalid, m.Rev)
		}
		for uid, e := range items {
			if uid == "" {
				return fmt.Errorf("%w: revision %d: collection %q: item without a UID", ErrInvalid, m.Rev, name)
			}
			if !ValidHash(e.Hash) {
				return fmt.Errorf("%w: revision %d: %s/%s: bad object hash %q", ErrInvalid, m.Rev, name, uid, e.Hash)
			}
		}
	}
	for i, c := range m.Changes {
		if c.Collection == "" || c.UID == "" || !c.Op.Valid() {
			return fmt.Errorf("%w: revision %d: change %d: %+v", ErrInvalid, m.Rev, i, c)
		}
	}
	if m.ConflictsHash != "" && !ValidHash(m.ConflictsHash) {
		return fmt.Errorf("%w: revision %d: bad conflicts hash %q", ErrInvalid, m.Rev, m.ConflictsHash)
	}
	return nil
}

// Diff lists the changes that turn collections from into collections to,
// attributed to user by: an item only in to is added, only in from
// deleted, in both with a different entry modified. The result is sorted.
func Diff(from, to map[string]map[string]Entry, by string) []Change {
	n := 0 // a new collection's items are all added
	for name, items := range to {
		if len(from[name]) == 0 {
			n += len(items)
		}
	}
	cs := make([]Change, 0, n)
	for name, items := range to {
		old := from[name]
		for uid, e := range items {
			if o, ok := old[uid]; !ok {
				cs = append(cs, Change{Collection: name, UID: uid, Op: OpAdd, By: by})
			} else if o != e {
				cs = append(cs, Change{Collection: name, UID: uid, Op: OpModify, By: by})
			}
		}
	}
	for name, items := range from {
		for uid := range items {
			if _, ok := to[name][uid]; !ok {
				cs = append(cs, Change{Collection: name, UID: uid, Op: OpDelete, By: by})
			}
		}
	}
	// Each item is changed once: no two changes compare equal, and the
	// order is the one sortChanges gives.
	slices.SortFunc(cs, compareChanges)
	return cs
}
