// Package syncer is the main job of pstsync: it merges one user's calendar
// and contacts (from a PST, a folder of .ics/.vcf files, or a running
// Outlook) three ways against the shared snapshot, commits the result as a
// new revision and writes the merged view into the user's mailbox folder
// (and, for Outlook, back into Outlook: outlook.go).
//
// The rule above all: a sync never loses data. A conflict keeps both sides;
// a deletion that collides with an edit is a conflict; lost or corrupt
// state leads to additions or conflicts, never deletions; a side that
// suddenly looks empty is refused, not propagated; a sync that would delete
// more than half of a collection (and more than 10 items) stops unless
// confirmed.
//
// A run loads, reconciles and applies. It loads the user's state, reads
// the user's side (a SideReader: the PST's folders or a folder of files,
// each source with how cleanly it was read), reads the latest revision and
// the versions it needs; merge.Reconcile (pure) turns all of it into a
// plan: the shared delta, the conflicts, the user's view and the new
// state. Then the run commits the delta (on a lost race it loads and
// reconciles again), delivers the view (a Target: the mailbox folder) and
// saves the state — in that order, so a crash between the steps repeats
// work but never loses it. The state remembers, per shared item, the
// version delivered to the user (the base of what comes back from the
// mailbox) and the user's own version and its source; a run that changes
// nothing writes nothing.
package syncer

import (
	"bytes"
	"cmp"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/pstsync/pstsync/freebusy"
	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/outlook"
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
	// pstReader, in tests, reads the side in place of the PST file.
	pstReader SideReader
	// Outlook, when set instead of PST and Source, is the user's side:
	// read through the bridge, and the merged result is written back
	// into it (OutlookReader, deliverOutlook).
	Outlook outlook.Bridge
	// FreeBusy is the folder the user's free/busy file (NAME.vfb) is
	// published in after a run ("" publishes none); FreeBusyOptions
	// its name, address and zone.
	FreeBusy        string
	FreeBusyOptions freebusy.Options
	Repo            *snapshot.Repo
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
	// Machine identifies this computer (a random id kept in its config
	// folder); empty uses the one kept in the mailbox folder. A state
	// written by another machine is refused (ErrOtherMachine) unless
	// TakeOver, which adopts it without trusting it for deletions.
	Machine  string
	TakeOver bool
	// MaxFileSize bounds the size of a source file (DefaultMaxFileSize
	// when zero); a larger one is reported and its items left as they
	// were.
	MaxFileSize int64
}

// DefaultMaxFileSize is the largest source file read.
const DefaultMaxFileSize = 64 << 20

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
	// Problems lists the sources (files, PST folders) and items that
	// could not be read cleanly: their items were left as they were.
	Problems []Problem
	// Duplicates lists items whose UID another item of the user's side
	// has too: each became a separate shared item with a fresh UID.
	Duplicates []Duplicate
	// Outlook says what was written into Outlook (nil without the
	// bridge); FreeBusy is the free/busy file written ("" none).
	Outlook  *OutlookResult
	FreeBusy string
}

// Problem is a source or item that could not be read cleanly this run.
type Problem struct {
	Source string // file (relative to the source folder) or PST folder
	Item   string // the item (UID or index) when one item failed; "" for the whole source
	Err    string
}

func (p Problem) String() string {
	if p.Item != "" {
		return fmt.Sprintf("%s: item %s: %s", p.Source, p.Item, p.Err)
	}
	return fmt.Sprintf("%s: %s", p.Source, p.Err)
}

// Duplicate is an item whose UID was taken by another item of the side.
type Duplicate struct {
	Collection string
	UID        string // the UID both have
	Key        string // the duplicate's key (file#UID...)
	// NewUID is the UID it is shared under; "" when it is an unchanged
	// copy of the shared item (not shared again, no opinion).
	NewUID string
}

func (d Duplicate) String() string {
	if d.NewUID == "" {
		return fmt.Sprintf("%s: a second copy of %s/%s; not shared again", d.Key, d.Collection, d.UID)
	}
	return fmt.Sprintf("%s: UID %s/%s is used by another item too; both kept, this one shared as %s", d.Key, d.Collection, d.UID, d.NewUID)
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
	// ErrOtherMachine: the user's state was written by another computer
	// (the same user name synced from two PCs).
	ErrOtherMachine = errors.New("syncer: user synced from another computer")
)

// OtherMachineError is the ErrOtherMachine error.
type OtherMachineError struct {
	User, Machine string
}

func (e *OtherMachineError) Error() string {
	return fmt.Sprintf("user %s is synced from another computer (%s); nothing was changed. Give each computer its own --user, "+
		"or if this computer replaces the other one, run once with --take-over", e.User, e.Machine)
}

// Unwrap makes errors.Is(err, ErrOtherMachine) true.
func (e *OtherMachineError) Unwrap() error { return ErrOtherMachine }

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
	o       Options
	log     *slog.Logger
	repo    *snapshot.Repo
	st      *snapshot.UserState
	links   map[linkKey]*snapshot.Link
	side    *side
	docs    map[string]*merge.Doc // decoded objects by hash
	machine string
	// machineFile is where a new machine id is kept once the run has
	// committed ("" when the id exists or comes from Options.Machine).
	machineFile string
	// copies are unchanged second copies of an item the side has (shared
	// UID by item): no opinion, kept in the state as copies.
	copies map[*item]string
	// trusted: st is this user's own state from the last successful run
	// on this machine; only then may an absent item be a deletion.
	trusted bool
	// recovered: st is the local copy, the store's was missing or
	// unreadable; it links items but never implies deletions.
	recovered bool
	res       *Result
	// outlook is what the run wrote into Outlook (nil without it).
	outlook *outlookDelivery
	olMemo  outlookMemo
}

// Sync runs one user's sync; see the package comment.
func Sync(ctx context.Context, o Options) (*Result, error) {
	if o.Repo == nil {
		return nil, errors.New("syncer: no snapshot repository")
	}
	if !snapshot.ValidUser(o.User) {
		return nil, fmt.Errorf("syncer: invalid user name %q (letters, digits, '.', '_' and '-')", o.User)
	}
	if n := btoi(o.PST != "") + btoi(o.Source != "") + btoi(o.Outlook != nil); n != 1 {
		return nil, errors.New("syncer: give exactly one of a PST file, a source folder and Outlook")
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
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	r := &run{o: o, log: o.Logger, repo: o.Repo, docs: map[string]*merge.Doc{},
		res: &Result{User: o.User, DryRun: o.DryRun, Incoming: map[string]int{}}}
	if r.log == nil {
		r.log = slog.Default()
	}
	var err error
	if r.machine, err = r.machineID(); err != nil {
		return nil, err
	}

	var reader SideReader
	if o.Outlook != nil {
		reader = &OutlookReader{Bridge: o.Outlook, Share: o.Share}
	} else if o.Source != "" {
		reader = &FolderReader{Dir: o.Source, MaxFileSize: o.MaxFileSize}
	} else {
		reader = &PSTReader{Path: o.PST, Share: o.Share, Progress: o.Progress}
		if o.pstReader != nil {
			reader = o.pstReader
		}
	}
	// On a machine with no local copy of the state (its first sync), the
	// side is read while the state loads (from a remote store, or with an
	// encrypted one while its key is derived): read as a run with no
	// state reads it. It is used when the store has no state either, else
	// read again.
	early := r.readEarly(ctx, reader)

	// Load.
	st, etag, err := r.repo.LoadState(ctx, o.User)
	switch {
	case snapshot.IsCorruptState(err):
		r.log.WarnContext(ctx, "user state unreadable: starting fresh (nothing will be deleted)", "user", o.User, "err", err)
		st, r.res.StateReset = nil, true
	case err != nil:
		early.discard()
		return nil, fmt.Errorf("syncer: loading the state of %s: %w", o.User, err)
	}
	r.trusted = st != nil
	if st != nil && st.Machine != "" && r.machine != "" && st.Machine != r.machine {
		if !o.TakeOver {
			early.discard()
			return nil, &OtherMachineError{User: o.User, Machine: st.Machine}
		}
		r.log.WarnContext(ctx, "taking over the user's state from another computer (nothing will be deleted this run)", "user", o.User, "machine", st.Machine)
		r.trusted = false
	}
	if st == nil && early == nil {
		// The store has no usable state: the copy kept in the mailbox
		// folder still knows which item is which shared item.
		if cached := r.cachedState(ctx); cached != nil {
			st, r.recovered = cached, true
		}
	}
	r.st = st
	r.links = linkIndex(st)

	read, err := early.result(st == nil)
	if read == nil && err == nil {
		read, err = reader.ReadSide(ctx, r.prev())
	}
	if err != nil {
		return nil, err
	}
	r.undoOutlookRewrites(ctx, read)
	r.side = newSide(read, r.links)
	r.res.Decoded += r.side.decoded
	r.res.Problems = r.side.problems
	for _, p := range r.side.problems {
		r.log.WarnContext(ctx, "source not read cleanly: its items are left as they were", "source", p.Source, "item", p.Item, "err", p.Err)
	}
	sortItems(r.side.items)
	finishAll(r.side.items)
	if err := r.checkEmpty(); err != nil {
		return nil, err
	}
	sideObjs := r.storeSideEarly(ctx)
	defer func() { _, _ = sideObjs.wait() }()

	// Reconcile and commit; a lost race loads and reconciles again.
	var a *applied
	var fb *ical.Calendar
	for attempt := 1; ; attempt++ {
		r.res.Attempts = attempt
		latest, err := r.repo.Latest(ctx)
		if err != nil {
			return nil, fmt.Errorf("syncer: reading the latest revision: %w", err)
		}
		a, err = r.reconcile(ctx, latest)
		if err != nil {
			return nil, err
		}
		r.res.Parent = a.parent
		r.res.Changes = a.changes
		r.res.Conflicts = a.plan.Conflicts
		r.res.Added, r.res.Modified, r.res.Deleted, r.res.Copies = a.plan.Added, a.plan.Modified, a.plan.Deleted, len(a.plan.Copies)
		if o.DryRun {
			r.res.Rev = a.parent
			return r.res, nil
		}
		if a.plan.Empty() && len(a.plan.Conflicts) == 0 {
			if _, err := sideObjs.wait(); err != nil {
				return nil, fmt.Errorf("syncer: %w", err)
			}
			// Objects check --repair asked for, when this user has them.
			if err := r.repo.Supply(ctx, a.mem); err != nil {
				return nil, fmt.Errorf("syncer: %w", err)
			}
			a.final = latest
			fb, _ = r.startFreeBusy(ctx, a).wait()
			break
		}
		// A plan with conflicts but no change (delete versus edit: the
		// edit is kept) still makes a revision: it records the conflicts.
		// Free/busy, computed from the plan and the run's items in
		// memory, is made while the revision is written.
		stored, err := sideObjs.wait()
		if err != nil {
			return nil, fmt.Errorf("syncer: %w", err)
		}
		fbRun := r.startFreeBusy(ctx, a)
		m, err := r.commit(ctx, a, stored)
		fb, _ = fbRun.wait()
		if err == nil {
			a.final = m
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
	if a.final != nil {
		r.res.Rev = a.final.Rev
	}
	// Free/busy is published after Outlook has the items.
	r.releaseDocs(a)

	// Deliver before saving the state: should saving the state fail, the
	// next run delivers the same items again, which is harmless.
	if o.Outlook != nil {
		if err := r.deliverOutlook(ctx, a); err != nil {
			return r.res, err
		}
	}
	r.publishFreeBusy(ctx, fb)
	// The new state is made and encoded while the mailbox is written
	// (with Outlook, after it: writing into Outlook changes the links).
	var ns *task[*madeState]
	if o.Outlook == nil {
		ns = r.startState(a)
	}
	if o.Mailbox != "" {
		files, err := r.deliver(ctx, a)
		r.res.Files = files
		if err != nil {
			return r.res, err
		}
	}
	if err := r.saveState(ctx, a, etag, ns); err != nil {
		return r.res, err
	}
	return r.res, nil
}

// releaseDocs lets the decoded items go once the plan is committed: what
// follows (the mailbox, the state) needs the items' bytes and hashes, not
// their fields, and at 100,000 items the fields are the larger part of
// the memory.
func (r *run) releaseDocs(a *applied) {
	r.docs = map[string]*merge.Doc{}
	for _, it := range r.side.items {
		it.doc = nil
	}
	a.plan.Put, a.plan.Own = nil, nil
}

// storeSideEarly begins storing the versions of the items read, beside
// the merge, in a user's first sync (no state): every item read is then
// stored whatever the merge decides (side.ownVersions, the base of the
// user's next change), and no item can be deleted. Never in a dry run or
// with Outlook. The
// commit waits for it: objects are durable before a revision refers to
// them, as always; objects of a run that then stops are unreferenced, as
// those of a commit that loses its race.
func (r *run) storeSideEarly(ctx context.Context) *task[[]string] {
	if r.st != nil || r.o.DryRun || r.o.Outlook != nil {
		return nil
	}
	var objs [][]byte
	r.side.ownVersions(func(_ string, data []byte) { objs = append(objs, data) })
	if len(objs) == 0 {
		return nil
	}
	return goTask(func() ([]string, error) { return r.repo.PutObjects(ctx, objs) })
}

// earlyRead is a side read started before the state was loaded (see
// readEarly); nil when none was.
type earlyRead struct {
	cancel context.CancelFunc
	read   *task[*Side]
}

// readEarly starts reading the side as a run with no state reads it, when
// this machine has no local copy of the state: there is then most likely
// no state in the store either. Never for Outlook (a read there is not
// free of effects on what the next read gives) or a dry run.
func (r *run) readEarly(ctx context.Context, reader SideReader) *earlyRead {
	p := r.stateCachePath()
	if r.o.Outlook != nil || p == "" {
		return nil
	}
	if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	return &earlyRead{cancel: cancel, read: goTask(func() (*Side, error) {
		return reader.ReadSide(ctx, &PrevSide{Sources: map[string]snapshot.Source{}})
	})}
}

// result waits for the early read and returns it when use is true (the run
// has no state: the read is the one it needs); else nil, nil.
func (e *earlyRead) result(use bool) (*Side, error) {
	if e == nil {
		return nil, nil
	}
	if !use {
		e.discard()
		return nil, nil
	}
	defer e.cancel()
	return e.read.wait()
}

// discard stops the early read and waits for it.
func (e *earlyRead) discard() {
	if e != nil {
		e.cancel()
		_, _ = e.read.wait()
	}
}

// prev is what the state knows of the side's sources.
func (r *run) prev() *PrevSide {
	if r.st == nil {
		return &PrevSide{Sources: map[string]snapshot.Source{}}
	}
	p := &PrevSide{Sources: make(map[string]snapshot.Source, len(r.st.Sources))}
	p.Links = r.st.Links
	for _, s := range r.st.Sources {
		p.Sources[s.Key] = s
	}
	// A link without a marker (`check --repair` clears the markers of
	// items whose objects it wants) is read again, never taken as
	// unchanged, so that this run can supply the object.
	for _, l := range r.st.Links {
		if l.Marker == (snapshot.Marker{}) {
			delete(p.Sources, linkSource(l))
		}
	}
	return p
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
		if had[c] > 0 && have[c] == 0 && r.side.clean(c) {
			return &EmptySideError{Collection: c, Had: had[c], Missing: !r.side.present[c]}
		}
	}
	return nil
}

// baseManifest returns the revision the user last synced (nil when none or
// unreadable).
func (r *run) baseManifest(ctx context.Context, latest *snapshot.Manifest) *snapshot.Manifest {
	if r.st == nil || r.st.BaseRev <= 0 || latest == nil || r.st.BaseRev > latest.Rev {
		return nil
	}
	if r.st.BaseRev == latest.Rev {
		return latest
	}
	m, err := r.repo.Manifest(ctx, r.st.BaseRev)
	if err != nil {
		r.log.WarnContext(ctx, "base revision unreadable: merging without it", "rev", r.st.BaseRev, "err", err)
		return nil
	}
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

// applied is a plan with what applying it needs.
type applied struct {
	plan    *merge.Plan
	parent  int64
	latest  *snapshot.Manifest
	final   *snapshot.Manifest
	colls   map[string]map[string]snapshot.Entry
	objects map[string][]byte
	changes []snapshot.Change
	assign  map[*item]string
	kinds   map[merge.Key]merge.Kind
	// mem holds the canonical bytes of the versions this run has in
	// memory (the user's items, merged items) by hash.
	mem map[string][]byte
}

// reconcile loads what merge.Reconcile needs against latest and runs it.
func (r *run) reconcile(ctx context.Context, latest *snapshot.Manifest) (*applied, error) {
	n := len(r.side.items)
	a := &applied{latest: latest, objects: make(map[string][]byte, n), mem: make(map[string][]byte, n)}
	var T map[string]map[string]snapshot.Entry
	if latest != nil {
		a.parent = latest.Rev
		T = latest.Collections
	}
	nT := 0
	for _, items := range T {
		nT += len(items)
	}
	a.kinds = make(map[merge.Key]merge.Kind, max(nT, n))
	if len(r.docs) == 0 {
		r.docs = make(map[string]*merge.Doc, n)
	}
	var err error
	a.assign, err = r.resolve(ctx, T)
	if err != nil {
		return nil, err
	}
	in := &merge.ReconcileInput{User: r.o.User, Now: r.o.Now(), OnConflict: r.o.OnConflict,
		Latest: make(map[merge.Key]string, nT), Docs: make(map[string]*merge.Doc, n),
		Clean: r.side.cleanMap(r.links), State: make(map[merge.Key]merge.ItemState, len(r.links)), Trusted: r.trusted && !r.recovered,
		Lossy: r.side.lossy, Hashes: make(map[*merge.Doc]string, n), Side: make([]merge.SideItem, 0, n)}
	// The side's docs are encoded already (item.finish): their bytes are
	// the objects of a plan that puts them unchanged.
	sideData := make(map[*merge.Doc][]byte, n)
	for coll, items := range T {
		for uid, e := range items {
			k := merge.Key{Coll: coll, UID: uid}
			in.Latest[k] = e.Hash
			a.kinds[k] = merge.Kind(e.Kind)
		}
	}
	if b := r.baseManifest(ctx, latest); b == latest && b != nil {
		in.Base = in.Latest // the user's base is the latest revision (neither is changed)
	} else if b != nil {
		in.Base = make(map[merge.Key]string, nT)
		for coll, items := range b.Collections {
			for uid, e := range items {
				in.Base[merge.Key{Coll: coll, UID: uid}] = e.Hash
			}
		}
	}
	if r.st != nil {
		for _, d := range r.st.Delivered {
			k := merge.Key{Coll: d.Collection, UID: d.UID}
			s := in.State[k]
			s.Delivered = d.Hash
			in.State[k] = s
		}
		for _, l := range r.st.Links {
			if l.Copy {
				continue
			}
			k := merge.Key{Coll: l.Collection, UID: l.UID}
			s := in.State[k]
			s.Seen, s.Source, s.Private = l.Marker.Hash, linkSource(l), l.Private
			in.State[k] = s
		}
	}
	for _, it := range r.side.items {
		uid, ok := a.assign[it]
		if !ok {
			continue // an unchanged copy of an item the side has (see resolve)
		}
		k := merge.Key{Coll: it.coll, UID: uid}
		si := merge.SideItem{Key: k, Source: it.source, Hash: it.marker.Hash, Private: it.private}
		if it.doc != nil {
			si.Doc = it.doc
			r.docs[it.marker.Hash] = it.doc
			a.mem[it.marker.Hash] = it.data
			in.Hashes[it.doc] = it.marker.Hash
			sideData[it.doc] = it.data
			if _, ok := a.kinds[k]; !ok {
				a.kinds[k] = it.doc.Kind
			}
		} else if _, ok := a.kinds[k]; !ok && it.link != nil {
			a.kinds[k] = kindOfColl(it.coll)
		}
		in.Side = append(in.Side, si)
	}
	// The kind of each version, for decoding it (when any is needed).
	needs := in.Needs()
	kindOf := map[string]merge.Kind{}
	if len(needs) > 0 {
		for k, s := range in.State {
			for _, h := range []string{s.Delivered, s.Seen} {
				if h != "" {
					kindOf[h] = kindOfColl(k.Coll)
				}
			}
		}
		for k, h := range in.Base {
			kindOf[h] = kindOfColl(k.Coll)
		}
		for k, h := range in.Latest {
			kindOf[h] = a.kinds[k]
		}
	}
	for _, h := range needs {
		if d, ok := r.docs[h]; ok {
			in.Docs[h] = d
			continue
		}
		d, err := r.doc(ctx, h, kindOf[h])
		if err != nil {
			r.log.WarnContext(ctx, "a version needed to merge is unreadable: its item is left as it is", "object", h, "err", err)
			continue
		}
		in.Docs[h] = d
	}
	in.Editors = r.editors(ctx, latest)
	p := merge.Reconcile(in)
	a.plan = p

	// Guards apply to the plan, before anything is written.
	if !r.o.AllowMassDelete {
		dels := map[string]int{}
		for _, k := range p.Delete {
			dels[k.Coll]++
		}
		for _, c := range slices.Sorted(maps.Keys(dels)) {
			if n, total := dels[c], len(T[c]); n > 10 && 2*n > total {
				return nil, &MassDeleteError{Collection: c, Deleting: n, Total: total}
			}
		}
	}
	for _, k := range p.NoOpinion {
		r.log.InfoContext(ctx, "item left as it was: its source was not read cleanly", "collection", k.Coll, "uid", k.UID)
	}

	// The new revision's collections.
	a.colls = map[string]map[string]snapshot.Entry{}
	for coll, items := range T {
		a.colls[coll] = maps.Clone(items)
	}
	for _, k := range p.Delete {
		delete(a.colls[k.Coll], k.UID)
	}
	for _, k := range slices.SortedFunc(maps.Keys(p.Put), compareKeys) {
		d := p.Put[k]
		data, h := sideData[d], in.Hashes[d]
		if data == nil {
			data = merge.Canonical(d)
			h = snapshot.HashOf(data)
		}
		a.objects[h] = data
		a.mem[h] = data
		if a.colls[k.Coll] == nil {
			a.colls[k.Coll] = make(map[string]snapshot.Entry, len(p.Put))
		}
		a.colls[k.Coll][k.UID] = snapshot.Entry{Hash: h, Kind: string(d.Kind), Title: d.Title()}
		a.kinds[k] = d.Kind
	}
	for c, items := range a.colls {
		if len(items) == 0 && len(T[c]) == 0 {
			delete(a.colls, c)
		}
	}
	a.changes = snapshot.Diff(T, a.colls, r.o.User)
	copies := map[merge.Key]bool{}
	for _, k := range p.Copies {
		copies[k] = true
	}
	for i := range a.changes {
		ch := &a.changes[i]
		k := merge.Key{Coll: ch.Collection, UID: ch.UID}
		if ch.Op == snapshot.OpAdd && copies[k] {
			ch.Op = snapshot.OpConflictCopy
		}
		// The audit record names the fields an edit changed (property
		// names of the shared versions: a private item's are busy time).
		if old := in.Docs[T[k.Coll][k.UID].Hash]; ch.Op == snapshot.OpModify && old != nil && p.Put[k] != nil {
			ch.Fields = merge.ChangedFields(old, p.Put[k])
		}
	}
	if len(a.objects) > 0 {
		for _, items := range T {
			for _, e := range items {
				delete(a.objects, e.Hash)
			}
		}
	}
	// The user's own versions (the base of their next change) and message
	// contents.
	r.side.ownVersions(func(h string, data []byte) {
		if h != "" {
			a.objects[h] = data
			return
		}
		h = snapshot.HashOf(data)
		a.objects[h] = data
		a.mem[h] = data
	})
	return a, nil
}

func kindOfColl(coll string) merge.Kind {
	switch {
	case coll == Contacts:
		return merge.KindContact
	case strings.HasPrefix(coll, SharePrefix):
		return merge.KindMessage
	}
	return merge.KindEvent
}

func compareKeys(a, b merge.Key) int {
	return cmp.Or(cmp.Compare(a.Coll, b.Coll), cmp.Compare(a.UID, b.UID))
}

// commit writes the plan's objects and the revision.
func (r *run) commit(ctx context.Context, a *applied, stored []string) (*snapshot.Manifest, error) {
	// The objects not stored yet (a first sync stored the side's while it
	// merged: not hashed and looked up again).
	done := make(map[string]bool, len(stored))
	for _, h := range stored {
		done[h] = true
	}
	objs := make([][]byte, 0, len(a.objects))
	for _, h := range slices.Sorted(maps.Keys(a.objects)) {
		if !done[h] {
			objs = append(objs, a.objects[h])
		}
	}
	if _, err := r.repo.PutObjects(ctx, objs); err != nil {
		return nil, err
	}
	m := &snapshot.Manifest{Parent: a.parent, Author: snapshot.Author{User: r.o.User, Host: r.o.Host},
		Time: r.o.Now().UTC(), Collections: a.colls, Changes: a.changes}
	if len(a.plan.Conflicts) > 0 {
		data, err := json.Marshal(a.plan.Conflicts)
		if err != nil {
			return nil, fmt.Errorf("encoding conflicts: %w", err)
		}
		m.Conflicts = data
	}
	return r.repo.Commit(ctx, m)
}

// newState is the state after the run.
func (r *run) newState(a *applied) *snapshot.UserState {
	rev := int64(0)
	if a.final != nil {
		rev = a.final.Rev
	}
	st := &snapshot.UserState{User: r.o.User, BaseRev: rev, Machine: r.machine, Updated: r.o.Now().UTC()}
	if st.Machine == "" && r.st != nil {
		st.Machine = r.st.Machine
	}
	seen := make(map[linkKey]bool, len(r.side.items))
	st.Links = make([]snapshot.Link, 0, len(r.side.items))
	for _, it := range r.side.items {
		k := linkKey{it.coll, it.key}
		if seen[k] {
			continue
		}
		if cu, ok := r.copies[it]; ok {
			seen[k] = true
			st.Links = append(st.Links, snapshot.Link{Key: it.key, UID: cu, Collection: it.coll, Marker: it.marker, Source: it.source, Copy: true})
			continue
		}
		uid, ok := a.assign[it]
		if !ok {
			continue
		}
		seen[k] = true
		st.Links = append(st.Links, snapshot.Link{Key: it.key, UID: uid, Collection: it.coll, Marker: it.marker,
			Source: it.source, Private: it.private})
	}
	// Items the user had in a source not read cleanly: kept, so that a
	// later clean read can still tell a deletion.
	have := make(map[merge.Key]bool, len(st.Links))
	for _, l := range st.Links {
		if !l.Copy {
			have[merge.Key{Coll: l.Collection, UID: l.UID}] = true
		}
	}
	kept := map[merge.Key]bool{}
	for _, k := range a.plan.NoOpinion {
		kept[k] = true
	}
	for _, k := range a.plan.Missing {
		kept[k] = true
	}
	// With this machine's own state recovered from its local copy (not
	// trusted for deletions), an item of a source not read cleanly is
	// still the user's: its link stays, or a later run creates it again.
	var clean map[string]bool
	if r.recovered {
		clean = r.side.cleanMap(r.links)
	}
	if r.st != nil {
		for _, l := range r.st.Links {
			if l.Copy {
				continue
			}
			k := merge.Key{Coll: l.Collection, UID: l.UID}
			if (kept[k] || (r.recovered && !clean[linkSource(l)])) && !have[k] && !seen[linkKey{l.Collection, l.Key}] {
				st.Links = append(st.Links, l)
				seen[linkKey{l.Collection, l.Key}] = true
			}
		}
	}
	st.Links = r.outlookLinks(st.Links)
	unknown := false
	st.Delivered = make([]snapshot.Delivered, 0, len(a.plan.State))
	deliver := func(k merge.Key, s merge.ItemState) {
		d := r.outlookDelivered(k, s.Delivered, s.Seen)
		if d != "" {
			st.Delivered = append(st.Delivered, snapshot.Delivered{Collection: k.Coll, UID: k.UID, Hash: d})
		} else if s.Delivered != "" {
			unknown = true
		}
	}
	// Most often the items are those delivered before: taken in the
	// loaded state's order (sorted, as Encode sorts them), sameState
	// needs no sort. Else, or when the loaded list is not strictly
	// sorted (so maybe holds a key twice), in the plan's order.
	inOrder := false
	if r.st != nil && len(r.st.Delivered) == len(a.plan.State) && slices.IsSortedFunc(r.st.Delivered, compareDelivered) &&
		!hasAdjacentKey(r.st.Delivered) {
		inOrder = true
		for _, old := range r.st.Delivered {
			k := merge.Key{Coll: old.Collection, UID: old.UID}
			s, ok := a.plan.State[k]
			if !ok {
				inOrder = false
				break
			}
			deliver(k, s)
		}
		if !inOrder {
			st.Delivered, unknown = st.Delivered[:0], false
		}
	}
	if !inOrder {
		for k, s := range a.plan.State {
			deliver(k, s)
		}
	}
	if unknown {
		// Something the user has in Outlook was not delivered and what
		// it is based on is not known: the base revision stays the last
		// one known, so the new revision never stands in for it.
		st.BaseRev = 0
		if r.st != nil && r.trusted && !r.recovered {
			st.BaseRev = r.st.BaseRev
		}
	}
	st.Sources = r.side.sources
	return st
}

// madeState is the state after the run, made and encoded (makeState).
type madeState struct {
	st   *snapshot.UserState
	same bool   // as loaded: nothing to save
	data []byte // its encoding, unless same
}

// makeState makes the state after the run and encodes it when it differs
// from the loaded one.
func (r *run) makeState(a *applied) (*madeState, error) {
	ns := &madeState{st: r.newState(a)}
	if ns.same = r.st != nil && !r.recovered && sameState(r.st, ns.st); ns.same {
		return ns, nil
	}
	var err error
	ns.data, err = snapshot.EncodeState(r.o.User, ns.st)
	return ns, err
}

// startState runs makeState beside the mailbox's delivery (which reads
// the run as makeState does, and changes nothing it reads).
func (r *run) startState(a *applied) *task[*madeState] {
	return goTask(func() (*madeState, error) { return r.makeState(a) })
}

// saveState records the new state when it differs from the loaded one;
// made is the state made beforehand, or nil to make it now.
func (r *run) saveState(ctx context.Context, a *applied, etag string, made *task[*madeState]) error {
	if r.machineFile != "" {
		if err := writeMachineID(r.machineFile, r.machine); err != nil {
			return err
		}
		r.machineFile = ""
	}
	var ns *madeState
	var err error
	if made == nil {
		ns, err = r.makeState(a)
	} else {
		ns, err = made.wait()
	}
	if err != nil {
		return fmt.Errorf("syncer: saving the state of %s: %w", r.o.User, err)
	}
	if ns.same {
		return nil
	}
	// The user's own versions are the base of their next change: store
	// them even when no revision was made.
	if !r.res.Committed {
		var objs [][]byte
		for _, l := range ns.st.Links {
			if data, ok := a.mem[l.Marker.Hash]; ok && !l.Private {
				objs = append(objs, data)
			}
		}
		if _, err := r.repo.PutObjects(ctx, objs); err != nil {
			return fmt.Errorf("syncer: saving the state of %s: %w", r.o.User, err)
		}
	}
	if _, err := r.repo.PutState(ctx, r.o.User, ns.data, etag); err != nil {
		return fmt.Errorf("syncer: saving the state of %s (the revision is committed; the next run links the items again): %w", r.o.User, err)
	}
	r.cacheState(ctx, ns.data)
	return nil
}

// sameState reports whether two states hold the same (the time aside):
// whether they encode the same. Equal fields, ordered as Encode orders
// them, encode the same; only when they differ are both encoded.
func sameState(a, b *snapshot.UserState) bool {
	if a.User == b.User && a.BaseRev == b.BaseRev && a.Machine == b.Machine &&
		sameSorted(a.Links, b.Links, func(x, y snapshot.Link) int {
			return cmp.Or(cmp.Compare(x.Collection, y.Collection), cmp.Compare(x.Key, y.Key), cmp.Compare(x.UID, y.UID))
		}) &&
		sameSorted(a.Delivered, b.Delivered, compareDelivered) &&
		sameSorted(a.Sources, b.Sources, func(x, y snapshot.Source) int { return cmp.Compare(x.Key, y.Key) }) {
		return true
	}
	x, err1 := a.Encode()
	c := *b
	c.Updated = a.Updated
	y, err2 := c.Encode()
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

func compareDelivered(x, y snapshot.Delivered) int {
	return cmp.Or(cmp.Compare(x.Collection, y.Collection), cmp.Compare(x.UID, y.UID))
}

// hasAdjacentKey reports whether two neighbours of ds name the same item.
func hasAdjacentKey(ds []snapshot.Delivered) bool {
	for i := 1; i < len(ds); i++ {
		if ds[i].Collection == ds[i-1].Collection && ds[i].UID == ds[i-1].UID {
			return true
		}
	}
	return false
}

// sameSorted reports whether x and y, each sorted by c as
// snapshot.UserState.Encode sorts them, are equal element by element.
func sameSorted[T comparable](x, y []T, c func(a, b T) int) bool {
	if len(x) != len(y) {
		return false
	}
	// A state as loaded is sorted already; sorting copies only when not.
	sorted := func(s []T) []T {
		if slices.IsSortedFunc(s, c) {
			return s
		}
		s = slices.Clone(s)
		slices.SortFunc(s, c)
		return s
	}
	return slices.Equal(sorted(x), sorted(y))
}

// stateCachePath is the local copy of the user's state, in the mailbox
// folder's bookkeeping directory.
func (r *run) stateCachePath() string {
	if r.o.Mailbox == "" || r.o.DryRun {
		return ""
	}
	return filepath.Join(r.o.Mailbox, ".pstsync", "state-"+FileName(r.o.User)+".json")
}

// cacheState keeps a local copy of the state just saved in the store (its
// encoding, data). A failure only costs the fallback, so it is logged,
// not returned.
func (r *run) cacheState(ctx context.Context, data []byte) {
	p := r.stateCachePath()
	if p == "" {
		return
	}
	if err := sink.WriteFileAtomic(p, data); err != nil {
		r.log.WarnContext(ctx, "could not keep a local copy of the state", "path", p, "err", err)
	}
}

// cachedState returns the local copy of the user's state, or nil. It is
// used only when the store's copy is missing or unreadable, and never
// implies deletions.
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

// machineID returns this computer's id: Options.Machine, else a random id
// kept in the mailbox folder (created on first use), else "".
func (r *run) machineID() (string, error) {
	if r.o.Machine != "" {
		return r.o.Machine, nil
	}
	if r.o.Mailbox == "" {
		return "", nil
	}
	p := filepath.Join(r.o.Mailbox, ".pstsync", "machine-id")
	id, err := MachineID(p, false)
	if id != "" || err != nil || r.o.DryRun {
		return id, err
	}
	// A new id is kept only once the run has committed (saveState): a
	// run that fails before leaves the mailbox folder untouched.
	if id, err = newMachineID(); err != nil {
		return "", err
	}
	r.machineFile = p
	return id, nil
}

// newMachineID returns a random machine id.
func newMachineID() (string, error) {
	var b [12]byte
	if _, err := crand.Read(b[:]); err != nil {
		return "", fmt.Errorf("syncer: machine id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// writeMachineID keeps id in file p.
func writeMachineID(p, id string) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("syncer: machine id: %w", err)
	}
	if err := sink.WriteFileAtomic(p, []byte(id+"\n")); err != nil {
		return fmt.Errorf("syncer: machine id: %w", err)
	}
	return nil
}

// MachineID reads the machine id kept in file p, creating it with a random
// id when create and it does not exist.
func MachineID(p string, create bool) (string, error) {
	data, err := os.ReadFile(p)
	if err == nil {
		if id := strings.TrimSpace(string(data)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("syncer: machine id %s: %w", p, err)
	}
	if !create {
		return "", nil
	}
	id, err := newMachineID()
	if err != nil {
		return "", err
	}
	if err := writeMachineID(p, id); err != nil {
		return "", err
	}
	return id, nil
}

// linkSource is the source of a link (older states did not record it: a
// file link's key starts with the file).
func linkSource(l snapshot.Link) string {
	if l.Source != "" {
		return l.Source
	}
	if f, _, ok := strings.Cut(l.Key, "#"); ok {
		return f
	}
	return l.Collection
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

// maxEditorScan bounds how many revisions editors reads.
const maxEditorScan = 200

// editors returns, for the items changed in the revisions after the
// user's base, the user who last changed each (other than this user).
func (r *run) editors(ctx context.Context, latest *snapshot.Manifest) map[merge.Key]string {
	out := map[merge.Key]string{}
	if latest == nil {
		return out
	}
	stop := int64(0)
	if r.st != nil && r.st.BaseRev > 0 && r.st.BaseRev <= latest.Rev {
		stop = r.st.BaseRev
	}
	for rev := latest.Rev; rev > stop && rev > latest.Rev-maxEditorScan; rev-- {
		changes := latest.Changes
		if rev != latest.Rev || latest.ChangesOmitted {
			// The revision's small header names its changes: no old
			// manifest is read.
			h, err := r.repo.Header(ctx, rev)
			if err != nil {
				r.log.DebugContext(ctx, "revision unreadable while naming editors", "rev", rev, "err", err)
				continue
			}
			changes = h.Changes
		}
		for _, ch := range changes {
			k := merge.Key{Coll: ch.Collection, UID: ch.UID}
			if out[k] == "" && ch.By != "" && ch.By != r.o.User {
				out[k] = ch.By
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
