package snapshot

import (
	"context"
	"encoding/json"
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
type Repo struct {
	store         sink.Store
	verifyObjects bool
	logger        *slog.Logger

	mu     sync.Mutex
	listed bool
	revs   []int64   // known revisions, ascending (from the last listing plus probes)
	latest *Manifest // parsed manifest of the highest known revision; nil if none
	known  map[string]bool
}

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

// Open opens the repository on store. An empty store is an empty
// repository; nothing is written until the first Commit, PutObject or
// SaveState. Open lists the revisions, so an unreachable store fails here.
func Open(ctx context.Context, store sink.Store, opts ...Option) (*Repo, error) {
	r := &Repo{store: store, verifyObjects: true, logger: slog.Default(), known: map[string]bool{}}
	for _, o := range opts {
		o(r)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.list(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Store returns the store the repository is on.
func (r *Repo) Store() sink.Store { return r.store }

// list reads the revision numbers from the store. r.mu is held.
func (r *Repo) list(ctx context.Context) error {
	keys, err := r.store.List(ctx, revisionsPrefix)
	if err != nil {
		return fmt.Errorf("snapshot: listing revisions in %s: %w", r.store, err)
	}
	revs := make([]int64, 0, len(keys))
	for _, k := range keys {
		if rev, ok := parseRevisionKey(k); ok {
			revs = append(revs, rev)
		}
	}
	slices.Sort(revs)
	r.revs = slices.Compact(revs)
	r.listed = true
	return nil
}

func (r *Repo) top() int64 {
	if len(r.revs) == 0 {
		return 0
	}
	return r.revs[len(r.revs)-1]
}

// refresh brings r.latest up to date with the store. After the first
// listing it costs one Get (of the revision after the latest known one);
// only when that exists does it list again. r.mu is held.
func (r *Repo) refresh(ctx context.Context) error {
	if !r.listed {
		if err := r.list(ctx); err != nil {
			return err
		}
	} else {
		next := r.top() + 1
		data, _, err := r.store.Get(ctx, RevisionKey(next))
		switch {
		case sink.IsNotExist(err):
			if r.latest != nil || r.top() == 0 {
				return nil
			}
			// Known revisions but no parsed manifest yet: read it below.
		case err != nil:
			return fmt.Errorf("snapshot: reading %s: %w", RevisionKey(next), err)
		default:
			// Someone committed. Usually exactly one revision: use the
			// bytes just read unless more followed.
			if _, _, err := r.store.Get(ctx, RevisionKey(next+1)); sink.IsNotExist(err) {
				m, err := parseRevision(next, data)
				if err != nil {
					return err
				}
				r.revs = append(r.revs, next)
				r.latest = m
				return nil
			}
			if err := r.list(ctx); err != nil {
				return err
			}
		}
	}
	// Read the highest listed revision. A revision that was listed but
	// cannot be read yet (a concurrent writer, a repair in progress) makes
	// us list again, a few times.
	for attempt := 0; ; attempt++ {
		top := r.top()
		if top == 0 {
			r.latest = nil
			return nil
		}
		if r.latest != nil && r.latest.Rev == top {
			return nil
		}
		data, _, err := r.store.Get(ctx, RevisionKey(top))
		if sink.IsNotExist(err) && attempt < 3 {
			if err := r.list(ctx); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("snapshot: reading %s: %w", RevisionKey(top), err)
		}
		m, err := parseRevision(top, data)
		if err != nil {
			return err
		}
		r.latest = m
		return nil
	}
}

// parseRevision parses the manifest stored as revision rev.
func parseRevision(rev int64, data []byte) (*Manifest, error) {
	m, err := ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (run pstsync check)", RevisionKey(rev), err)
	}
	if m.Rev != rev {
		return nil, fmt.Errorf("%s: %w: it says it is revision %d", RevisionKey(rev), ErrCorruptManifest, m.Rev)
	}
	return m, nil
}

// Latest returns the latest revision, or (nil, nil) for an empty
// repository. The result is the caller's own copy.
func (r *Repo) Latest(ctx context.Context) (*Manifest, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.refresh(ctx); err != nil {
		return nil, err
	}
	return r.latest.Clone(), nil
}

// Manifest returns revision rev.
func (r *Repo) Manifest(ctx context.Context, rev int64) (*Manifest, error) {
	if rev < 1 {
		return nil, fmt.Errorf("%w: revision %d", ErrInvalid, rev)
	}
	r.mu.Lock()
	if r.latest != nil && r.latest.Rev == rev {
		m := r.latest.Clone()
		r.mu.Unlock()
		return m, nil
	}
	r.mu.Unlock()
	data, _, err := r.store.Get(ctx, RevisionKey(rev))
	if err != nil {
		return nil, fmt.Errorf("snapshot: reading revision %d: %w", rev, err)
	}
	return parseRevision(rev, data)
}

// Revisions lists the revision numbers in the store, ascending.
func (r *Repo) Revisions(ctx context.Context) ([]int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.list(ctx); err != nil {
		return nil, err
	}
	return slices.Clone(r.revs), nil
}

// PutObject stores data as an object and returns its hash. An object that
// is already stored is not written again.
func (r *Repo) PutObject(ctx context.Context, data []byte) (string, error) {
	h := HashOf(data)
	r.mu.Lock()
	done := r.known[h]
	r.mu.Unlock()
	if done {
		return h, nil
	}
	_, err := r.store.Put(ctx, ObjectKey(h), data, sink.Cond{IfNoneMatch: true})
	if err != nil && !sink.IsPreconditionFailed(err) {
		return "", fmt.Errorf("snapshot: writing object %s: %w", h, err)
	}
	r.mu.Lock()
	r.known[h] = true
	r.mu.Unlock()
	return h, nil
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

// Commit writes m as revision m.Parent+1 and returns it as written (with
// Rev, Version and ConflictsHash set; m itself is not changed).
//
// m.Parent must be the latest revision (0 for an empty repository),
// otherwise nothing is written and the error satisfies IsConflict. The
// revision is created with put-if-absent: when another writer created it
// first, the error satisfies IsConflict too. Either way the caller re-reads
// the latest revision, merges again and retries.
//
// Objects must have been written with PutObject first; unless disabled with
// VerifyObjects(false), Commit refuses (ErrObjectMissing) a manifest that
// refers to an object that is not stored. m.Conflicts, when set, must be
// valid JSON; it is stored as an object referenced by the manifest (so a
// revision is never visible without its conflicts) and as
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
	latest := r.latest
	top := r.top()
	r.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("snapshot: commit: %w", err)
	}
	if c.Parent != top {
		return nil, &ConflictError{Rev: c.Rev, Latest: top}
	}

	if len(c.Conflicts) > 0 {
		if !json.Valid(c.Conflicts) {
			return nil, fmt.Errorf("%w: commit: revision %d: conflicts are not valid JSON", ErrInvalid, c.Rev)
		}
		h, err := r.PutObject(ctx, c.Conflicts)
		if err != nil {
			return nil, fmt.Errorf("snapshot: commit: storing conflicts: %w", err)
		}
		c.ConflictsHash = h
	} else {
		c.ConflictsHash = ""
	}
	if r.verifyObjects {
		if err := r.verify(ctx, c, latest); err != nil {
			return nil, fmt.Errorf("snapshot: commit revision %d: %w", c.Rev, err)
		}
	}

	data, err := c.Encode()
	if err != nil {
		return nil, fmt.Errorf("snapshot: commit: %w", err)
	}
	if _, err := r.store.Put(ctx, RevisionKey(c.Rev), data, sink.Cond{IfNoneMatch: true}); err != nil {
		if sink.IsPreconditionFailed(err) {
			return nil, &ConflictError{Rev: c.Rev, Err: err}
		}
		return nil, fmt.Errorf("snapshot: writing %s: %w", RevisionKey(c.Rev), err)
	}

	r.mu.Lock()
	if r.top() < c.Rev {
		r.revs = append(r.revs, c.Rev)
		stored := c.Clone()
		stored.Conflicts = nil
		r.latest = stored
	}
	r.mu.Unlock()

	if len(c.Conflicts) > 0 {
		// The manifest already refers to the conflicts object; this copy
		// is for people and scripts. Failing to write it loses nothing.
		_, err := r.store.Put(ctx, ConflictsKey(c.Rev), c.Conflicts, sink.Cond{IfNoneMatch: true})
		if err != nil && !sink.IsPreconditionFailed(err) {
			r.logger.WarnContext(ctx, "snapshot: writing conflict record", "key", ConflictsKey(c.Rev), "err", err)
		}
	}
	return c, nil
}

// verify checks that the objects m refers to, and that its parent did not
// refer to, are stored, by listing (no object is read).
func (r *Repo) verify(ctx context.Context, m, parent *Manifest) error {
	var need []string
	r.mu.Lock()
	for name, items := range m.Collections {
		var old map[string]Entry
		if parent != nil {
			old = parent.Collections[name]
		}
		for uid, e := range items {
			if o, ok := old[uid]; ok && o.Hash == e.Hash {
				continue
			}
			if !r.known[e.Hash] {
				need = append(need, e.Hash)
			}
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
	m, err := r.Manifest(ctx, rev)
	if err != nil {
		return nil, err
	}
	if m.ConflictsHash == "" {
		return nil, nil
	}
	data, _, err := r.store.Get(ctx, ConflictsKey(rev))
	if err == nil && HashOf(data) == m.ConflictsHash {
		return data, nil
	}
	if err != nil && !sink.IsNotExist(err) {
		return nil, fmt.Errorf("snapshot: reading %s: %w", ConflictsKey(rev), err)
	}
	// Missing or damaged copy: the object the manifest refers to is the
	// authority.
	data, err = r.GetObject(ctx, m.ConflictsHash)
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
	// Error is set, and the other fields except Rev are empty, when the
	// manifest cannot be read.
	Error string `json:"error,omitempty"`
}

// Log returns every revision, newest first. A revision that cannot be read
// is listed with its Error set rather than failing the whole log; an error
// is returned only when the store cannot be listed.
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
		m, err := r.Manifest(ctx, rev)
		if err != nil {
			out = append(out, LogEntry{Rev: rev, Error: err.Error()})
			continue
		}
		e := LogEntry{Rev: m.Rev, Parent: m.Parent, Author: m.Author, Time: m.Time,
			Items: m.Items(), Counts: map[Op]int{}, Conflicts: m.ConflictsHash != ""}
		for _, c := range m.Changes {
			e.Counts[c.Op]++
		}
		out = append(out, e)
	}
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
