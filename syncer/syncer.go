// Package syncer is the main job of pstsync: it merges one user's calendar
// and contacts (from a PST, or from a folder of .ics/.vcf files) three ways
// against the shared snapshot, commits the result as a new revision and
// writes the merged view into the user's mailbox folder.
//
// The rule above all: a sync never loses data. A conflict keeps both sides;
// a deletion that collides with an edit is a conflict; lost or corrupt
// state leads to additions or conflicts, never deletions; a side that
// suddenly looks empty is refused, not propagated; a sync that would delete
// more than half of a collection (and more than 10 items) stops unless
// confirmed.
//
// How one item is merged. Each user's items are tied to shared items by
// the link table in the user's state (users/<user>/state.json), which also
// records, per item, the change marker (last-modification time, change key,
// hash of the canonical bytes) seen at the last sync. The canonical bytes
// of that version are stored as an object too, so that when the user
// changes the item the three-way merge uses the user's own previous version
// as the base: what the user's client cannot represent (fields dropped by
// an Outlook import) is then never mistaken for a deletion. An item whose
// marker is unchanged has no opinion: it is neither read nor decoded, and
// the shared version stands. An item the user never had (not linked) is
// never deleted because it is missing on the user's side.
package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/snapshot"
)

// Progress receives progress while a PST is read (the CLI's progress bar
// implements it).
type Progress interface {
	Start(name string, items int)
	Item(name string)
	Done(name string)
}

// Options configure Sync.
type Options struct {
	User string // the user's name in the store (snapshot.ValidUser)
	Host string // recorded as the revision's author host
	// PST is the user's PST file; Source a folder of .ics/.vcf files.
	// Exactly one must be set.
	PST    string
	Source string
	Repo   *snapshot.Repo
	// Mailbox is the folder the merged view is written into; empty
	// writes none (pstsync merge).
	Mailbox string
	// Share names further PST folders to share (as collection
	// "share/NAME"), messages included.
	Share      []string
	OnConflict merge.OnConflict
	// DryRun computes what would change and writes nothing.
	DryRun bool
	// AllowMassDelete confirms a sync that deletes more than half of a
	// collection, or whose side of a collection is empty although it
	// had items.
	AllowMassDelete bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Rand draws the jitter between commit attempts (a fresh random
	// source when nil).
	Rand *rand.Rand
	// MaxAttempts bounds the commit attempts when other users commit at
	// the same time (DefaultMaxAttempts when zero).
	MaxAttempts int
	Progress    Progress
	Logger      *slog.Logger
}

// DefaultMaxAttempts is how often Sync tries to commit before giving up.
const DefaultMaxAttempts = 12

// Result says what a sync did (or, with DryRun, would do).
type Result struct {
	User      string
	Rev       int64 // the latest revision after the sync
	Parent    int64 // the revision merged against
	Committed bool  // a new revision was written
	DryRun    bool
	Changes   []snapshot.Change // of the new revision (or the one a dry run would write)
	Conflicts []merge.Conflict  // found by this sync
	Added     int               // items this user added to the snapshot
	Modified  int               // items this user's edits changed
	Deleted   int               // items this user's deletions removed
	Copies    int               // conflict copies created
	// Incoming counts, per collection, the items written to the mailbox's
	// incoming files.
	Incoming map[string]int
	// Decoded counts the items parsed: from the user's side (PST items
	// converted, files parsed) and snapshot objects decoded.
	Decoded    int
	Attempts   int  // commit attempts
	StateReset bool // the user's state was unreadable and started fresh
	// Files lists the mailbox files written or removed.
	Files []string
}

// Errors. Each is wrapped in a message naming the collection and the
// remedy.
var (
	// ErrMassDelete: the sync would delete more than half of a shared
	// collection (and more than 10 items).
	ErrMassDelete = errors.New("syncer: mass deletion refused")
	// ErrEmptySide: the user's side of a collection is empty (or missing)
	// although it had items at the last sync.
	ErrEmptySide = errors.New("syncer: empty side refused")
	// ErrBusy: other users kept committing; the attempts ran out.
	ErrBusy = errors.New("syncer: the shared snapshot is too busy")
)

// MassDeleteError is the ErrMassDelete error.
type MassDeleteError struct {
	Collection string
	Deleting   int
	Total      int
}

func (e *MassDeleteError) Error() string {
	return fmt.Sprintf("this sync would delete %d of the %d items of the shared %s; nothing was changed. "+
		"If the deletions are intended, run again with --allow-mass-delete", e.Deleting, e.Total, e.Collection)
}

// Unwrap makes errors.Is(err, ErrMassDelete) true.
func (e *MassDeleteError) Unwrap() error { return ErrMassDelete }

// EmptySideError is the ErrEmptySide error.
type EmptySideError struct {
	Collection string
	Had        int // items linked at the last sync
	Missing    bool
}

func (e *EmptySideError) Error() string {
	what := "is empty"
	if e.Missing {
		what = "was not found"
	}
	return fmt.Sprintf("your %s %s but had %d item(s) at the last sync; nothing was changed. "+
		"Check that the right PST or folder was given; if you really deleted everything, run again with --allow-mass-delete",
		e.Collection, what, e.Had)
}

// Unwrap makes errors.Is(err, ErrEmptySide) true.
func (e *EmptySideError) Unwrap() error { return ErrEmptySide }

// InputError is a PST or source that cannot be opened.
type InputError struct {
	Path string
	Err  error
}

func (e *InputError) Error() string { return fmt.Sprintf("syncer: %s: %v", e.Path, e.Err) }
func (e *InputError) Unwrap() error { return e.Err }

// run is one Sync.
type run struct {
	o     Options
	log   *slog.Logger
	repo  *snapshot.Repo
	st    *snapshot.UserState
	links map[linkKey]*snapshot.Link
	side  *side
	docs  map[string]*merge.Doc // decoded objects by hash
	base  *snapshot.Manifest    // revision st.BaseRev (nil: none)
	// recovered: st is the local copy, the store's was missing or
	// unreadable; it links items but never implies deletions.
	recovered bool
	baseOK    bool
	res       *Result
}

// Sync runs one user's sync; see the package comment.
func Sync(ctx context.Context, o Options) (*Result, error) {
	if o.Repo == nil {
		return nil, errors.New("syncer: no snapshot repository")
	}
	if !snapshot.ValidUser(o.User) {
		return nil, fmt.Errorf("syncer: invalid user name %q (letters, digits, '.', '_' and '-')", o.User)
	}
	if (o.PST == "") == (o.Source == "") {
		return nil, errors.New("syncer: give exactly one of a PST file and a source folder")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.OnConflict == "" {
		o.OnConflict = merge.KeepBoth
	}
	r := &run{o: o, log: o.Logger, repo: o.Repo, docs: map[string]*merge.Doc{},
		res: &Result{User: o.User, DryRun: o.DryRun, Incoming: map[string]int{}}}
	if r.log == nil {
		r.log = slog.Default()
	}

	st, etag, err := r.repo.LoadState(ctx, o.User)
	switch {
	case snapshot.IsCorruptState(err):
		r.log.WarnContext(ctx, "user state unreadable: starting fresh (nothing will be deleted)", "user", o.User, "err", err)
		st, r.res.StateReset = nil, true
	case err != nil:
		return nil, fmt.Errorf("syncer: loading the state of %s: %w", o.User, err)
	}
	if st == nil {
		// The store has no usable state: the copy kept in the mailbox
		// folder still knows which PST item is which shared item.
		if cached := r.cachedState(ctx); cached != nil {
			st, r.recovered = cached, true
		}
	}
	r.st = st
	r.links = linkIndex(st)

	if o.Source != "" {
		r.side, err = readSource(ctx, o.Source, r.links)
	} else {
		r.side, err = readPST(ctx, o.PST, o.Share, r.links, o.Progress)
	}
	if err != nil {
		return nil, err
	}
	r.res.Decoded += r.side.decoded
	sortItems(r.side.items)
	for _, it := range r.side.items {
		if it.doc != nil {
			it.finish()
		}
	}
	if err := r.checkEmpty(); err != nil {
		return nil, err
	}

	var p *plan
	var final *snapshot.Manifest
	for attempt := 1; ; attempt++ {
		r.res.Attempts = attempt
		latest, err := r.repo.Latest(ctx)
		if err != nil {
			return nil, fmt.Errorf("syncer: reading the latest revision: %w", err)
		}
		p, err = r.plan(ctx, latest)
		if err != nil {
			return nil, err
		}
		r.res.Parent = p.parent
		r.res.Changes = p.changes
		r.res.Conflicts = p.conflicts
		r.res.Added, r.res.Modified, r.res.Deleted, r.res.Copies = p.added, p.modified, p.deleted, p.copies
		if o.DryRun {
			r.res.Rev = p.parent
			return r.res, nil
		}
		if len(p.changes) == 0 {
			// Objects check --repair asked for, when this user has them.
			if err := r.repo.Supply(ctx, p.objects); err != nil {
				return nil, fmt.Errorf("syncer: %w", err)
			}
			final = latest
			if final == nil { // an empty snapshot: an empty view
				final = &snapshot.Manifest{Collections: map[string]map[string]snapshot.Entry{}}
			}
			break
		}
		m, err := r.commit(ctx, p)
		if err == nil {
			final = m
			r.res.Committed = true
			break
		}
		if !snapshot.IsConflict(err) {
			return nil, fmt.Errorf("syncer: %w", err)
		}
		if attempt >= o.MaxAttempts {
			return nil, fmt.Errorf("%w: %d attempts to commit failed because other users committed at the same time; run again: %v", ErrBusy, attempt, err)
		}
		r.log.DebugContext(ctx, "another user committed first; merging again", "attempt", attempt)
		if err := sleep(ctx, r.backoff(attempt)); err != nil {
			return nil, err
		}
	}
	if final != nil {
		r.res.Rev = final.Rev
	}

	// The mailbox before the state: should saving the state fail, the
	// next run sends the same items again, which is harmless.
	if o.Mailbox != "" && final != nil {
		files, err := r.writeMailbox(ctx, final, p)
		r.res.Files = files
		if err != nil {
			return r.res, err
		}
	}
	if err := r.saveState(ctx, final, p, etag); err != nil {
		return r.res, err
	}
	return r.res, nil
}

func (r *run) backoff(attempt int) time.Duration {
	d := 10 * time.Millisecond << min(attempt, 7)
	return time.Duration(float64(d) * (0.5 + r.o.Rand.Float64()))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// checkEmpty refuses a side whose collection is empty or missing although
// the user had linked items in it.
func (r *run) checkEmpty() error {
	if r.o.AllowMassDelete {
		return nil
	}
	had := map[string]int{}
	for k := range r.links {
		had[k.coll]++
	}
	have := map[string]int{}
	for _, it := range r.side.items {
		have[it.coll]++
	}
	colls := slices.Sorted(maps.Keys(had))
	for _, c := range colls {
		if had[c] > 0 && have[c] == 0 {
			return &EmptySideError{Collection: c, Had: had[c], Missing: !r.side.present[c]}
		}
	}
	return nil
}

// baseManifest returns the revision the user last synced (nil when none or
// unreadable: then nothing is deleted on the strength of it).
func (r *run) baseManifest(ctx context.Context, latest *snapshot.Manifest) *snapshot.Manifest {
	if r.baseOK {
		return r.base
	}
	r.baseOK = true
	if r.st == nil || r.st.BaseRev <= 0 || latest == nil || r.st.BaseRev > latest.Rev {
		return nil
	}
	if r.st.BaseRev == latest.Rev {
		r.base = latest
		return r.base
	}
	m, err := r.repo.Manifest(ctx, r.st.BaseRev)
	if err != nil {
		r.log.WarnContext(ctx, "base revision unreadable: merging without it", "rev", r.st.BaseRev, "err", err)
		return nil
	}
	r.base = m
	return m
}

// doc decodes the object with hash h (cached).
func (r *run) doc(ctx context.Context, h string, kind merge.Kind) (*merge.Doc, error) {
	if d, ok := r.docs[h]; ok {
		return d, nil
	}
	data, err := r.repo.GetObject(ctx, h)
	if err != nil {
		return nil, err
	}
	d, err := ParseObject(data, kind)
	if err != nil {
		return nil, fmt.Errorf("syncer: object %s: %w", h, err)
	}
	r.res.Decoded++
	r.docs[h] = d
	return d, nil
}

// plan is the merge against one latest revision.
type plan struct {
	parent    int64
	latest    *snapshot.Manifest
	colls     map[string]map[string]snapshot.Entry
	objects   map[string][]byte
	changes   []snapshot.Change
	conflicts []merge.Conflict
	assign    map[*item]string
	copies    int
	added     int
	modified  int
	deleted   int
}

func (p *plan) entry(d *merge.Doc) snapshot.Entry {
	data := merge.Canonical(d)
	h := snapshot.HashOf(data)
	p.objects[h] = data
	return snapshot.Entry{Hash: h, Kind: string(d.Kind), Title: d.Title()}
}

func (r *run) plan(ctx context.Context, latest *snapshot.Manifest) (*plan, error) {
	p := &plan{latest: latest, colls: map[string]map[string]snapshot.Entry{}, objects: map[string][]byte{}}
	var T map[string]map[string]snapshot.Entry
	if latest != nil {
		p.parent = latest.Rev
		T = latest.Collections
	}
	var err error
	p.assign, err = r.resolve(ctx, T)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for c := range T {
		names[c] = true
	}
	byColl := map[string]map[string][]*item{}
	for _, it := range r.side.items {
		names[it.coll] = true
		if byColl[it.coll] == nil {
			byColl[it.coll] = map[string][]*item{}
		}
		uid := p.assign[it]
		byColl[it.coll][uid] = append(byColl[it.coll][uid], it)
	}
	deletedLinks := map[string][]*snapshot.Link{}
	present := map[linkKey]bool{}
	for _, it := range r.side.items {
		present[linkKey{it.coll, it.key}] = true
	}
	for k, l := range r.links {
		// State recovered from the local copy serves identity only: a
		// deletion is never inferred from it (lost state never deletes).
		if r.recovered {
			break
		}
		if !present[k] && (r.side.present[k.coll] || r.o.AllowMassDelete) {
			deletedLinks[k.coll] = append(deletedLinks[k.coll], l)
		}
	}
	for _, coll := range slices.Sorted(maps.Keys(names)) {
		if err := r.mergeColl(ctx, p, coll, T[coll], byColl[coll], deletedLinks[coll]); err != nil {
			return nil, err
		}
	}
	var old map[string]map[string]snapshot.Entry
	if latest != nil {
		old = latest.Collections
	}
	p.changes = snapshot.Diff(old, p.colls, r.o.User)
	copies := map[string]bool{}
	for _, c := range p.conflicts {
		if c.Copy != "" {
			copies[c.Collection+"\x00"+c.Copy] = true
		}
	}
	for i := range p.changes {
		if copies[p.changes[i].Collection+"\x00"+p.changes[i].UID] && p.changes[i].Op == snapshot.OpAdd {
			p.changes[i].Op = snapshot.OpConflictCopy
		}
	}
	// Objects already in the latest revision need no writing.
	for _, items := range T {
		for _, e := range items {
			delete(p.objects, e.Hash)
		}
	}
	// The user's own versions of changed items (the base of their next
	// change) and message contents.
	for _, it := range r.side.items {
		if it.doc == nil {
			continue
		}
		p.objects[it.marker.Hash] = it.data
		for _, c := range it.content {
			p.objects[snapshot.HashOf(c)] = c
		}
	}
	return p, nil
}

func (r *run) mergeColl(ctx context.Context, p *plan, coll string, T map[string]snapshot.Entry, byUID map[string][]*item, gone []*snapshot.Link) error {
	out := make(map[string]snapshot.Entry, len(T)+len(byUID))
	for uid, e := range T {
		out[uid] = e
	}
	base, ours, theirs := map[string]*merge.Doc{}, map[string]*merge.Doc{}, map[string]*merge.Doc{}
	inSet := map[string]bool{}
	for _, uid := range slices.Sorted(maps.Keys(byUID)) {
		its := byUID[uid]
		var it *item
		for _, x := range its {
			if !x.unchanged {
				it = x
				break
			}
		}
		if it == nil {
			continue // no opinion: the shared version stands
		}
		th, inT := T[uid]
		if inT && th.Hash == it.marker.Hash {
			continue
		}
		if it.link == nil && inT {
			// First sighting of a shared item (imported from the
			// mailbox, or the state was lost): exactly the version the
			// user was last given has no opinion.
			if b := r.baseManifest(ctx, p.latest); b != nil && b.Collections[coll][uid].Hash == it.marker.Hash {
				continue
			}
		}
		doc := it.doc
		if doc.UID != uid {
			doc = doc.Clone()
			doc.UID = uid
		}
		var prev *merge.Doc
		if l := it.link; l != nil && l.UID == uid && l.Marker.Hash != "" {
			d, err := r.doc(ctx, l.Marker.Hash, doc.Kind)
			if err != nil {
				r.log.WarnContext(ctx, "previous version unreadable: merging without it", "collection", coll, "uid", uid, "err", err)
			} else {
				prev = d
			}
		}
		if !inT && prev == nil {
			out[uid] = p.entry(doc)
			p.added++
			continue
		}
		inSet[uid] = true
		ours[uid] = doc
		if prev != nil {
			base[uid] = prev
		}
		if inT {
			t, err := r.doc(ctx, th.Hash, merge.Kind(th.Kind))
			if unreadableObject(err) {
				// The shared version is lost (missing or corrupt): this
				// item's problem only, and ours replaces it.
				r.log.WarnContext(ctx, "shared version unreadable: keeping this user's version (pstsync check)", "collection", coll, "uid", uid, "err", err)
				delete(inSet, uid)
				delete(ours, uid)
				delete(base, uid)
				out[uid] = p.entry(doc)
				if out[uid].Hash != th.Hash {
					p.modified++
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("syncer: %s/%s: %w", coll, uid, err)
			}
			theirs[uid] = t
		}
	}
	deletions := 0
	for _, l := range gone {
		uid := l.UID
		if len(byUID[uid]) > 0 || inSet[uid] {
			continue // still on the user's side under another key
		}
		th, inT := T[uid]
		if !inT {
			continue
		}
		if th.Hash == l.Marker.Hash {
			delete(out, uid)
			deletions++
			continue
		}
		// Changed since the user's version: a deletion only when every
		// field of the user's version is in the shared one unchanged
		// (the shared one may have more: fields the user's client does
		// not keep) and the shared item is what the user was given at
		// the last sync; otherwise delete versus modify.
		var prev *merge.Doc
		if l.Marker.Hash != "" {
			if d, err := r.doc(ctx, l.Marker.Hash, merge.Kind(th.Kind)); err == nil {
				prev = d
			}
		}
		if prev == nil {
			continue // nothing to compare with: keep theirs
		}
		t, err := r.doc(ctx, th.Hash, merge.Kind(th.Kind))
		if unreadableObject(err) {
			r.log.WarnContext(ctx, "shared version unreadable: not deleting it (pstsync check)", "collection", coll, "uid", uid, "err", err)
			continue
		}
		if err != nil {
			return fmt.Errorf("syncer: %s/%s: %w", coll, uid, err)
		}
		if b := r.baseManifest(ctx, p.latest); b != nil && b.Collections[coll][uid].Hash == th.Hash && subsetFields(prev, t) {
			delete(out, uid)
			deletions++
			continue
		}
		inSet[uid] = true
		base[uid], theirs[uid] = prev, t
	}
	if len(inSet) > 0 {
		res := r.mergeByEditor(ctx, p.latest, coll, inSet, base, ours, theirs)
		for uid := range inSet {
			m, ok := res.Merged[uid]
			_, wasT := T[uid]
			switch {
			case ok:
				e := p.entry(m)
				if old, had := T[uid]; !had {
					p.added++
				} else if old.Hash != e.Hash {
					p.modified++
					if _, ours := ours[uid]; !ours {
						p.modified-- // theirs kept in a delete-modify conflict
					}
				}
				out[uid] = e
			case wasT:
				delete(out, uid)
				deletions++
			}
		}
		for uid, m := range res.Merged {
			if inSet[uid] {
				continue
			}
			// A conflict copy's UID is derived from its content, so it can
			// name an item that already exists: an earlier copy of the same
			// version, which a colleague may have edited since. Never
			// overwrite another item; the new copy takes a fresh UID.
			if old, taken := out[uid]; taken && old.Hash != snapshot.HashOf(merge.Canonical(m)) {
				fresh := freeUID(out, uid, merge.Hash(m))
				m = m.Clone()
				m.UID = fresh
				for i := range res.Conflicts {
					if res.Conflicts[i].Copy == uid {
						res.Conflicts[i].Copy = fresh
					}
				}
				uid = fresh
			}
			out[uid] = p.entry(m)
			p.copies++
		}
		p.conflicts = append(p.conflicts, res.Conflicts...)
	}
	if deletions > 10 && 2*deletions > len(T) && !r.o.AllowMassDelete {
		return &MassDeleteError{Collection: coll, Deleting: deletions, Total: len(T)}
	}
	p.deleted += deletions
	if len(out) > 0 || len(T) > 0 {
		p.colls[coll] = out
	}
	return nil
}

// commit writes the plan's objects and the revision.
func (r *run) commit(ctx context.Context, p *plan) (*snapshot.Manifest, error) {
	objs := make([][]byte, 0, len(p.objects))
	for _, h := range slices.Sorted(maps.Keys(p.objects)) {
		objs = append(objs, p.objects[h])
	}
	if _, err := r.repo.PutObjects(ctx, objs); err != nil {
		return nil, err
	}
	m := &snapshot.Manifest{Parent: p.parent, Author: snapshot.Author{User: r.o.User, Host: r.o.Host},
		Time: r.o.Now().UTC(), Collections: p.colls, Changes: p.changes}
	if len(p.conflicts) > 0 {
		data, err := json.Marshal(p.conflicts)
		if err != nil {
			return nil, fmt.Errorf("encoding conflicts: %w", err)
		}
		m.Conflicts = data
	}
	return r.repo.Commit(ctx, m)
}

// saveState records the links and the new base revision, when they
// changed.
func (r *run) saveState(ctx context.Context, final *snapshot.Manifest, p *plan, etag string) error {
	rev := int64(0)
	if final != nil {
		rev = final.Rev
	}
	st := &snapshot.UserState{User: r.o.User, BaseRev: rev, Updated: r.o.Now().UTC()}
	seen := map[linkKey]bool{}
	for _, it := range r.side.items {
		k := linkKey{it.coll, it.key}
		if seen[k] {
			continue
		}
		seen[k] = true
		uid := p.assign[it]
		st.Links = append(st.Links, snapshot.Link{Key: it.key, UID: uid, Collection: it.coll, Marker: it.marker})
	}
	if r.st != nil && r.st.BaseRev == st.BaseRev && sameLinks(r.st.Links, st.Links) {
		return nil
	}
	if _, err := r.repo.SaveState(ctx, r.o.User, st, etag); err != nil {
		return fmt.Errorf("syncer: saving the state of %s (the revision is committed; the next run links the items again): %w", r.o.User, err)
	}
	r.cacheState(ctx, st)
	return nil
}

// stateCachePath is the local copy of the user's state, in the mailbox
// folder's bookkeeping directory.
func (r *run) stateCachePath() string {
	if r.o.Mailbox == "" || r.o.DryRun {
		return ""
	}
	return filepath.Join(r.o.Mailbox, ".pstsync", "state-"+FileName(r.o.User)+".json")
}

// cacheState keeps a local copy of the state just saved in the store. A
// failure only costs the fallback, so it is logged, not returned.
func (r *run) cacheState(ctx context.Context, st *snapshot.UserState) {
	p := r.stateCachePath()
	if p == "" {
		return
	}
	data, err := st.Encode()
	if err == nil {
		err = sink.WriteFileAtomic(p, data)
	}
	if err != nil {
		r.log.WarnContext(ctx, "could not keep a local copy of the state", "path", p, "err", err)
	}
}

// cachedState returns the local copy of the user's state, or nil. It is
// used only when the store's copy is missing or unreadable; a copy whose
// base revision the store does not have is treated as having no base.
func (r *run) cachedState(ctx context.Context) *snapshot.UserState {
	p := r.stateCachePath()
	if p == "" {
		return nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	st, err := snapshot.ParseState(data)
	if err != nil || st.User != r.o.User {
		r.log.WarnContext(ctx, "local copy of the state unusable: ignoring it", "path", p, "err", err)
		return nil
	}
	r.log.InfoContext(ctx, "state missing in the store: using the local copy", "path", p, "base", st.BaseRev, "links", len(st.Links))
	return st
}

// subsetFields reports whether every field of a is in b with the same
// value.
func subsetFields(a, b *merge.Doc) bool {
	for k, f := range a.Fields {
		g, ok := b.Fields[k]
		if !ok || !f.Equal(g) {
			return false
		}
	}
	return true
}

func sameLinks(a, b []snapshot.Link) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(l snapshot.Link) string { return l.Collection + "\x00" + l.Key }
	am := make(map[string]snapshot.Link, len(a))
	for _, l := range a {
		am[key(l)] = l
	}
	for _, l := range b {
		o, ok := am[key(l)]
		if !ok || o.UID != l.UID || o.Marker.Hash != l.Marker.Hash || o.Marker.ChangeKey != l.Marker.ChangeKey ||
			!o.Marker.LastModified.Equal(l.Marker.LastModified) {
			return false
		}
	}
	return true
}

// Summary is a one-line description of a result for people.
func (res *Result) Summary() string {
	var sb strings.Builder
	switch {
	case res.DryRun:
		fmt.Fprintf(&sb, "dry run against revision %d: would ", res.Parent)
	case res.Committed:
		fmt.Fprintf(&sb, "revision %d: ", res.Rev)
	default:
		fmt.Fprintf(&sb, "revision %d: nothing to commit", res.Rev)
	}
	if res.Committed || res.DryRun {
		fmt.Fprintf(&sb, "add %d, change %d, delete %d item(s), %d conflict(s)", res.Added, res.Modified, res.Deleted, countItems(res.Conflicts))
	}
	if n := sumInts(res.Incoming); n > 0 {
		fmt.Fprintf(&sb, "; %d new or changed item(s) for you in incoming/", n)
	}
	return sb.String()
}

func countItems(cs []merge.Conflict) int {
	seen := map[string]bool{}
	for _, c := range cs {
		seen[c.Collection+"\x00"+c.UID] = true
	}
	return len(seen)
}

func sumInts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// mergeByEditor merges the items of one collection, naming in each
// conflict (and in each conflict copy's title) the colleague who last
// changed the shared version, found in the revisions since the user's base.
func (r *run) mergeByEditor(ctx context.Context, latest *snapshot.Manifest, coll string, uids map[string]bool, base, ours, theirs map[string]*merge.Doc) merge.Result {
	editors := r.lastEditors(ctx, latest, coll, uids)
	groups := map[string][]string{}
	for uid := range uids {
		by := editors[uid]
		if by == "" {
			by = "shared"
		}
		groups[by] = append(groups[by], uid)
	}
	out := merge.Result{Merged: map[string]*merge.Doc{}}
	for _, by := range slices.Sorted(maps.Keys(groups)) {
		b, o, t := map[string]*merge.Doc{}, map[string]*merge.Doc{}, map[string]*merge.Doc{}
		for _, uid := range groups[by] {
			if d, ok := base[uid]; ok {
				b[uid] = d
			}
			if d, ok := ours[uid]; ok {
				o[uid] = d
			}
			if d, ok := theirs[uid]; ok {
				t[uid] = d
			}
		}
		res := merge.MergeCollection(b, o, t, merge.Options{Collection: coll, OnConflict: r.o.OnConflict,
			OursBy: r.o.User, TheirsBy: by, Now: r.o.Now()})
		for uid, d := range res.Merged {
			out.Merged[uid] = d
		}
		out.Conflicts = append(out.Conflicts, res.Conflicts...)
	}
	return out
}

// maxEditorScan bounds how many revisions lastEditors reads.
const maxEditorScan = 200

// lastEditors returns, for the given items of coll, the user who last
// changed each in the revisions after the user's base (newest first).
func (r *run) lastEditors(ctx context.Context, latest *snapshot.Manifest, coll string, uids map[string]bool) map[string]string {
	out := map[string]string{}
	if latest == nil {
		return out
	}
	stop := int64(0)
	if r.st != nil && r.st.BaseRev > 0 && r.st.BaseRev <= latest.Rev {
		stop = r.st.BaseRev
	}
	for rev := latest.Rev; rev > stop && rev > latest.Rev-maxEditorScan && len(out) < len(uids); rev-- {
		changes := latest.Changes
		if rev != latest.Rev {
			h, err := r.repo.Header(ctx, rev)
			if err != nil {
				r.log.DebugContext(ctx, "revision unreadable while naming editors", "rev", rev, "err", err)
				continue
			}
			changes = h.Changes
		}
		for _, ch := range changes {
			if ch.Collection == coll && uids[ch.UID] && out[ch.UID] == "" && ch.By != "" && ch.By != r.o.User {
				out[ch.UID] = ch.By
			}
		}
	}
	return out
}

// unreadableObject reports whether err means a stored object is lost
// (missing or corrupt): a problem of that item, never of the whole sync.
func unreadableObject(err error) bool {
	return err != nil && (errors.Is(err, snapshot.ErrCorruptObject) || sink.IsNotExist(err))
}

// freeUID returns a UID derived from uid and the item's hash that no item
// of coll holds yet.
func freeUID(coll map[string]snapshot.Entry, uid, hash string) string {
	base := uid + "-" + hash[:8]
	c := base
	for n := 2; ; n++ {
		if _, taken := coll[c]; !taken {
			return c
		}
		c = fmt.Sprintf("%s-%d", base, n)
	}
}
