package snapshot

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/pstsync/pstsync/sink"
)

// Event is one change of one item in the audit trail: who (the revision's
// author and machine, and whose edit it was), when, which item (UID,
// title), what (added, modified, deleted, conflict copy; the fields when
// the committer named them) and whether conflicts were recorded for it.
type Event struct {
	Rev        int64     `json:"rev"`
	Time       time.Time `json:"time"`
	User       string    `json:"user"`
	Host       string    `json:"host,omitempty"`
	By         string    `json:"by,omitempty"`
	Collection string    `json:"collection"`
	UID        string    `json:"uid"`
	Title      string    `json:"title,omitempty"`
	Op         Op        `json:"op"`
	Fields     []string  `json:"fields,omitempty"`
	// Conflict: the revision recorded a conflict about this item (or
	// the change is a conflict copy).
	Conflict bool `json:"conflict,omitempty"`
	// Pruned: the revision was removed by prune; this record is kept in
	// its audit file (the item's content of then cannot be restored).
	Pruned bool `json:"pruned,omitempty"`
}

// HistoryFilter selects events: of one item (UID, any collection) and/or
// from a time on. The zero filter selects everything.
type HistoryFilter struct {
	UID   string
	Since time.Time
}

// History returns the audit trail, oldest first: every change recorded by
// a stored revision or by the audit record of a pruned one. It reads the
// revision headers and audit files only, never an item, so it works when
// the items' objects are gone.
func (r *Repo) History(ctx context.Context, f HistoryFilter) ([]Event, error) {
	revs, err := r.Revisions(ctx)
	if err != nil {
		return nil, err
	}
	var headers []Header
	have := map[int64]bool{}
	for _, rev := range revs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := r.Header(ctx, rev)
		if err != nil {
			if sink.IsNotExist(err) {
				continue // pruned meanwhile: its audit record has it
			}
			return nil, fmt.Errorf("snapshot: history: %w", err)
		}
		have[rev] = true
		headers = append(headers, *h)
	}
	audit, err := r.Audit(ctx)
	if err != nil {
		return nil, err
	}
	for _, h := range audit {
		if !have[h.Rev] {
			h.full = nil
			h.Delta = nil
			h.ChangesOmitted = true // marks pruned below
			headers = append(headers, h)
		}
	}
	slices.SortFunc(headers, func(a, b Header) int { return int(a.Rev - b.Rev) })
	// a change without a title takes the item's title from its revision's
	// delta, else the last title known of the item
	lastTitle := map[string]string{}
	for i := range headers {
		for _, d := range headers[i].Delta {
			for _, e := range []*Entry{d.Old, d.Entry} {
				if e != nil && e.Title != "" {
					lastTitle[d.Collection+"\x00"+d.UID] = e.Title
				}
			}
		}
	}
	titleOf := func(h *Header, c Change) string {
		if c.Title != "" {
			return c.Title
		}
		for _, d := range h.Delta {
			if d.Collection == c.Collection && d.UID == c.UID {
				if d.Entry != nil && d.Entry.Title != "" {
					return d.Entry.Title
				}
				if d.Old != nil && d.Old.Title != "" {
					return d.Old.Title
				}
			}
		}
		return lastTitle[c.Collection+"\x00"+c.UID]
	}
	var out []Event
	for i := range headers {
		h := &headers[i]
		if !f.Since.IsZero() && h.Time.Before(f.Since) {
			continue
		}
		var conflicts []byte
		loaded := false
		for _, c := range h.Changes {
			if f.UID != "" && c.UID != f.UID {
				continue
			}
			ev := Event{Rev: h.Rev, Time: h.Time, User: h.Author.User, Host: h.Author.Host, By: c.By,
				Collection: c.Collection, UID: c.UID, Title: titleOf(h, c), Op: c.Op, Fields: c.Fields,
				Conflict: c.Op == OpConflictCopy, Pruned: h.ChangesOmitted}
			if h.ConflictsHash != "" && !ev.Conflict {
				if !loaded {
					loaded = true
					conflicts, err = r.conflictsOf(ctx, h.Rev, h.ConflictsHash)
					if err != nil {
						r.logger.WarnContext(ctx, "snapshot: conflicts unreadable", "rev", h.Rev, "err", err)
					}
				}
				ev.Conflict = bytes.Contains(conflicts, []byte(`"`+c.UID+`"`))
			}
			out = append(out, ev)
		}
	}
	return out, nil
}

// fillTitles gives each change without a title its item's title (the new
// entry's, or for a deletion the old one's), so that the audit record says
// which item it was after prune removed the objects.
func fillTitles(cs []Change, colls, parent map[string]map[string]Entry) {
	for i := range cs {
		c := &cs[i]
		if c.Title != "" {
			continue
		}
		if e, ok := colls[c.Collection][c.UID]; ok {
			c.Title = e.Title
		} else if e, ok := parent[c.Collection][c.UID]; ok {
			c.Title = e.Title
		}
	}
}
