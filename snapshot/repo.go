package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/pstsync/pstsync/sink"
)

// Repo is a snapshot repository on a store. It is safe for concurrent use.
// Several Repos (on several machines) may use one store at once: revisions
// are created with put-if-absent, so they never overwrite one another.
//
// The latest revision is found in O(1): the head pointer (head.json) names
// the latest revision the last committer knew, with its collections as a
// checkpoint tree plus the changes since; a reader then probes the
// revisions after it (normally one request that finds nothing). The head
// is only a hint: the revision files are the authority, so a head that
// lags (a committer killed between the revision and the head) or is lost
// costs time, never a commit.
type Repo struct {
	store           sink.Store
	verifyObjects   bool
	logger          *slog.Logger
	checkpointEvery int

	mu        sync.Mutex
	loaded    bool
	latest    *Manifest // the latest known revision; nil if none
	latestH   *Header   // its header
	cpRev     int64     // the checkpoint latest is built on
	cpTree    string    // its tree object ("" for a version 1 revision)
	cum       map[dkey]Delta
	headTag   string // ETag of head.json as last read or written; "" when absent
	headRev   int64  // the revision head.json names
	headSeen  bool   // headTag is known
	known     map[string]bool
	wanted    map[string]bool
	lastPrune time.Time
}

type dkey struct{ coll, uid string }

// Option configures Open.
type Option func(*Repo)

// VerifyObjects sets whether Commit checks that every object a manifest
// refers to is stored (default true). Only objects new relative to the
// parent revision and not written through this Repo are checked, by
// listing, without reading them.
func VerifyObjects(on bool) Option { return func(r *Repo) { r.verifyObjects = on } }

// WithLogger sets the logger for warnings that do not fail an operation
// (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(r *Repo) { r.logger = l } }

// CheckpointEvery sets how many changed items since the last checkpoint
// make Commit write a new one (a full tree of the collections); default
// DefaultCheckpointItems or a quarter of the items, whichever is more.
func CheckpointEvery(items int) Option { return func(r *Repo) { r.checkpointEvery = items } }

// maxCheckpointDelta is the largest delta a checkpoint keeps beside its
// tree (for readers walking back from a later revision).
const maxCheckpointDelta = 256

// maxHeadChanges is the most changes head.json repeats from the latest
// revision; with more, a reader reads the revision's header.
const maxHeadChanges = 256

// DefaultCheckpointItems is the least number of changed items between two
// checkpoints.
const DefaultCheckpointItems = 1000

// Open opens the repository on store. An empty store is an empty
// repository; nothing is written until the first Commit, PutObject or
// SaveState. Open reads the head of the repository, so an unreachable
// store fails here.
func Open(ctx context.Context, store sink.Store, opts ...Option) (*Repo, error) {
	r := &Repo{store: store, verifyObjects: true, logger: slog.Default(), known: map[string]bool{}}
	for _, o := range opts {
		o(r)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.refresh(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Store returns the store the repository is on.
func (r *Repo) Store() sink.Store { return r.store }

func (r *Repo) top() int64 {
	if r.latest == nil {
		return 0
	}
	return r.latest.Rev
}

// headFile is head.json: the latest revision its writer knew, as its
// header plus its collections (the checkpoint tree and the delta since).
type headFile struct {
	Version     int      `json:"version"`
	Header      *Header  `json:"header"`
	Checkpoint  int64    `json:"checkpoint"`
	Tree        string   `json:"tree,omitempty"`
	Delta       []Delta  `json:"delta,omitempty"`
	Collections []string `json:"collections"`
	// Wanted lists objects that are missing (or were corrupt and deleted
	// by pstsync check --repair): a sync that has the bytes writes them
	// (Repo.Supply).
	Wanted []string `json:"wanted,omitempty"`
	// LastPrune is when a prune last started (see Repo.PruneDue).
	LastPrune time.Time `json:"last_prune,omitzero"`
}

// refresh brings r.latest up to date with the store: on first use it
// reads the head pointer and its checkpoint; then it reads the revisions
// after the latest known one (normally: one Get that finds nothing).
// r.mu is held.
func (r *Repo) refresh(ctx context.Context) error {
	if !r.loaded {
		if err := r.loadHead(ctx); err != nil {
			return err
		}
		r.loaded = true
	}
	for {
		next := r.top() + 1
		data, _, err := r.store.Get(ctx, RevisionKey(next))
		if sink.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("snapshot: reading %s: %w", RevisionKey(next), err)
		}
		h, err := parseHeader(next, data)
		if err != nil {
			return err
		}
		if err := r.advance(ctx, h); err != nil {
			return err
		}
	}
}

// advance makes h, the revision after the latest known one, the latest.
func (r *Repo) advance(ctx context.Context, h *Header) error {
	if r.latest != nil && (h.Base == r.latest.Rev || h.checkpoint()) && h.Parent == r.latest.Rev {
		colls := r.latest.Collections
		if h.checkpoint() {
			c, err := r.treeOf(ctx, h)
			if err != nil {
				return err
			}
			colls = c
			r.cpRev, r.cpTree, r.cum = h.Rev, h.Tree, map[dkey]Delta{}
		} else {
			applyDelta(colls, h.Delta)
			r.compose(h.Delta)
		}
		if h.Version == HeaderVersion {
			shapeColls(colls, h.Collections)
		}
		r.setLatest(h, colls)
		return nil
	}
	if r.latest == nil && h.Base == 0 && h.Parent == 0 && !h.checkpoint() {
		colls := map[string]map[string]Entry{}
		applyDelta(colls, h.Delta)
		shapeColls(colls, h.Collections)
		r.cpRev, r.cpTree, r.cum = 0, "", map[dkey]Delta{}
		r.compose(h.Delta)
		r.setLatest(h, colls)
		return nil
	}
	// Anything else (a delta over a revision we do not hold): rebuild.
	colls, cpRev, cpTree, cum, err := r.rebuild(ctx, h)
	if err != nil {
		return err
	}
	r.cpRev, r.cpTree, r.cum = cpRev, cpTree, cum
	r.setLatest(h, colls)
	return nil
}

func (r *Repo) setLatest(h *Header, colls map[string]map[string]Entry) {
	r.latestH = h
	r.latest = &Manifest{Version: FormatVersion, Rev: h.Rev, Parent: h.Parent, Author: h.Author, Time: h.Time,
		Collections: colls, Changes: h.Changes, ChangesOmitted: h.ChangesOmitted, ConflictsHash: h.ConflictsHash}
}

// compose adds ds to the cumulative delta since the checkpoint.
func (r *Repo) compose(ds []Delta) {
	if r.cum == nil {
		r.cum = map[dkey]Delta{}
	}
	composeInto(r.cum, ds)
}

// composeInto adds ds (a later step) to the cumulative delta cum.
func composeInto(cum map[dkey]Delta, ds []Delta) {
	for _, d := range ds {
		k := dkey{d.Collection, d.UID}
		c, ok := cum[k]
		if !ok {
			cum[k] = d
			continue
		}
		c.Entry = d.Entry
		if c.Entry == nil && c.Old == nil || c.Entry != nil && c.Old != nil && *c.Entry == *c.Old {
			delete(cum, k)
			continue
		}
		cum[k] = c
	}
}

// loadHead reads head.json and builds the revision it names. Without a
// usable head it lists the revisions (a store written by an earlier
// release, or a head lost) and rebuilds the highest.
func (r *Repo) loadHead(ctx context.Context) error {
	data, etag, err := r.store.Get(ctx, headKey)
	switch {
	case sink.IsNotExist(err):
		r.headSeen, r.headTag = true, ""
	case err != nil:
		return fmt.Errorf("snapshot: reading %s in %s: %w", headKey, r.store, err)
	default:
		r.headSeen, r.headTag = true, etag
		if err := r.useHead(ctx, data); err == nil {
			return nil
		} else {
			r.logger.WarnContext(ctx, "snapshot: head pointer unusable; finding the latest revision by listing", "err", err)
		}
	}
	revs, err := r.listRevisions(ctx)
	if err != nil {
		return err
	}
	for i := len(revs) - 1; i >= 0; i-- {
		h, err := r.readHeader(ctx, revs[i])
		if err != nil {
			if sink.IsNotExist(err) {
				continue
			}
			return err
		}
		colls, cpRev, cpTree, cum, err := r.rebuild(ctx, h)
		if err != nil {
			return err
		}
		r.cpRev, r.cpTree, r.cum = cpRev, cpTree, cum
		r.setLatest(h, colls)
		return nil
	}
	return nil
}

func (r *Repo) useHead(ctx context.Context, data []byte) error {
	var hf headFile
	if err := decodeStrict(data, &hf); err != nil {
		return fmt.Errorf("%s: %w", headKey, err)
	}
	if hf.Version != HeaderVersion || hf.Header == nil {
		return fmt.Errorf("%s: format version %d", headKey, hf.Version)
	}
	if err := hf.Header.validate(); err != nil {
		return fmt.Errorf("%s: %w", headKey, err)
	}
	var colls map[string]map[string]Entry
	if hf.Tree != "" {
		data, err := r.GetObject(ctx, hf.Tree)
		if err != nil {
			return err
		}
		if colls, err = parseTree(hf.Checkpoint, data); err != nil {
			return err
		}
	} else if hf.Checkpoint > 0 {
		h, err := r.readHeader(ctx, hf.Checkpoint)
		if err != nil {
			return err
		}
		if !h.checkpoint() {
			return fmt.Errorf("%s: revision %d is not a checkpoint", headKey, hf.Checkpoint)
		}
		if colls, err = r.treeOf(ctx, h); err != nil { // a tree once prune rewrote it
			return err
		}
	} else {
		colls = map[string]map[string]Entry{}
	}
	applyDelta(colls, hf.Delta)
	shapeColls(colls, hf.Collections)
	// A header with its changes omitted (too many for the head) stays so:
	// reading them (a revision of 10,000 changes is a megabyte) is left
	// to whoever asks (Header), which a sync that changes nothing never
	// does.
	r.cpRev, r.cpTree, r.cum = hf.Checkpoint, hf.Tree, map[dkey]Delta{}
	r.compose(hf.Delta)
	r.headRev = hf.Header.Rev
	r.lastPrune = hf.LastPrune
	r.wanted = map[string]bool{}
	for _, h := range hf.Wanted {
		if ValidHash(h) {
			r.wanted[h] = true
		}
	}
	r.setLatest(hf.Header, colls)
	return nil
}

// writeHead records the latest revision in head.json, conditionally on
// the head read or written last. Losing the race to a writer of a newer
// revision is fine; a failure only costs the next reader some requests,
// so it is logged, not returned.
func (r *Repo) writeHead(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for attempt := 0; attempt < 3; attempt++ {
		if r.latest == nil || r.headRev >= r.latest.Rev {
			return
		}
		hdr := *r.latestH
		hdr.Delta = nil // the cumulative delta below says it
		if len(hdr.Changes) > maxHeadChanges {
			hdr.Changes, hdr.ChangesOmitted = nil, true
		}
		hf := headFile{Version: HeaderVersion, Header: &hdr, Checkpoint: r.cpRev, Tree: r.cpTree,
			Collections: collNames(r.latest.Collections), LastPrune: r.lastPrune}
		for _, d := range r.cum {
			hf.Delta = append(hf.Delta, d)
		}
		sortDelta(hf.Delta)
		for h := range r.wanted {
			if !r.known[h] {
				hf.Wanted = append(hf.Wanted, h)
			}
		}
		slices.Sort(hf.Wanted)
		data, err := encodeJSON(&hf)
		if err != nil {
			r.logger.WarnContext(ctx, "snapshot: encoding the head", "err", err)
			return
		}
		cond := sink.Cond{IfNoneMatch: r.headTag == "", IfMatch: r.headTag}
		tag, err := r.store.Put(ctx, headKey, data, cond)
		if err == nil {
			r.headTag, r.headRev = tag, r.latest.Rev
			return
		}
		if !sink.IsPreconditionFailed(err) {
			r.logger.WarnContext(ctx, "snapshot: writing the head pointer", "key", headKey, "err", err)
			return
		}
		// Someone else moved the head: read which revision it names.
		cur, tag, err := r.store.Get(ctx, headKey)
		if err != nil {
			if sink.IsNotExist(err) {
				r.headTag = ""
				continue
			}
			return
		}
		r.headTag = tag
		var probe struct {
			Header    *Header   `json:"header"`
			Wanted    []string  `json:"wanted"`
			LastPrune time.Time `json:"last_prune"`
		}
		if json.Unmarshal(cur, &probe) == nil && probe.Header != nil {
			r.headRev = probe.Header.Rev
		} else {
			r.headRev = 0
		}
		if probe.LastPrune.After(r.lastPrune) {
			r.lastPrune = probe.LastPrune
		}
		for _, h := range probe.Wanted { // added by check --repair meanwhile
			if ValidHash(h) {
				if r.wanted == nil {
					r.wanted = map[string]bool{}
				}
				r.wanted[h] = true
			}
		}
	}
}

// rebuild returns the collections of revision h by walking back through
// Base to a checkpoint and applying the deltas forward, with the
// checkpoint and the cumulative delta since it.
func (r *Repo) rebuild(ctx context.Context, h *Header) (map[string]map[string]Entry, int64, string, map[dkey]Delta, error) {
	var chain []*Header
	cur := h
	for !cur.checkpoint() && cur.Base > 0 {
		chain = append(chain, cur)
		prev, err := r.readHeader(ctx, cur.Base)
		if err != nil {
			return nil, 0, "", nil, fmt.Errorf("snapshot: revision %d needs revision %d: %w", h.Rev, cur.Base, err)
		}
		cur = prev
	}
	var colls map[string]map[string]Entry
	cpRev, cpTree := int64(0), ""
	if cur.checkpoint() {
		c, err := r.treeOf(ctx, cur)
		if err != nil {
			return nil, 0, "", nil, err
		}
		colls, cpRev, cpTree = c, cur.Rev, cur.Tree
	} else { // a delta over the empty snapshot
		colls = map[string]map[string]Entry{}
		chain = append(chain, cur)
	}
	cum := map[dkey]Delta{}
	for i := len(chain) - 1; i >= 0; i-- {
		applyDelta(colls, chain[i].Delta)
		composeInto(cum, chain[i].Delta)
	}
	if h.Version == HeaderVersion {
		shapeColls(colls, h.Collections)
	}
	return colls, cpRev, cpTree, cum, nil
}

// treeOf returns the full collections of a checkpoint header.
func (r *Repo) treeOf(ctx context.Context, h *Header) (map[string]map[string]Entry, error) {
	if h.full != nil {
		return cloneColls(h.full), nil
	}
	data, err := r.GetObject(ctx, h.Tree)
	if err != nil {
		return nil, fmt.Errorf("snapshot: tree of revision %d: %w", h.Rev, err)
	}
	return parseTree(h.Rev, data)
}

// Header returns the stored header of revision rev (without rebuilding
// its collections): author, time, changes, conflicts. It is what log and
// the syncer's editor names need.
func (r *Repo) Header(ctx context.Context, rev int64) (*Header, error) {
	if rev < 1 {
		return nil, fmt.Errorf("%w: revision %d", ErrInvalid, rev)
	}
	r.mu.Lock()
	if r.latestH != nil && r.latestH.Rev == rev && !r.latestH.ChangesOmitted {
		h := *r.latestH
		r.mu.Unlock()
		return &h, nil
	}
	r.mu.Unlock()
	return r.readHeader(ctx, rev)
}

// readHeader reads revision rev's header from the store.
func (r *Repo) readHeader(ctx context.Context, rev int64) (*Header, error) {
	data, _, err := r.store.Get(ctx, RevisionKey(rev))
	if err != nil {
		return nil, fmt.Errorf("snapshot: reading revision %d: %w", rev, err)
	}
	return parseHeader(rev, data)
}

// Latest returns the latest revision, or (nil, nil) for an empty
// repository. The result is the caller's own copy. Its Changes may be
// omitted (ChangesOmitted; Header has them).
func (r *Repo) Latest(ctx context.Context) (*Manifest, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.refresh(ctx); err != nil {
		return nil, err
	}
	return r.latest.Clone(), nil
}

// walkBackLimit is how many revisions Manifest walks back from the latest
// before it rather rebuilds forward from a checkpoint.
const walkBackLimit = 256

// Manifest returns revision rev with its collections.
func (r *Repo) Manifest(ctx context.Context, rev int64) (*Manifest, error) {
	if rev < 1 {
		return nil, fmt.Errorf("%w: revision %d", ErrInvalid, rev)
	}
	r.mu.Lock()
	if r.latest != nil && r.latest.Rev == rev {
		m := r.latest.Clone()
		r.mu.Unlock()
		if m.ChangesOmitted {
			h, err := r.readHeader(ctx, rev)
			if err != nil {
				return nil, err
			}
			m.Changes, m.ChangesOmitted = h.Changes, false
		}
		return m, nil
	}
	var back *Manifest
	if r.latest != nil && r.latest.Rev > rev && r.latest.Rev-rev <= walkBackLimit {
		back = r.latest.Clone()
	}
	r.mu.Unlock()
	h, err := r.Header(ctx, rev)
	if err != nil {
		return nil, err
	}
	if back != nil {
		if m, err := r.walkBack(ctx, back, h); err == nil {
			return m, nil
		}
	}
	colls, _, _, _, err := r.rebuild(ctx, h)
	if err != nil {
		return nil, err
	}
	return &Manifest{Version: FormatVersion, Rev: h.Rev, Parent: h.Parent, Author: h.Author, Time: h.Time,
		Collections: colls, Changes: h.Changes, ConflictsHash: h.ConflictsHash}, nil
}

// walkBack undoes the deltas from m (a newer revision) down to h.
func (r *Repo) walkBack(ctx context.Context, m *Manifest, h *Header) (*Manifest, error) {
	colls := m.Collections
	cur := m.Rev
	for cur > h.Rev {
		ch, err := r.readHeader(ctx, cur)
		if err != nil {
			return nil, err
		}
		if ch.Version != HeaderVersion || ch.Base < h.Rev {
			return nil, errors.New("no delta path")
		}
		undoDelta(colls, ch.Delta)
		cur = ch.Base
	}
	if h.Version == HeaderVersion {
		shapeColls(colls, h.Collections)
	}
	return &Manifest{Version: FormatVersion, Rev: h.Rev, Parent: h.Parent, Author: h.Author, Time: h.Time,
		Collections: colls, Changes: h.Changes, ConflictsHash: h.ConflictsHash}, nil
}

// listRevisions lists the revision numbers in the store, ascending.
func (r *Repo) listRevisions(ctx context.Context) ([]int64, error) {
	keys, err := r.store.List(ctx, revisionsPrefix)
	if err != nil {
		return nil, fmt.Errorf("snapshot: listing revisions in %s: %w", r.store, err)
	}
	revs := make([]int64, 0, len(keys))
	for _, k := range keys {
		if rev, ok := parseRevisionKey(k); ok {
			revs = append(revs, rev)
		}
	}
	slices.Sort(revs)
	return slices.Compact(revs), nil
}

// Revisions lists the revision numbers in the store, ascending (pruned
// revisions are not listed).
func (r *Repo) Revisions(ctx context.Context) ([]int64, error) {
	return r.listRevisions(ctx)
}

// PutObject stores data as an object and returns its hash. An object that
// is already stored is not written again.
func (r *Repo) PutObject(ctx context.Context, data []byte) (string, error) {
	hs, err := r.PutObjects(ctx, [][]byte{data})
	if err != nil {
		return "", err
	}
	return hs[0], nil
}

// putWorkers bounds the parallel uploads of PutObjects.
const putWorkers = 16

// PutObjects stores every one of datas as an object and returns their
// hashes, in order. The objects are durable when it returns; they are
// written together (without a flush each, made durable at once) on a
// store that can (sink.BatchPutter), else with up to 16 uploads at once.
func (r *Repo) PutObjects(ctx context.Context, datas [][]byte) ([]string, error) {
	hashes := make([]string, len(datas))
	var items []sink.Item
	seen := map[string]bool{}
	r.mu.Lock()
	for i, d := range datas {
		h := HashOf(d)
		hashes[i] = h
		if r.known[h] || seen[h] {
			continue
		}
		seen[h] = true
		items = append(items, sink.Item{Key: ObjectKey(h), Data: d})
	}
	r.mu.Unlock()
	if len(items) == 0 {
		return hashes, nil
	}
	var err error
	if b, ok := r.store.(sink.BatchPutter); ok {
		err = b.PutNew(ctx, items)
	} else {
		err = sink.PutNewParallel(ctx, r.store, items, putWorkers)
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot: writing objects: %w", err)
	}
	r.mu.Lock()
	for _, it := range items {
		r.known[it.Key[len(it.Key)-64:]] = true
	}
	r.mu.Unlock()
	return hashes, nil
}

// GetObject returns the bytes of the object with hash h, verified: bytes
// that do not match the hash give a *CorruptObjectError (errors.Is
// ErrCorruptObject) and are not returned. A missing object gives an error
// for which sink.IsNotExist is true.
func (r *Repo) GetObject(ctx context.Context, h string) ([]byte, error) {
	if !ValidHash(h) {
		return nil, fmt.Errorf("%w: object hash %q", ErrInvalid, h)
	}
	data, _, err := r.store.Get(ctx, ObjectKey(h))
	if err != nil {
		return nil, fmt.Errorf("snapshot: reading object %s: %w", h, err)
	}
	if got := HashOf(data); got != h {
		return nil, &CorruptObjectError{Hash: h, Actual: got}
	}
	return data, nil
}

// checkpointDue reports whether a revision whose cumulative delta since
// the checkpoint has n items, in a snapshot of items items, should be a
// checkpoint.
func (r *Repo) checkpointDue(n, items int) bool {
	limit := r.checkpointEvery
	if limit <= 0 {
		limit = max(DefaultCheckpointItems, items/4)
	}
	return n > limit
}

// Commit writes m as revision m.Parent+1 and returns it as written (with
// Rev, Version and ConflictsHash set; m itself is not changed).
//
// m.Parent must be the latest revision (0 for an empty repository),
// otherwise nothing is written and the error satisfies IsConflict. The
// revision is created with put-if-absent: when another writer created it
// first, the error satisfies IsConflict too. Either way the caller re-reads
// the latest revision, merges again and retries.
//
// The revision is stored as a header with the delta from the parent
// (what changed); now and then, as a checkpoint with the full collections
// in a tree object. Then the head pointer is moved to it.
//
// Objects must have been written with PutObject(s) first; unless disabled
// with VerifyObjects(false), Commit refuses (ErrObjectMissing) a manifest
// that refers to an object that is not stored. m.Conflicts, when set, must
// be valid JSON; it is stored as an object referenced by the revision (so
// a revision is never visible without its conflicts) and as
// conflicts/<rev>.json.
func (r *Repo) Commit(ctx context.Context, m *Manifest) (*Manifest, error) {
	c := m.Clone()
	c.Version = FormatVersion
	if c.Rev == 0 {
		c.Rev = c.Parent + 1
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("snapshot: commit: %w", err)
	}
	sortChanges(c.Changes)

	r.mu.Lock()
	err := r.refresh(ctx)
	top := r.top()
	var parentColls map[string]map[string]Entry
	var cumAfter int
	if err == nil && c.Parent == top {
		if r.latest != nil {
			parentColls = r.latest.Collections
		}
		// the size of the cumulative delta after this revision
		cumAfter = len(r.cum)
	}
	r.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("snapshot: commit: %w", err)
	}
	if c.Parent != top {
		return nil, &ConflictError{Rev: c.Rev, Latest: top}
	}
	delta := diffDelta(parentColls, c.Collections)
	cumAfter += len(delta)
	fillTitles(c.Changes, c.Collections, parentColls)

	h := &Header{Rev: c.Rev, Parent: c.Parent, Author: c.Author, Time: c.Time, Items: c.Items(),
		Changes: c.Changes, Base: c.Parent, Delta: delta, Collections: collNames(c.Collections), Chain: cumAfter}
	var objs [][]byte
	if len(c.Conflicts) > 0 {
		if !json.Valid(c.Conflicts) {
			return nil, fmt.Errorf("%w: commit: revision %d: conflicts are not valid JSON", ErrInvalid, c.Rev)
		}
		objs = append(objs, c.Conflicts)
		h.ConflictsHash = HashOf(c.Conflicts)
	}
	if c.Parent == 0 || r.checkpointDue(cumAfter, h.Items) {
		colls := c.Collections
		if colls == nil {
			colls = map[string]map[string]Entry{}
		}
		tree := encodeTree(c.Rev, colls)
		objs = append(objs, tree)
		h.Tree, h.Chain = HashOf(tree), 0
		if len(delta) > maxCheckpointDelta {
			// The tree says it all; readers walking back rebuild instead.
			h.Base, h.Delta = 0, nil
		}
	}
	if len(objs) > 0 {
		if _, err := r.PutObjects(ctx, objs); err != nil {
			return nil, fmt.Errorf("snapshot: commit: %w", err)
		}
	}
	c.ConflictsHash = h.ConflictsHash
	if r.verifyObjects {
		if err := r.verify(ctx, delta); err != nil {
			return nil, fmt.Errorf("snapshot: commit revision %d: %w", c.Rev, err)
		}
	}

	data, err := h.encode()
	if err != nil {
		return nil, fmt.Errorf("snapshot: commit: %w", err)
	}
	if _, err := r.store.Put(ctx, RevisionKey(c.Rev), data, sink.Cond{IfNoneMatch: true}); err != nil {
		if sink.IsPreconditionFailed(err) {
			return nil, &ConflictError{Rev: c.Rev, Err: err}
		}
		return nil, fmt.Errorf("snapshot: writing %s: %w", RevisionKey(c.Rev), err)
	}
	if err := r.stalePut(ctx, c.Rev); err != nil {
		return nil, err
	}

	r.mu.Lock()
	if r.top() == c.Parent {
		stored := c.Clone()
		stored.Conflicts = nil
		if h.Tree != "" {
			r.cpRev, r.cpTree, r.cum = h.Rev, h.Tree, map[dkey]Delta{}
		} else {
			r.compose(delta)
		}
		r.latest, r.latestH = stored, h
	}
	r.mu.Unlock()
	r.writeHead(ctx)

	if len(c.Conflicts) > 0 {
		// The revision already refers to the conflicts object; this copy
		// is for people and scripts. Failing to write it loses nothing.
		_, err := r.store.Put(ctx, ConflictsKey(c.Rev), c.Conflicts, sink.Cond{IfNoneMatch: true})
		if err != nil && !sink.IsPreconditionFailed(err) {
			r.logger.WarnContext(ctx, "snapshot: writing conflict record", "key", ConflictsKey(c.Rev), "err", err)
		}
	}
	return c, nil
}

// verify checks that the objects the delta adds are stored, by listing
// (no object is read); objects written through this Repo are known.
func (r *Repo) verify(ctx context.Context, delta []Delta) error {
	var need []string
	r.mu.Lock()
	for _, d := range delta {
		if d.Entry != nil && !r.known[d.Entry.Hash] {
			need = append(need, d.Entry.Hash)
		}
	}
	r.mu.Unlock()
	slices.Sort(need)
	need = slices.Compact(need)
	if len(need) == 0 {
		return nil
	}
	present := map[string]bool{}
	if len(need) <= 32 {
		for _, h := range need {
			keys, err := r.store.List(ctx, ObjectKey(h))
			if err != nil {
				return fmt.Errorf("listing objects: %w", err)
			}
			if slices.Contains(keys, ObjectKey(h)) {
				present[h] = true
			}
		}
	} else {
		keys, err := r.store.List(ctx, objectsPrefix)
		if err != nil {
			return fmt.Errorf("listing objects: %w", err)
		}
		for _, k := range keys {
			if h, ok := parseObjectKey(k); ok {
				present[h] = true
			}
		}
	}
	var missing []string
	for _, h := range need {
		if !present[h] {
			missing = append(missing, h)
		}
	}
	if len(missing) > 0 {
		more := ""
		if len(missing) > 1 {
			more = fmt.Sprintf(" and %d more", len(missing)-1)
		}
		return fmt.Errorf("%w: %s%s (write objects with PutObject before committing)", ErrObjectMissing, missing[0], more)
	}
	r.mu.Lock()
	for _, h := range need {
		r.known[h] = true
	}
	r.mu.Unlock()
	return nil
}

// Conflicts returns the conflicts recorded with revision rev as stored (the
// merge package's JSON), or nil when there were none.
func (r *Repo) Conflicts(ctx context.Context, rev int64) (json.RawMessage, error) {
	h, err := r.Header(ctx, rev)
	if sink.IsNotExist(err) {
		// Pruned: its audit record keeps the conflicts.
		audit, aerr := r.Audit(ctx)
		if aerr != nil {
			return nil, aerr
		}
		for i := range audit {
			if audit[i].Rev == rev {
				return r.conflictsOf(ctx, rev, audit[i].ConflictsHash)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return r.conflictsOf(ctx, rev, h.ConflictsHash)
}

func (r *Repo) conflictsOf(ctx context.Context, rev int64, hash string) (json.RawMessage, error) {
	if hash == "" {
		return nil, nil
	}
	data, _, err := r.store.Get(ctx, ConflictsKey(rev))
	if err == nil && HashOf(data) == hash {
		return data, nil
	}
	if err != nil && !sink.IsNotExist(err) {
		return nil, fmt.Errorf("snapshot: reading %s: %w", ConflictsKey(rev), err)
	}
	// Missing or damaged copy: the object the revision refers to is the
	// authority.
	data, err = r.GetObject(ctx, hash)
	if err != nil {
		return nil, fmt.Errorf("snapshot: conflicts of revision %d: %w", rev, err)
	}
	return data, nil
}

// LogEntry summarises one revision for `pstsync log`.
type LogEntry struct {
	Rev    int64      `json:"rev"`
	Parent int64      `json:"parent"`
	Author Author     `json:"author"`
	Time   time.Time  `json:"time"`
	Items  int        `json:"items"`
	Counts map[Op]int `json:"counts"` // changes per operation
	// Conflicts reports whether conflicts were recorded with the revision.
	Conflicts bool `json:"conflicts,omitempty"`
	// Pruned: the revision was removed by prune; its audit record (who,
	// when, what changed) is all that is left: it cannot be restored.
	Pruned bool `json:"pruned,omitempty"`
	// Error is set, and the other fields except Rev are empty, when the
	// revision cannot be read.
	Error string `json:"error,omitempty"`
}

func logEntry(h *Header) LogEntry {
	e := LogEntry{Rev: h.Rev, Parent: h.Parent, Author: h.Author, Time: h.Time,
		Items: h.Items, Counts: map[Op]int{}, Conflicts: h.ConflictsHash != ""}
	for _, c := range h.Changes {
		e.Counts[c.Op]++
	}
	return e
}

// Log returns every revision, newest first, followed by the audit records
// of pruned revisions. A revision that cannot be read is listed with its
// Error set rather than failing the whole log; an error is returned only
// when the store cannot be listed. It reads headers only.
func (r *Repo) Log(ctx context.Context) ([]LogEntry, error) {
	revs, err := r.Revisions(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]LogEntry, 0, len(revs))
	for i := len(revs) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rev := revs[i]
		h, err := r.Header(ctx, rev)
		if err != nil {
			out = append(out, LogEntry{Rev: rev, Error: err.Error()})
			continue
		}
		out = append(out, logEntry(h))
	}
	audit, err := r.Audit(ctx)
	if err != nil {
		return nil, err
	}
	have := map[int64]bool{}
	for _, rev := range revs {
		have[rev] = true
	}
	for i := len(audit) - 1; i >= 0; i-- {
		if have[audit[i].Rev] {
			continue
		}
		e := logEntry(&audit[i])
		e.Pruned = true
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b LogEntry) int { return int(b.Rev - a.Rev) })
	return out, nil
}

// restoreAttempts bounds Restore's retries when other writers keep
// committing.
const restoreAttempts = 10

// Restore commits a new revision whose collections equal those of
// revision rev, with Changes describing the difference from the latest
// revision, written by author at now. It retries when another writer
// commits at the same time.
func (r *Repo) Restore(ctx context.Context, rev int64, author Author, now time.Time) (*Manifest, error) {
	target, err := r.Manifest(ctx, rev)
	if err != nil {
		if sink.IsNotExist(err) {
			return nil, fmt.Errorf("snapshot: restore: revision %d is not stored (pruned? see pstsync log): %w", rev, err)
		}
		return nil, fmt.Errorf("snapshot: restore: %w", err)
	}
	for attempt := 1; ; attempt++ {
		latest, err := r.Latest(ctx)
		if err != nil {
			return nil, fmt.Errorf("snapshot: restore: %w", err)
		}
		m := &Manifest{Author: author, Time: now, Collections: target.Collections}
		if latest != nil {
			m.Parent = latest.Rev
			m.Changes = Diff(latest.Collections, target.Collections, author.User)
		} else {
			m.Changes = Diff(nil, target.Collections, author.User)
		}
		out, err := r.Commit(ctx, m)
		if err == nil {
			return out, nil
		}
		if !IsConflict(err) || attempt == restoreAttempts {
			return nil, fmt.Errorf("snapshot: restore revision %d: %w", rev, err)
		}
	}
}

// prunedMark is the content of pruned.json.
type prunedMark struct {
	// Below: prune removed revisions below this number (its latest
	// revision when it ran); no new revision can have such a number.
	Below int64 `json:"below"`
}

// stalePut undoes a revision just written under number rev when prune had
// removed that number: a writer that merged against a revision older than
// what prune saw as the latest finds the pruned number free and would
// otherwise bring back an old revision that nothing leads to (its commit
// lost). Prune marks the numbers before it removes any, so a writer whose
// put came after a removal sees the mark.
func (r *Repo) stalePut(ctx context.Context, rev int64) error {
	pm, err := r.prunedMark(ctx)
	if err != nil {
		return err
	}
	if rev >= pm.Below {
		return nil
	}
	if err := r.store.Delete(ctx, RevisionKey(rev)); err != nil && !sink.IsNotExist(err) {
		return fmt.Errorf("snapshot: removing the stale %s: %w", RevisionKey(rev), err)
	}
	// This view is older than the pruned history: read the head again.
	r.mu.Lock()
	r.loaded = false
	r.latest, r.latestH = nil, nil
	r.mu.Unlock()
	return &ConflictError{Rev: rev, Err: fmt.Errorf("revision %d was pruned; merge against the latest revision", rev)}
}

// prunedMark reads pruned.json (the zero mark when there is none).
func (r *Repo) prunedMark(ctx context.Context) (prunedMark, error) {
	var pm prunedMark
	data, _, err := r.store.Get(ctx, prunedKey)
	if sink.IsNotExist(err) {
		return pm, nil
	}
	if err != nil {
		return pm, fmt.Errorf("snapshot: reading %s: %w", prunedKey, err)
	}
	if err := decodeStrict(data, &pm); err != nil {
		return pm, fmt.Errorf("snapshot: %s: %w", prunedKey, err)
	}
	return pm, nil
}

// markPruned records in pruned.json that no revision below below may be
// written again (it never lowers the mark).
func (r *Repo) markPruned(ctx context.Context, below int64) error {
	pm, err := r.prunedMark(ctx)
	if err != nil {
		return err
	}
	if pm.Below >= below {
		return nil
	}
	pm.Below = below
	out, err := encodeJSON(&pm)
	if err != nil {
		return err
	}
	if _, err := r.store.Put(ctx, prunedKey, out, sink.Cond{}); err != nil {
		return fmt.Errorf("snapshot: writing %s: %w", prunedKey, err)
	}
	return nil
}
