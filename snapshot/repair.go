package snapshot

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/pstsync/pstsync/sink"
)

// tempStore is a store that can list and remove the temporary files a
// killed or failed writer left (the local folder store).
type tempStore interface {
	Temps(ctx context.Context, olderThan time.Duration) ([]string, error)
	RemoveTemp(ctx context.Context, rel string) error
}

// tempAge is how old a temporary file must be to count as left behind
// (younger ones may belong to a write in progress).
const tempAge = 10 * time.Minute

// Hygiene reports what is stored but not needed: objects that no revision,
// audit record, head or user state refers to (left by a run killed before
// its commit, or by history removed without prune), and temporary files
// left by killed writers. None of it harms a sync; prune deletes orphaned
// objects, check --repair the temporary files.
func (r *Repo) Hygiene(ctx context.Context) ([]Problem, error) {
	var problems []Problem
	revs, err := r.listRevisions(ctx)
	if err != nil {
		return nil, err
	}
	headers := map[int64]*Header{}
	for _, rev := range revs {
		h, err := r.readHeader(ctx, rev)
		if err != nil {
			if sink.IsNotExist(err) {
				continue
			}
			return nil, nil // a damaged revision: Check reports it; orphans are unknowable
		}
		headers[rev] = h
	}
	users, err := r.userStates(ctx)
	if err != nil {
		return nil, err
	}
	ref, err := r.referenced(ctx, headers, users)
	if err != nil {
		return nil, nil // Check reports the damage
	}
	keys, err := r.store.List(ctx, objectsPrefix)
	if err != nil {
		return nil, fmt.Errorf("snapshot: listing objects: %w", err)
	}
	for _, k := range keys {
		if h, ok := parseObjectKey(k); ok && !ref[h] {
			problems = append(problems, Problem{Kind: ObjectOrphan, Key: k,
				Detail: "no revision or user state refers to this object (a sync killed before its commit, or a sync running now)",
				Repair: "none needed; pstsync prune deletes it once it has been unreferenced for a while"})
		}
	}
	if ts, ok := r.store.(tempStore); ok {
		temps, err := ts.Temps(ctx, tempAge)
		if err != nil {
			return nil, err
		}
		for _, t := range temps {
			problems = append(problems, Problem{Kind: TempFile, Key: t,
				Detail: "a temporary or lock file left by a writer that was killed or failed",
				Repair: "pstsync check --repair removes it"})
		}
	}
	return problems, nil
}

// RepairResult says what Repair did.
type RepairResult struct {
	Done []string // one line per action
	Left []Problem
}

// Repair fixes what it can of problems (from Check and Hygiene):
//
//   - a temporary file is removed;
//   - a corrupt object is deleted; a missing or deleted object is recorded
//     as wanted in the head, and every user state that links an item of
//     it is told to read that item again: the next sync of a user who has
//     the item writes the object again (Supply);
//   - an unreadable user state is deleted (that user's next sync starts
//     fresh, which never deletes anything).
//
// Everything else (an unreadable or missing revision) is left, with its
// hint.
func (r *Repo) Repair(ctx context.Context, problems []Problem) (*RepairResult, error) {
	res := &RepairResult{}
	wanted := map[string]bool{}
	for _, p := range problems {
		switch p.Kind {
		case TempFile:
			ts, ok := r.store.(tempStore)
			if !ok {
				res.Left = append(res.Left, p)
				continue
			}
			if err := ts.RemoveTemp(ctx, p.Key); err != nil {
				return res, err
			}
			res.Done = append(res.Done, "removed "+p.Key)
		case ObjectCorrupt:
			if err := r.store.Delete(ctx, p.Key); err != nil {
				return res, fmt.Errorf("snapshot: repair: %w", err)
			}
			h, _ := parseObjectKey(p.Key)
			wanted[h] = true
			res.Done = append(res.Done, "deleted the corrupt "+p.Key)
		case ObjectMissing:
			h, _ := parseObjectKey(p.Key)
			wanted[h] = true
		case StateUnreadable:
			if err := r.store.Delete(ctx, p.Key); err != nil {
				return res, fmt.Errorf("snapshot: repair: %w", err)
			}
			res.Done = append(res.Done, "deleted the unreadable "+p.Key+" (that user's next sync starts fresh)")
		default:
			res.Left = append(res.Left, p)
		}
	}
	if len(wanted) == 0 {
		return res, nil
	}
	if err := r.want(ctx, wanted); err != nil {
		return res, err
	}
	n, err := r.rereadItems(ctx, wanted)
	if err != nil {
		return res, err
	}
	res.Done = append(res.Done, fmt.Sprintf("%d object(s) wanted: %d item link(s) in user states marked to be read again; the next sync of those users writes them (run pstsync check afterwards)", len(wanted), n))
	return res, nil
}

// want adds hashes to the head's wanted list.
func (r *Repo) want(ctx context.Context, hashes map[string]bool) error {
	return r.updateHead(ctx, func(hf *headFile) bool {
		set := map[string]bool{}
		for _, h := range hf.Wanted {
			set[h] = true
		}
		maps.Copy(set, hashes)
		hf.Wanted = slices.Sorted(maps.Keys(set))
		return true
	})
}

// headAttempts bounds how often updateHead tries to move the head while
// commits move it too (about 2 s of backoff in all).
const headAttempts = 20

// updateHead changes head.json with fn, conditionally on what it read,
// retrying when a commit moved the head meanwhile. fn returning false
// leaves the head alone.
func (r *Repo) updateHead(ctx context.Context, fn func(*headFile) bool) error {
	for attempt := 0; attempt < headAttempts; attempt++ {
		if attempt > 0 {
			// Back off with jitter: busy committers move the head in a
			// tight loop, and a retry right away loses to them again.
			d := time.Millisecond << min(attempt, 7)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d/2 + rand.N(d)):
			}
		}
		data, tag, err := r.store.Get(ctx, headKey)
		if sink.IsNotExist(err) {
			// No head yet (an empty or old store): write one first.
			r.mu.Lock()
			r.headRev = 0
			r.headTag = ""
			r.mu.Unlock()
			if _, err := r.Latest(ctx); err != nil {
				return err
			}
			r.writeHead(ctx)
			if _, _, err := r.store.Get(ctx, headKey); err != nil {
				return fmt.Errorf("snapshot: no %s (an empty repository?): %w", headKey, err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("snapshot: reading %s: %w", headKey, err)
		}
		var hf headFile
		if err := decodeStrict(data, &hf); err != nil {
			return fmt.Errorf("snapshot: %s: %w", headKey, err)
		}
		if !fn(&hf) {
			return nil
		}
		out, err := encodeJSON(&hf)
		if err != nil {
			return err
		}
		_, err = r.store.Put(ctx, headKey, out, sink.Cond{IfMatch: tag})
		if err == nil {
			r.mu.Lock()
			r.loaded = false // read the head again
			r.latest, r.latestH = nil, nil
			r.mu.Unlock()
			return nil
		}
		if !sink.IsPreconditionFailed(err) {
			return fmt.Errorf("snapshot: writing %s: %w", headKey, err)
		}
	}
	return fmt.Errorf("snapshot: %s keeps changing (syncs running); try again", headKey)
}

// rereadItems clears the change markers of the links whose item's shared
// object, or whose own last version, is wanted, so that the next sync of
// that user reads them again.
func (r *Repo) rereadItems(ctx context.Context, wanted map[string]bool) (int, error) {
	latest, err := r.Latest(ctx)
	if err != nil {
		return 0, err
	}
	affected := map[[2]string]bool{}
	if latest != nil {
		for coll, items := range latest.Collections {
			for uid, e := range items {
				if wanted[e.Hash] {
					affected[[2]string{coll, uid}] = true
				}
			}
		}
	}
	users, err := r.userStates(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range users {
		for attempt := 0; ; attempt++ {
			st, tag, err := r.LoadState(ctx, u.user)
			if err != nil || st == nil {
				break // unreadable states are their own problem
			}
			changed := 0
			for i, l := range st.Links {
				if wanted[l.Marker.Hash] || affected[[2]string{l.Collection, l.UID}] {
					st.Links[i].Marker = Marker{}
					changed++
				}
			}
			if changed == 0 {
				break
			}
			if _, err := r.SaveState(ctx, u.user, st, tag); err != nil {
				if IsConflict(err) && attempt < 5 {
					continue
				}
				return n, fmt.Errorf("snapshot: repair: %w", err)
			}
			n += changed
			break
		}
	}
	return n, nil
}

// Wanted reports whether the object with hash h is wanted (missing; see
// Repair).
func (r *Repo) Wanted(h string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.wanted[h] && !r.known[h]
}

// Supply writes the objects among objs (hash → bytes) that the head lists
// as wanted. It costs nothing when nothing is wanted. Once written, the
// next commit drops them from the list.
func (r *Repo) Supply(ctx context.Context, objs map[string][]byte) error {
	r.mu.Lock()
	var put [][]byte
	for h := range r.wanted {
		if d, ok := objs[h]; ok && !r.known[h] {
			put = append(put, d)
		}
	}
	r.mu.Unlock()
	if len(put) == 0 {
		return nil
	}
	_, err := r.PutObjects(ctx, put)
	return err
}
