package snapshot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/pstsync/pstsync/sink"
)

// ProblemKind classifies what Check found.
type ProblemKind string

// The kinds of Problem.
const (
	ManifestUnreadable ProblemKind = "manifest-unreadable"
	RevisionGap        ProblemKind = "revision-gap"
	ObjectMissing      ProblemKind = "object-missing"
	ObjectCorrupt      ProblemKind = "object-corrupt"
	StateUnreadable    ProblemKind = "state-unreadable"
	RevisionNeeded     ProblemKind = "revision-needed"
	ObjectOrphan       ProblemKind = "object-orphan"
	TempFile           ProblemKind = "temp-file"
)

// Problem is one thing wrong with a repository.
type Problem struct {
	Kind   ProblemKind `json:"kind"`
	Key    string      `json:"key"`    // the store key concerned
	Detail string      `json:"detail"` // what is wrong
	Repair string      `json:"repair"` // what to do about it
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: %s: %s (repair: %s)", p.Kind, p.Key, p.Detail, p.Repair)
}

var kindOrder = map[ProblemKind]int{
	ManifestUnreadable: 0, RevisionNeeded: 1, RevisionGap: 2, ObjectMissing: 3, ObjectCorrupt: 4, StateUnreadable: 5,
	ObjectOrphan: 6, TempFile: 7,
}

// checkWorkers is how many objects Check reads at once.
const checkWorkers = 8

// ref is where an object is referred to, for messages.
type ref struct {
	first, last int64
	what        string
}

// Check verifies the whole repository: every manifest parses and is
// consistent, revisions run 1..latest without gaps, every object any
// manifest refers to is stored and hashes to its name (every object is
// read), and every user state parses. It returns the problems found,
// sorted by kind and key; the error is for failures to list or read the
// store (other than the damage it reports).
func (r *Repo) Check(ctx context.Context) ([]Problem, error) {
	var problems []Problem
	revs, err := r.Revisions(ctx)
	if err != nil {
		return nil, err
	}
	var latest int64
	if len(revs) > 0 {
		latest = revs[len(revs)-1]
	}

	// Manifests and the objects they refer to.
	refs := map[string]*ref{}
	note := func(h string, rev int64, what string) {
		if x, ok := refs[h]; ok {
			x.last = rev
			return
		}
		refs[h] = &ref{first: rev, last: rev, what: what}
	}
	var trees []*Header
	bases := map[int64][]int64{}
	var existing []int64
	for _, rev := range revs {
		key := RevisionKey(rev)
		data, _, err := r.store.Get(ctx, key)
		if sink.IsNotExist(err) {
			continue // deleted since the listing: a gap
		}
		existing = append(existing, rev)
		if err != nil {
			return nil, fmt.Errorf("snapshot: check: reading %s: %w", key, err)
		}
		h, err := parseHeader(rev, data)
		if err != nil {
			problems = append(problems, Problem{Kind: ManifestUnreadable, Key: key, Detail: err.Error(),
				Repair: manifestRepair(rev, latest)})
			continue
		}
		if h.full != nil {
			for _, name := range slices.Sorted(maps.Keys(h.full)) {
				items := h.full[name]
				for _, uid := range slices.Sorted(maps.Keys(items)) {
					e := items[uid]
					note(e.Hash, rev, fmt.Sprintf("%s/%s %q", name, uid, e.Title))
				}
			}
		}
		for _, d := range h.Delta {
			// d.Old is the entry of the revision the delta applies to,
			// which refers to it itself.
			if e := d.Entry; e != nil {
				note(e.Hash, rev, fmt.Sprintf("%s/%s %q", d.Collection, d.UID, e.Title))
			}
		}
		if h.Tree != "" {
			note(h.Tree, rev, "the checkpoint tree")
			trees = append(trees, h)
		}
		if h.ConflictsHash != "" {
			note(h.ConflictsHash, rev, "the conflict record")
		}
		if h.Base > 0 && !h.checkpoint() {
			bases[h.Base] = append(bases[h.Base], rev)
		}
	}
	// Every revision a delta applies to must be stored.
	have := map[int64]bool{}
	for _, rev := range existing {
		have[rev] = true
	}
	for _, base := range slices.Sorted(maps.Keys(bases)) {
		if !have[base] {
			problems = append(problems, Problem{Kind: RevisionNeeded, Key: RevisionKey(base),
				Detail: fmt.Sprintf("revision %d is missing but revision %d is stored as a change to it", base, bases[base][0]),
				Repair: "restore the revision from a backup; syncing still works while the latest revision can be read"})
		}
	}
	// The trees of checkpoints: read, parse, and their items referenced.
	for _, h := range trees {
		data, err := r.GetObject(ctx, h.Tree)
		if err != nil {
			continue // reported with the objects below
		}
		colls, err := parseTree(h.Rev, data)
		if err != nil {
			problems = append(problems, Problem{Kind: ManifestUnreadable, Key: ObjectKey(h.Tree), Detail: err.Error(),
				Repair: manifestRepair(h.Rev, latest)})
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(colls)) {
			for _, uid := range slices.Sorted(maps.Keys(colls[name])) {
				e := colls[name][uid]
				note(e.Hash, h.Rev, fmt.Sprintf("%s/%s %q", name, uid, e.Title))
			}
		}
	}
	// Pruned revisions are gaps on purpose: their audit records say so.
	audit, err := r.Audit(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range audit {
		have[a.Rev] = true
		if a.ConflictsHash != "" {
			note(a.ConflictsHash, a.Rev, "the conflict record of a pruned revision")
		}
	}
	existing = slices.Sorted(maps.Keys(have))
	problems = append(problems, gaps(existing)...)

	// Objects: presence by listing, then every referenced object read
	// back and hashed.
	keys, err := r.store.List(ctx, objectsPrefix)
	if err != nil {
		return nil, fmt.Errorf("snapshot: check: listing objects: %w", err)
	}
	present := make(map[string]bool, len(keys))
	for _, k := range keys {
		if h, ok := parseObjectKey(k); ok {
			present[h] = true
		}
	}
	var toRead []string
	for _, h := range slices.Sorted(maps.Keys(refs)) {
		if !present[h] {
			x := refs[h]
			problems = append(problems, Problem{Kind: ObjectMissing, Key: ObjectKey(h),
				Detail: fmt.Sprintf("object of %s, referred to by %s, is missing", x.what, revRange(x)),
				Repair: missingRepair})
			continue
		}
		toRead = append(toRead, h)
	}
	corrupt, vanished, err := r.readObjects(ctx, toRead)
	if err != nil {
		return nil, err
	}
	for _, h := range vanished {
		x := refs[h]
		problems = append(problems, Problem{Kind: ObjectMissing, Key: ObjectKey(h),
			Detail: fmt.Sprintf("object of %s, referred to by %s, is missing", x.what, revRange(x)),
			Repair: missingRepair})
	}
	for _, c := range corrupt {
		x := refs[c.Hash]
		problems = append(problems, Problem{Kind: ObjectCorrupt, Key: ObjectKey(c.Hash),
			Detail: fmt.Sprintf("object of %s, referred to by %s, hashes to %s", x.what, revRange(x), c.Actual),
			Repair: "delete the object; then run pstsync sync for a user who has the item (it writes the object again)"})
	}

	// User states.
	ukeys, err := r.store.List(ctx, usersPrefix)
	if err != nil {
		return nil, fmt.Errorf("snapshot: check: listing user states: %w", err)
	}
	for _, key := range ukeys {
		user, ok := parseStateKey(key)
		if !ok {
			continue
		}
		data, _, err := r.store.Get(ctx, key)
		if sink.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("snapshot: check: reading %s: %w", key, err)
		}
		st, err := ParseState(data)
		if err == nil && st.User != user {
			err = fmt.Errorf("%w: it belongs to user %q", ErrCorruptState, st.User)
		}
		if err != nil {
			problems = append(problems, Problem{Kind: StateUnreadable, Key: key, Detail: err.Error(),
				Repair: fmt.Sprintf("delete it: the next sync of %s starts fresh (differences become additions or conflicts, never deletions)", user)})
		}
	}

	slices.SortStableFunc(problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(kindOrder[a.Kind], kindOrder[b.Kind]), cmp.Compare(a.Key, b.Key))
	})
	return problems, nil
}

const missingRepair = "run pstsync sync for a user who has the item (it writes the object again), or pstsync restore an earlier revision that does not need it"

func manifestRepair(rev, latest int64) string {
	if rev == latest {
		return fmt.Sprintf("restore %s from a backup; or delete it, so that revision %d becomes the latest again and the next sync of each user re-applies their changes",
			RevisionKey(rev), rev-1)
	}
	return fmt.Sprintf("restore %s from a backup; it is history only: the latest revision does not depend on it", RevisionKey(rev))
}

// gaps reports missing revisions between 1 and the highest, one problem per
// run of missing numbers.
func gaps(revs []int64) []Problem {
	var out []Problem
	want := int64(1)
	for _, rev := range revs {
		if rev > want {
			detail := fmt.Sprintf("revision %d is missing", want)
			if rev-1 > want {
				detail = fmt.Sprintf("revisions %d to %d are missing", want, rev-1)
			}
			out = append(out, Problem{Kind: RevisionGap, Key: RevisionKey(want), Detail: detail,
				Repair: "restore the missing manifests from a backup; syncing still works (revisions are history), but pstsync log and restore cannot show them"})
		}
		want = rev + 1
	}
	return out
}

func revRange(x *ref) string {
	if x.first == x.last {
		return fmt.Sprintf("revision %d", x.first)
	}
	return fmt.Sprintf("revisions %d to %d", x.first, x.last)
}

// readObjects reads every object in hashes and returns the corrupt ones
// and the ones that disappeared since they were listed, sorted by hash.
func (r *Repo) readObjects(ctx context.Context, hashes []string) (corrupt []*CorruptObjectError, vanished []string, err error) {
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	work := make(chan string)
	for range min(checkWorkers, len(hashes)) {
		wg.Go(func() {
			for h := range work {
				_, gerr := r.GetObject(ctx, h)
				mu.Lock()
				var ce *CorruptObjectError
				switch {
				case gerr == nil:
				case errors.As(gerr, &ce):
					corrupt = append(corrupt, ce)
				case sink.IsNotExist(gerr):
					vanished = append(vanished, h)
				case err == nil:
					err = fmt.Errorf("snapshot: check: %w", gerr)
				}
				mu.Unlock()
			}
		})
	}
	for _, h := range hashes {
		if ctx.Err() != nil {
			break
		}
		work <- h
	}
	close(work)
	wg.Wait()
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(corrupt, func(a, b *CorruptObjectError) int { return cmp.Compare(a.Hash, b.Hash) })
	slices.Sort(vanished)
	return corrupt, vanished, nil
}
