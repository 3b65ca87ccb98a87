package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/pstsync/pstsync/sink"
)

// Policy says which revisions Prune keeps, in the style of restic's
// --keep-* options. The latest revision, every revision a user's state
// names as its base, and the revisions the latest one is stored as changes
// to (back to its checkpoint) are always kept.
type Policy struct {
	// Within: keep every revision younger than this (relative to now).
	Within time.Duration
	// Daily: keep the newest revision of each of the last Daily days
	// that have revisions; negative: of every day.
	Daily int
	// Monthly: keep the newest revision of each of the last Monthly
	// months that have revisions; negative: of every month.
	Monthly int
	// Grace: an object no revision refers to is deleted only when an
	// earlier prune, at least Grace ago, found it unreferenced too (a sync
	// running meanwhile may be about to refer to it). 0 deletes at once
	// (for a store nobody else uses).
	Grace time.Duration
	// DryRun: decide and report, change nothing.
	DryRun bool
}

// DefaultPolicy keeps every revision of the last 7 days, then one a day
// for 3 months, then one a month.
var DefaultPolicy = Policy{Within: 7 * 24 * time.Hour, Daily: 92, Monthly: -1, Grace: 12 * time.Hour}

// PruneResult reports what Prune did (or would do, on a dry run).
type PruneResult struct {
	Kept           []int64 `json:"kept"`
	Removed        []int64 `json:"removed"`
	Rewritten      []int64 `json:"rewritten"` // kept revisions stored anew (their base was removed)
	ObjectsDeleted int     `json:"objects_deleted"`
	ObjectsPending int     `json:"objects_pending"` // unreferenced, deleted by a later prune
	BytesDeleted   int64   `json:"bytes_deleted"`
}

const pendingKey = "prune/pending.json"

type pendingFile struct {
	Version int                  `json:"version"`
	Since   map[string]time.Time `json:"since"` // object hash → first found unreferenced
}

var hashInText = regexp.MustCompile(`[0-9a-f]{64}`)

// Prune removes the revisions pol does not keep, keeping their audit
// records (audit/…: author, time, changes, conflicts), and deletes the
// objects nothing refers to any more. It is safe while other users sync:
// it never removes the latest revision nor a revision a user's state
// names, a kept revision whose base goes is stored anew (as a delta from
// the previous kept one, or a checkpoint), and the head's checkpoint tree
// stays referenced; a concurrent commit creates a revision prune never
// touches, so it never loses; objects are deleted only after the grace period (see
// Policy.Grace), and an object that a revision committed meanwhile refers
// to is put back.
func (r *Repo) Prune(ctx context.Context, pol Policy, now time.Time) (*PruneResult, error) {
	latest, err := r.Latest(ctx)
	if err != nil {
		return nil, fmt.Errorf("snapshot: prune: %w", err)
	}
	res := &PruneResult{}
	if latest == nil {
		return res, nil
	}
	// The head names the latest revision's checkpoint by its tree object,
	// which stays referenced (and so stored) while the head names it; a
	// checkpoint of an earlier release (a full revision file, no tree) is
	// read by its number and must stay.
	r.mu.Lock()
	oldCheckpoint := int64(0)
	if r.cpTree == "" {
		oldCheckpoint = r.cpRev
	}
	r.mu.Unlock()
	revs, err := r.listRevisions(ctx)
	if err != nil {
		return nil, err
	}
	headers := map[int64]*Header{}
	for _, rev := range revs {
		if rev > latest.Rev {
			continue
		}
		h, err := r.readHeader(ctx, rev)
		if err != nil {
			return nil, fmt.Errorf("snapshot: prune: %w (run pstsync check first)", err)
		}
		headers[rev] = h
	}
	revs = slices.Sorted(maps.Keys(headers))

	// Which to keep.
	keep := map[int64]bool{latest.Rev: true}
	if oldCheckpoint > 0 {
		keep[oldCheckpoint] = true
	}
	users, err := r.userStates(ctx)
	if err != nil {
		return nil, err
	}
	for _, st := range users {
		if st.base > 0 {
			keep[st.base] = true
		}
	}
	days, months := map[string]bool{}, map[string]bool{}
	for i := len(revs) - 1; i >= 0; i-- {
		h := headers[revs[i]]
		t := h.Time.UTC()
		if pol.Within > 0 && now.Sub(t) < pol.Within {
			keep[h.Rev] = true
		}
		if d := t.Format("2006-01-02"); !days[d] && (pol.Daily < 0 || len(days) < pol.Daily) {
			days[d] = true
			keep[h.Rev] = true
		}
		if m := t.Format("2006-01"); !months[m] && (pol.Monthly < 0 || len(months) < pol.Monthly) {
			months[m] = true
			keep[h.Rev] = true
		}
	}
	for _, rev := range revs {
		if keep[rev] {
			res.Kept = append(res.Kept, rev)
		} else {
			res.Removed = append(res.Removed, rev)
		}
	}

	// Replay forward; store anew each kept revision whose base goes.
	var (
		colls     map[string]map[string]Entry
		prevRev   int64
		prevKept  int64
		keptColls map[string]map[string]Entry
		rewrites  []*Header
		newTrees  [][]byte
	)
	for _, rev := range revs {
		h := headers[rev]
		switch {
		case h.checkpoint():
			c, err := r.treeOf(ctx, h)
			if err != nil {
				return nil, fmt.Errorf("snapshot: prune: %w", err)
			}
			colls = c
		case h.Base == prevRev && (colls != nil || h.Base == 0):
			if colls == nil {
				colls = map[string]map[string]Entry{}
			}
			applyDelta(colls, h.Delta)
			if h.Version == HeaderVersion {
				shapeColls(colls, h.Collections)
			}
		default:
			c, _, _, _, err := r.rebuild(ctx, h)
			if err != nil {
				return nil, fmt.Errorf("snapshot: prune: %w", err)
			}
			colls = c
		}
		prevRev = rev
		if !keep[rev] {
			continue
		}
		baseKept := h.Base == 0 || keep[h.Base]
		if !baseKept {
			nh := *h
			nh.full = nil
			nh.Version = HeaderVersion
			nh.Collections = collNames(colls)
			if prevKept == 0 || r.checkpointDue(len(diffDelta(keptColls, colls)), h.Items) || h.checkpoint() {
				if nh.Tree == "" {
					tree := encodeTree(rev, colls)
					newTrees = append(newTrees, tree)
					nh.Tree = HashOf(tree)
				}
				nh.Base, nh.Delta, nh.Chain = 0, nil, 0
			} else {
				nh.Base, nh.Delta = prevKept, diffDelta(keptColls, colls)
				nh.Chain = len(nh.Delta)
			}
			rewrites = append(rewrites, &nh)
			res.Rewritten = append(res.Rewritten, rev)
		}
		prevKept = rev
		keptColls = cloneColls(colls)
	}
	if pol.DryRun {
		return res, nil
	}
	if err := r.updateHead(ctx, func(hf *headFile) bool {
		if !hf.LastPrune.Before(now) {
			return false
		}
		hf.LastPrune = now.UTC()
		return true
	}); err != nil {
		return nil, fmt.Errorf("snapshot: prune: %w", err)
	}

	// 1. The kept revisions stored anew (valid with or without the
	// removals that follow).
	if len(newTrees) > 0 {
		if _, err := r.PutObjects(ctx, newTrees); err != nil {
			return nil, fmt.Errorf("snapshot: prune: %w", err)
		}
	}
	for _, h := range rewrites {
		data, err := h.encode()
		if err != nil {
			return nil, fmt.Errorf("snapshot: prune: %w", err)
		}
		if _, err := r.store.Put(ctx, RevisionKey(h.Rev), data, sink.Cond{}); err != nil {
			return nil, fmt.Errorf("snapshot: prune: rewriting %s: %w", RevisionKey(h.Rev), err)
		}
		headers[h.Rev] = h
	}
	// 2. The audit record of what goes, then the removal, after marking
	// the numbers removed so that a writer cannot bring one back.
	if len(res.Removed) > 0 {
		if err := r.markPruned(ctx, latest.Rev); err != nil {
			return nil, fmt.Errorf("snapshot: prune: %w", err)
		}
		af := auditFile{Version: HeaderVersion}
		for _, rev := range res.Removed {
			h := *headers[rev]
			h.Delta, h.Tree, h.Collections, h.full, h.Base, h.Chain = nil, "", nil, nil, 0, 0
			h.Version = HeaderVersion
			af.Revisions = append(af.Revisions, h)
		}
		data, err := encodeJSON(&af)
		if err != nil {
			return nil, err
		}
		key := AuditKey(res.Removed[0], res.Removed[len(res.Removed)-1])
		if _, err := r.store.Put(ctx, key, data, sink.Cond{}); err != nil {
			return nil, fmt.Errorf("snapshot: prune: writing %s: %w", key, err)
		}
		for _, rev := range res.Removed {
			if err := r.store.Delete(ctx, RevisionKey(rev)); err != nil {
				return nil, fmt.Errorf("snapshot: prune: %w", err)
			}
			if headers[rev].ConflictsHash != "" {
				if err := r.store.Delete(ctx, ConflictsKey(rev)); err != nil {
					return nil, fmt.Errorf("snapshot: prune: %w", err)
				}
			}
			delete(headers, rev)
		}
	}

	// 3. Objects.
	if err := r.pruneObjects(ctx, pol, now, headers, users, res); err != nil {
		return nil, err
	}
	return res, nil
}

// ErrPruneNotDue: PruneIfDue found the last prune recent, or another
// user's prune claimed the turn.
var ErrPruneNotDue = errors.New("snapshot: prune not due")

// PruneIfDue runs Prune when the last one (of any user: the time is kept
// in the head) started at least every ago. Of several users due at once,
// one claims the turn (a conditional write of the head) and the others get
// ErrPruneNotDue. It costs no request when not due.
func (r *Repo) PruneIfDue(ctx context.Context, pol Policy, now time.Time, every time.Duration) (*PruneResult, error) {
	r.mu.Lock()
	last, empty := r.lastPrune, r.latest == nil
	r.mu.Unlock()
	if empty || every <= 0 || now.Sub(last) < every {
		return nil, ErrPruneNotDue
	}
	claimed := false
	err := r.updateHead(ctx, func(hf *headFile) bool {
		if now.Sub(hf.LastPrune) < every {
			return false
		}
		hf.LastPrune = now.UTC()
		claimed = true
		return true
	})
	if err != nil {
		return nil, err
	}
	if !claimed {
		return nil, ErrPruneNotDue
	}
	return r.Prune(ctx, pol, now)
}

type userRef struct {
	user   string
	base   int64
	hashes []string
}

// userStates reads every user's base revision and the object hashes the
// state mentions (whatever field holds them).
func (r *Repo) userStates(ctx context.Context) ([]userRef, error) {
	keys, err := r.store.List(ctx, usersPrefix)
	if err != nil {
		return nil, fmt.Errorf("snapshot: listing user states: %w", err)
	}
	var out []userRef
	for _, key := range keys {
		user, ok := parseStateKey(key)
		if !ok {
			continue
		}
		data, _, err := r.store.Get(ctx, key)
		if sink.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("snapshot: reading %s: %w", key, err)
		}
		u := userRef{user: user, hashes: hashInText.FindAllString(string(data), -1)}
		var probe struct {
			BaseRev int64 `json:"base_rev"`
		}
		if json.Unmarshal(data, &probe) == nil {
			u.base = probe.BaseRev
		}
		out = append(out, u)
	}
	return out, nil
}

// referenced returns every object hash the stored revisions, the head,
// the audit records and the user states refer to.
func (r *Repo) referenced(ctx context.Context, headers map[int64]*Header, users []userRef) (map[string]bool, error) {
	ref := map[string]bool{}
	for _, h := range headers {
		for _, d := range h.Delta {
			for _, e := range []*Entry{d.Entry, d.Old} {
				if e != nil {
					ref[e.Hash] = true
				}
			}
		}
		for _, items := range h.full {
			for _, e := range items {
				ref[e.Hash] = true
			}
		}
		if h.ConflictsHash != "" {
			ref[h.ConflictsHash] = true
		}
		if h.Tree != "" {
			ref[h.Tree] = true
			colls, err := r.treeOf(ctx, h)
			if err != nil {
				return nil, fmt.Errorf("snapshot: prune: %w", err)
			}
			for _, items := range colls {
				for _, e := range items {
					ref[e.Hash] = true
				}
			}
		}
	}
	if data, _, err := r.store.Get(ctx, headKey); err == nil {
		for _, h := range hashInText.FindAllString(string(data), -1) {
			ref[h] = true
		}
	}
	audit, err := r.Audit(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range audit {
		if a.ConflictsHash != "" {
			ref[a.ConflictsHash] = true
		}
	}
	for _, u := range users {
		for _, h := range u.hashes {
			ref[h] = true
		}
	}
	return ref, nil
}

func (r *Repo) pruneObjects(ctx context.Context, pol Policy, now time.Time, headers map[int64]*Header, users []userRef, res *PruneResult) error {
	ref, err := r.referenced(ctx, headers, users)
	if err != nil {
		return err
	}
	keys, err := r.store.List(ctx, objectsPrefix)
	if err != nil {
		return fmt.Errorf("snapshot: prune: listing objects: %w", err)
	}
	pend := pendingFile{Version: HeaderVersion, Since: map[string]time.Time{}}
	if data, _, err := r.store.Get(ctx, pendingKey); err == nil {
		_ = json.Unmarshal(data, &pend)
		if pend.Since == nil {
			pend.Since = map[string]time.Time{}
		}
	}
	next := map[string]time.Time{}
	deleted := map[string][]byte{}
	for _, k := range keys {
		h, ok := parseObjectKey(k)
		if !ok || ref[h] {
			continue
		}
		since, was := pend.Since[h]
		if !was {
			since = now
		}
		if pol.Grace > 0 && (!was || now.Sub(since) < pol.Grace) {
			next[h] = since
			continue
		}
		data, _, err := r.store.Get(ctx, k)
		if err != nil && !sink.IsNotExist(err) {
			return fmt.Errorf("snapshot: prune: %w", err)
		}
		if err := r.store.Delete(ctx, k); err != nil {
			return fmt.Errorf("snapshot: prune: %w", err)
		}
		if HashOf(data) == h {
			deleted[h] = data
		}
		res.ObjectsDeleted++
		res.BytesDeleted += int64(len(data))
	}
	res.ObjectsPending = len(next)
	data, err := encodeJSON(&pendingFile{Version: HeaderVersion, Since: next})
	if err != nil {
		return err
	}
	if _, err := r.store.Put(ctx, pendingKey, data, sink.Cond{}); err != nil {
		return fmt.Errorf("snapshot: prune: writing %s: %w", pendingKey, err)
	}
	// Revisions committed while we deleted: put back what they need.
	if len(deleted) > 0 {
		r.mu.Lock()
		for h := range deleted {
			delete(r.known, h)
		}
		r.mu.Unlock()
		m, err := r.Latest(ctx)
		if err != nil {
			return fmt.Errorf("snapshot: prune: %w", err)
		}
		var back [][]byte
		for _, items := range m.Collections {
			for _, e := range items {
				if d, ok := deleted[e.Hash]; ok {
					back = append(back, d)
					delete(deleted, e.Hash)
				}
			}
		}
		if len(back) > 0 {
			if _, err := r.PutObjects(ctx, back); err != nil {
				return fmt.Errorf("snapshot: prune: putting back objects a new revision needs: %w", err)
			}
			res.ObjectsDeleted -= len(back)
		}
	}
	return nil
}
