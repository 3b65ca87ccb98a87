package snapshot

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// HeaderVersion is the version of the revision files (headers) and the
// head pointer written by this package. Version 1 revision files (a full
// manifest each, written by earlier releases) are still read: each counts
// as a checkpoint.
const HeaderVersion = 2

// Delta is one item that a revision changed relative to the revision its
// delta applies to: Entry is the item's new entry (nil when the revision
// removed it), Old its entry before (nil when the revision added it). Old
// lets a reader walk back from a newer revision to an older one.
type Delta struct {
	Collection string `json:"c"`
	UID        string `json:"u"`
	Entry      *Entry `json:"e,omitempty"`
	Old        *Entry `json:"o,omitempty"`
}

// Header is a revision as stored in revisions/<rev>.json: who wrote it,
// when, what it changed (Changes: the audit record, one per item, kept
// when history is pruned) and how to rebuild its collections: Delta
// applied to revision Base, or, for a checkpoint, the full collections in
// the object Tree. A header is small: it costs what the revision changed.
//
// Audit: Author, Time, Changes (collection, UID, title, operation, editor,
// fields) and Conflicts together say who changed what, where and when; a
// later format may add fields (every reader ignores none: the version
// says what is there). Prune keeps these records (see Repo.Prune) even
// when it removes the revision.
type Header struct {
	Version int    `json:"version"`
	Rev     int64  `json:"rev"`
	Parent  int64  `json:"parent"`
	Author  Author `json:"author"`
	// Time is set by the committer; the package has no clock.
	Time    time.Time `json:"time"`
	Items   int       `json:"items"`
	Changes []Change  `json:"changes,omitempty"`
	// ConflictsHash names the object with the conflicts recorded with
	// this revision; empty when there were none.
	ConflictsHash string `json:"conflicts_object,omitempty"`
	// Base is the revision Delta applies to: Parent, or an older one
	// after pruning removed the revisions in between. 0 with Delta
	// relative to the empty snapshot.
	Base  int64   `json:"base"`
	Delta []Delta `json:"delta,omitempty"`
	// Tree, on a checkpoint, names the object holding every collection
	// of this revision (see encodeTree); Base and Delta still describe the
	// step from Base, for readers walking back.
	Tree string `json:"tree,omitempty"`
	// Chain counts the delta items since the last checkpoint on the way
	// back through Base (0 on a checkpoint): the committer writes a
	// checkpoint when it grows too long.
	Chain int `json:"chain"`
	// Collections names the collections of the revision (with or without
	// items).
	Collections []string `json:"collections"`

	// ChangesOmitted is set only in head.json's copy of a header whose
	// changes were too many to repeat there.
	ChangesOmitted bool `json:"changes_omitted,omitempty"`

	// full holds the collections of a version 1 revision file (a full
	// manifest): such a revision is its own checkpoint.
	full map[string]map[string]Entry
}

// A tree object (what a checkpoint's Tree names) lists every item of a
// revision, one line each, sorted, after a first line "pstsync-tree 2 REV":
//
//	COLLECTION TAB UID TAB HASH TAB KIND TAB TITLE LF
//
// with backslash, tab, LF and CR in a field written as \\, \t, \n, \r.
// A line format because a sync reads the tree of thousands of items on
// every run: it parses several times faster than JSON.
const treeMagic = "pstsync-tree"

var treeEscaper = strings.NewReplacer("\\", "\\\\", "\t", "\\t", "\n", "\\n", "\r", "\\r")

func treeEsc(s string) string {
	if strings.ContainsAny(s, "\\\t\n\r") {
		return treeEscaper.Replace(s)
	}
	return s
}

func treeUnesc(s string) (string, error) {
	if !strings.Contains(s, "\\") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 == len(s) {
			return "", errors.New("backslash at the end of a field")
		}
		i++
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			return "", fmt.Errorf("unknown escape \\%c", s[i])
		}
	}
	return b.String(), nil
}

// encodeTree returns the tree object of revision rev's collections. Empty
// collections are named by the revision's header, not here.
func encodeTree(rev int64, colls map[string]map[string]Entry) []byte {
	n := 0
	for _, items := range colls {
		n += len(items)
	}
	var b bytes.Buffer
	b.Grow(32 + n*120)
	fmt.Fprintf(&b, "%s %d %d\n", treeMagic, HeaderVersion, rev)
	for _, name := range slices.Sorted(maps.Keys(colls)) {
		items := colls[name]
		ename := treeEsc(name)
		for _, uid := range slices.Sorted(maps.Keys(items)) {
			e := items[uid]
			b.WriteString(ename)
			b.WriteByte('\t')
			b.WriteString(treeEsc(uid))
			b.WriteByte('\t')
			b.WriteString(e.Hash)
			b.WriteByte('\t')
			b.WriteString(treeEsc(e.Kind))
			b.WriteByte('\t')
			b.WriteString(treeEsc(e.Title))
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// checkpoint reports whether the header's collections are stored whole.
func (h *Header) checkpoint() bool { return h.Tree != "" || h.full != nil }

func (h *Header) validate() error {
	if h.Parent < 0 || h.Rev != h.Parent+1 {
		return fmt.Errorf("%w: revision %d with parent %d (revisions are sequential)", ErrInvalid, h.Rev, h.Parent)
	}
	if h.Base < 0 || h.Base > h.Parent {
		return fmt.Errorf("%w: revision %d: delta base %d is not an earlier revision", ErrInvalid, h.Rev, h.Base)
	}
	if h.Author.User == "" {
		return fmt.Errorf("%w: revision %d has no author", ErrInvalid, h.Rev)
	}
	if h.Time.IsZero() {
		return fmt.Errorf("%w: revision %d has no time", ErrInvalid, h.Rev)
	}
	if h.Tree != "" && !ValidHash(h.Tree) {
		return fmt.Errorf("%w: revision %d: bad tree hash %q", ErrInvalid, h.Rev, h.Tree)
	}
	if h.ConflictsHash != "" && !ValidHash(h.ConflictsHash) {
		return fmt.Errorf("%w: revision %d: bad conflicts hash %q", ErrInvalid, h.Rev, h.ConflictsHash)
	}
	for i, c := range h.Changes {
		if c.Collection == "" || c.UID == "" || !c.Op.Valid() {
			return fmt.Errorf("%w: revision %d: change %d: %+v", ErrInvalid, h.Rev, i, c)
		}
	}
	for i, d := range h.Delta {
		if d.Collection == "" || d.UID == "" || (d.Entry == nil && d.Old == nil) {
			return fmt.Errorf("%w: revision %d: delta %d is incomplete", ErrInvalid, h.Rev, i)
		}
		for _, e := range []*Entry{d.Entry, d.Old} {
			if e != nil && !ValidHash(e.Hash) {
				return fmt.Errorf("%w: revision %d: %s/%s: bad object hash %q", ErrInvalid, h.Rev, d.Collection, d.UID, e.Hash)
			}
		}
	}
	return nil
}

// encode returns the header file's bytes (deterministic JSON).
func (h *Header) encode() ([]byte, error) {
	if err := h.validate(); err != nil {
		return nil, err
	}
	c := *h
	c.Version = HeaderVersion
	sortChanges(c.Changes)
	sortDelta(c.Delta)
	return encodeJSON(&c)
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("snapshot: encoding: %w", err)
	}
	return buf.Bytes(), nil
}

func sortDelta(ds []Delta) {
	slices.SortFunc(ds, func(a, b Delta) int {
		return cmp.Or(cmp.Compare(a.Collection, b.Collection), cmp.Compare(a.UID, b.UID))
	})
}

// parseHeader parses the revision file of revision rev, of either format
// version.
func parseHeader(rev int64, data []byte) (*Header, error) {
	var probe struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%s: %w: %v (run pstsync check)", RevisionKey(rev), ErrCorruptManifest, err)
	}
	var h *Header
	switch probe.Version {
	case FormatVersion:
		m, err := ParseManifest(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w (run pstsync check)", RevisionKey(rev), err)
		}
		h = &Header{Version: FormatVersion, Rev: m.Rev, Parent: m.Parent, Author: m.Author, Time: m.Time,
			Items: m.Items(), Changes: m.Changes, ConflictsHash: m.ConflictsHash, Base: m.Parent, full: m.Collections}
	case HeaderVersion:
		h = new(Header)
		if err := decodeStrict(data, h); err != nil {
			return nil, fmt.Errorf("%s: %w: %v (run pstsync check)", RevisionKey(rev), ErrCorruptManifest, err)
		}
		if err := h.validate(); err != nil {
			return nil, fmt.Errorf("%s: %w: %v (run pstsync check)", RevisionKey(rev), ErrCorruptManifest, err)
		}
	default:
		return nil, fmt.Errorf("%s: %w: format version %d (this pstsync reads versions %d and %d; a newer pstsync may have written it)",
			RevisionKey(rev), ErrCorruptManifest, probe.Version, FormatVersion, HeaderVersion)
	}
	if h.Rev != rev {
		return nil, fmt.Errorf("%s: %w: it says it is revision %d", RevisionKey(rev), ErrCorruptManifest, h.Rev)
	}
	return h, nil
}

// parseTree parses a checkpoint's tree object.
func parseTree(rev int64, data []byte) (map[string]map[string]Entry, error) {
	bad := func(line int, format string, args ...any) error {
		return fmt.Errorf("tree of revision %d: %w: line %d: %s", rev, ErrCorruptManifest, line, fmt.Sprintf(format, args...))
	}
	text := string(data)
	first, rest, ok := strings.Cut(text, "\n")
	var version int
	var trev int64
	if _, err := fmt.Sscanf(first, treeMagic+" %d %d", &version, &trev); !ok || err != nil {
		return nil, bad(1, "not a tree object")
	}
	if version != HeaderVersion {
		return nil, bad(1, "format version %d", version)
	}
	colls := map[string]map[string]Entry{}
	var (
		curName  string
		curItems map[string]Entry
	)
	line := 1
	for rest != "" {
		line++
		var l string
		l, rest, ok = strings.Cut(rest, "\n")
		if !ok {
			return nil, bad(line, "cut short")
		}
		var f [5]string
		for i := range 4 {
			var ok bool
			f[i], l, ok = strings.Cut(l, "\t")
			if !ok {
				return nil, bad(line, "%d fields, want 5", i+1)
			}
		}
		f[4] = l
		for i, x := range f {
			u, err := treeUnesc(x)
			if err != nil {
				return nil, bad(line, "%v", err)
			}
			f[i] = u
		}
		if f[0] == "" || f[1] == "" || !ValidHash(f[2]) {
			return nil, bad(line, "bad item %q/%q", f[0], f[1])
		}
		if f[0] != curName || curItems == nil {
			curName = f[0]
			if curItems = colls[curName]; curItems == nil {
				curItems = map[string]Entry{}
				colls[curName] = curItems
			}
		}
		curItems[f[1]] = Entry{Hash: f[2], Kind: f[3], Title: f[4]}
	}
	return colls, nil
}

// diffDelta returns the delta that turns from into to.
func diffDelta(from, to map[string]map[string]Entry) []Delta {
	var ds []Delta
	for name, items := range to {
		old := from[name]
		for uid, e := range items {
			if o, ok := old[uid]; !ok {
				ds = append(ds, Delta{Collection: name, UID: uid, Entry: ptr(e)})
			} else if o != e {
				ds = append(ds, Delta{Collection: name, UID: uid, Entry: ptr(e), Old: ptr(o)})
			}
		}
	}
	for name, items := range from {
		for uid, o := range items {
			if _, ok := to[name][uid]; !ok {
				ds = append(ds, Delta{Collection: name, UID: uid, Old: ptr(o)})
			}
		}
	}
	sortDelta(ds)
	return ds
}

func ptr(e Entry) *Entry { return &e }

// applyDelta changes colls (in place) by ds, forward.
func applyDelta(colls map[string]map[string]Entry, ds []Delta) {
	for _, d := range ds {
		setEntry(colls, d.Collection, d.UID, d.Entry)
	}
}

// undoDelta changes colls (in place) by ds, backward.
func undoDelta(colls map[string]map[string]Entry, ds []Delta) {
	for _, d := range ds {
		setEntry(colls, d.Collection, d.UID, d.Old)
	}
}

func setEntry(colls map[string]map[string]Entry, coll, uid string, e *Entry) {
	if e == nil {
		if items := colls[coll]; items != nil {
			delete(items, uid)
		}
		return
	}
	items := colls[coll]
	if items == nil {
		items = map[string]Entry{}
		colls[coll] = items
	}
	items[uid] = *e
}

// cloneColls deep-copies collections.
func cloneColls(in map[string]map[string]Entry) map[string]map[string]Entry {
	out := make(map[string]map[string]Entry, len(in))
	for name, items := range in {
		cp := make(map[string]Entry, len(items))
		for uid, e := range items {
			cp[uid] = e
		}
		out[name] = cp
	}
	return out
}

// shapeColls makes the collections of colls exactly names: a named
// collection without items is kept (empty), one not named is dropped.
func shapeColls(colls map[string]map[string]Entry, names []string) {
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
		if colls[n] == nil {
			colls[n] = map[string]Entry{}
		}
	}
	for n := range colls {
		if !want[n] {
			delete(colls, n)
		}
	}
}

func collNames(colls map[string]map[string]Entry) []string {
	names := make([]string, 0, len(colls))
	for n := range colls {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
