package merge

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pstsync/pstsync/sink"
)

// OnConflict is the rule that settles field conflicts.
type OnConflict string

// Conflict rules.
const (
	// KeepBoth (the default): the item keeps ours and theirs survives as a
	// conflict copy with a derived UID and a marked title.
	KeepBoth OnConflict = "keep-both"
	// Newest takes the side with the later Doc.Modified (ours on a tie).
	Newest OnConflict = "newest"
	// Mine takes ours, Theirs takes theirs.
	Mine   OnConflict = "mine"
	Theirs OnConflict = "theirs"
)

// ParseOnConflict parses a --on-conflict value ("" is KeepBoth).
func ParseOnConflict(s string) (OnConflict, error) {
	switch m := OnConflict(strings.ToLower(strings.TrimSpace(s))); m {
	case "", KeepBoth:
		return KeepBoth, nil
	case Newest, Mine, Theirs:
		return m, nil
	}
	return "", fmt.Errorf("merge: unknown conflict rule %q (want keep-both, newest, mine or theirs)", s)
}

// Options tune MergeCollection.
type Options struct {
	Collection string     // name recorded in conflicts ("calendar", "contacts")
	OnConflict OnConflict // default KeepBoth
	OursBy     string     // who ours is (user name), for conflicts and copy titles
	TheirsBy   string     // who theirs is
	// Now, when set, is the Modified time of items combining changes from
	// both sides (it is the only clock MergeCollection sees).
	Now time.Time
}

// SideStats counts one side's changes since base that reached the merged
// collection.
type SideStats struct {
	Added   int `json:"added"`
	Changed int `json:"changed"`
	Deleted int `json:"deleted"` // items this side deleted that were removed
}

// Stats summarise a MergeCollection run.
type Stats struct {
	Ours      SideStats `json:"ours"`
	Theirs    SideStats `json:"theirs"`
	Conflicts int       `json:"conflicts"` // items with at least one conflict
	Copies    int       `json:"copies"`    // conflict copies added
	// Collection sizes before the merge.
	BaseItems   int `json:"base_items"`
	OursItems   int `json:"ours_items"`
	TheirsItems int `json:"theirs_items"`
}

// Side names one side of a merge.
type Side int

// Sides.
const (
	SideOurs Side = iota
	SideTheirs
)

// DeletedFraction is the fraction of the other side's collection removed
// by the deletions of side from (0 when the other side is empty).
func (s Stats) DeletedFraction(from Side) float64 {
	n, total := s.deletedBy(from)
	if total == 0 {
		return 0
	}
	return float64(n) / float64(total)
}

func (s Stats) deletedBy(from Side) (n, total int) {
	if from == SideOurs {
		return s.Ours.Deleted, s.TheirsItems
	}
	return s.Theirs.Deleted, s.OursItems
}

// MassDelete reports whether the deletions of side from remove more than
// half of the other side's collection and more than 10 items: the guard
// the caller applies before writing anything.
func (s Stats) MassDelete(from Side) bool {
	n, total := s.deletedBy(from)
	return n > 10 && 2*n > total
}

// Result is the outcome of MergeCollection.
type Result struct {
	Merged    map[string]*Doc
	Conflicts []Conflict // sorted by UID, then field
	Stats     Stats
}

// MergeCollection merges two collections (UID → Doc) against their common
// base: items present everywhere merge with Merge; an item added on one
// side is taken; added on both sides it merges with a nil base; deleted on
// one side and unchanged on the other it is deleted; deleted on one side
// and modified on the other it survives, modified, and every changed field
// is listed as a ConflictDeleteModify (never a silent delete). Field
// conflicts are settled by opts.OnConflict and all are listed in
// Result.Conflicts with the resolution taken. Nil maps are empty
// collections. Docs are not copied: unchanged items are the input
// pointers.
func MergeCollection(base, ours, theirs map[string]*Doc, opts Options) Result {
	if opts.OnConflict == "" {
		opts.OnConflict = KeepBoth
	}
	res := Result{Merged: make(map[string]*Doc, len(theirs)+len(ours)/64)}
	res.Stats.BaseItems, res.Stats.OursItems, res.Stats.TheirsItems = len(base), len(ours), len(theirs)
	for uid, o := range ours {
		res.item(uid, base[uid], o, theirs[uid], opts)
	}
	for uid, t := range theirs {
		if _, ok := ours[uid]; !ok {
			res.item(uid, base[uid], nil, t, opts)
		}
	}
	// Items deleted on both sides are simply gone.
	for i := range res.Conflicts {
		c := &res.Conflicts[i]
		c.Collection, c.OursBy, c.TheirsBy = opts.Collection, opts.OursBy, opts.TheirsBy
	}
	sort.SliceStable(res.Conflicts, func(i, j int) bool {
		a, b := &res.Conflicts[i], &res.Conflicts[j]
		if a.UID != b.UID {
			return a.UID < b.UID
		}
		return a.Field < b.Field
	})
	return res
}

func (r *Result) item(uid string, b, o, t *Doc, opts Options) {
	switch {
	case o != nil && t != nil:
		r.both(uid, b, o, t, opts)
	case o != nil: // theirs lacks it
		switch {
		case b == nil:
			r.Stats.Ours.Added++
			r.Merged[uid] = o
		case SameFields(b, o):
			r.Stats.Theirs.Deleted++
		default:
			r.Stats.Ours.Changed++
			r.Stats.Conflicts++
			r.Merged[uid] = o
			r.deleteModify(uid, b, o, false)
		}
	case t != nil: // ours lacks it
		switch {
		case b == nil:
			r.Stats.Theirs.Added++
			r.Merged[uid] = t
		case SameFields(b, t):
			r.Stats.Ours.Deleted++
		default:
			r.Stats.Theirs.Changed++
			r.Stats.Conflicts++
			r.Merged[uid] = t
			r.deleteModify(uid, b, t, true)
		}
	}
}

func (r *Result) deleteModify(uid string, b, kept *Doc, keptTheirs bool) {
	title := kept.Title()
	for _, k := range ChangedKeys(b, kept) {
		c := Conflict{UID: uid, Title: title, Kind: ConflictDeleteModify, Field: k,
			Base: fieldText(b.Fields, k), Resolution: ResKeptModified}
		if keptTheirs {
			c.Theirs = fieldText(kept.Fields, k)
		} else {
			c.Ours = fieldText(kept.Fields, k)
		}
		r.Conflicts = append(r.Conflicts, c)
	}
}

func (r *Result) both(uid string, b, o, t *Doc, opts Options) {
	if b != nil {
		oc, tc := !SameFields(b, o), !SameFields(b, t)
		if oc {
			r.Stats.Ours.Changed++
		}
		if tc {
			r.Stats.Theirs.Changed++
		}
		if !oc {
			r.Merged[uid] = t
			return
		}
		if !tc {
			r.Merged[uid] = o
			return
		}
	}
	preferTheirs := opts.OnConflict == Theirs || (opts.OnConflict == Newest && t.Modified.After(o.Modified))
	m, cs := merge3(b, o, t, preferTheirs)
	if m != o && m != t && !opts.Now.IsZero() {
		m.Modified = opts.Now.UTC()
	}
	r.Merged[uid] = m
	if len(cs) == 0 {
		return
	}
	r.Stats.Conflicts++
	if opts.OnConflict == KeepBoth && o.Kind != KindMessage {
		cp := conflictCopy(t, opts.TheirsBy)
		r.Merged[cp.UID] = cp
		r.Stats.Copies++
		for i := range cs {
			cs[i].Resolution, cs[i].Copy = ResKeepBoth, cp.UID
		}
	}
	for i := range cs {
		cs[i].UID = uid
	}
	r.Conflicts = append(r.Conflicts, cs...)
}

// CopyUID is the UID of the conflict copy of theirs: the item's UID,
// "-conflict-" and the first 12 hex digits of Hash(theirs), so the same
// conflict always gives the same copy.
func CopyUID(theirs *Doc) string {
	return theirs.UID + "-conflict-" + Hash(theirs)[:12]
}

// conflictCopy is theirs under CopyUID with " (conflict copy from BY)"
// appended to its title (FN or SUMMARY).
func conflictCopy(theirs *Doc, by string) *Doc {
	cp := theirs.Clone()
	cp.UID = CopyUID(theirs)
	suffix := " (conflict copy)"
	if by != "" {
		suffix = " (conflict copy from " + by + ")"
	}
	switch {
	case cp.Kind == KindContact:
		f, ok := cp.Fields["FN"]
		if !ok {
			f = Field{Name: "FN", Value: theirs.Title()}
		}
		f.Value += suffix
		cp.Fields["FN"] = f
	case cp.Kind.IsCalendar() && !hasMasterFields(cp):
		// Only overrides of single occurrences: mark each of them, never
		// make up a master (it would have no DTSTART).
		prefixes := map[string]bool{}
		for k := range cp.Fields {
			if p, _ := splitRID(k); p != "" {
				prefixes[p] = true
			}
		}
		for p := range prefixes {
			f, ok := cp.Fields[p+"SUMMARY"]
			if !ok {
				f = Field{Name: "SUMMARY"}
			}
			f.Value += sink.EscapeICSText(suffix)
			cp.Fields[p+"SUMMARY"] = f
		}
	case cp.Kind.IsCalendar():
		f, ok := cp.Fields["SUMMARY"]
		if !ok {
			f = Field{Name: "SUMMARY"}
		}
		f.Value += sink.EscapeICSText(suffix)
		cp.Fields["SUMMARY"] = f
	}
	return cp
}
