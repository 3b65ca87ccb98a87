package merge

import (
	"sort"
	"strconv"
	"strings"
)

// Resolution says how a conflict was settled.
type Resolution string

// Resolutions.
const (
	// ResKeepBoth: ours stays in the item, theirs survives as a conflict
	// copy (Conflict.Copy names its UID).
	ResKeepBoth Resolution = "keep-both"
	// ResOurs / ResTheirs: that side's value was taken.
	ResOurs   Resolution = "ours"
	ResTheirs Resolution = "theirs"
	// ResKeptModified: an item deleted on one side and modified on the
	// other was kept, modified.
	ResKeptModified Resolution = "kept-modified"
)

// ConflictKind classifies a conflict.
type ConflictKind string

// Conflict kinds.
const (
	ConflictField        ConflictKind = "field"         // same field changed differently
	ConflictDeleteModify ConflictKind = "delete-modify" // item deleted on one side, modified on the other
)

// Conflict is one field both sides changed differently (or one changed
// field of an item the other side deleted). Base, Ours and Theirs are the
// field rendered as a content line; nil means absent (deleted, or not
// there before).
type Conflict struct {
	Collection string       `json:"collection,omitempty"`
	UID        string       `json:"uid"`
	Title      string       `json:"title"`
	Kind       ConflictKind `json:"kind"`
	Field      string       `json:"field"`
	Base       *string      `json:"base"`
	Ours       *string      `json:"ours"`
	Theirs     *string      `json:"theirs"`
	OursBy     string       `json:"ours_by,omitempty"`
	TheirsBy   string       `json:"theirs_by,omitempty"`
	Resolution Resolution   `json:"resolution"`
	// Copy is the UID of the conflict copy holding theirs (keep-both).
	Copy string `json:"copy,omitempty"`
}

func fieldText(m map[string]Field, k string) *string {
	f, ok := m[k]
	if !ok {
		return nil
	}
	s := f.String()
	return &s
}

// Merge merges ours and theirs field by field against base (nil when the
// item was added on both sides independently): a field changed on one side
// only takes that change (including its deletion); changed on both sides
// to the same value is fine; changed differently is a Conflict, settled in
// favour of ours in the returned doc (Resolution ResOurs; MergeCollection
// applies the configured rule). Volatile values are not merged: when the
// merged fields equal theirs', theirs itself is returned, else when they
// equal ours', ours; otherwise a new Doc with Modified = the later of the
// two, Volatile from both (ours first) and every SEQUENCE set to the
// larger of both plus one. Zones merge per TZID (one side's change wins;
// when both changed, the lexically smaller text, so the choice is
// symmetric). Conflicts are sorted by field key.
func Merge(base, ours, theirs *Doc) (*Doc, []Conflict) {
	return merge3(base, ours, theirs, false)
}

func merge3(base, ours, theirs *Doc, preferTheirs bool) (*Doc, []Conflict) {
	switch {
	case ours == nil:
		return theirs, nil
	case theirs == nil:
		return ours, nil
	}
	var bf map[string]Field
	if base != nil {
		bf = base.Fields
	}
	// Fast path: one side unchanged.
	if base != nil && SameFields(base, ours) {
		return theirs, nil
	}
	if base != nil && SameFields(base, theirs) {
		return ours, nil
	}
	if SameFields(ours, theirs) {
		return theirs, nil
	}
	out := make(map[string]Field, len(ours.Fields)+len(theirs.Fields)/8)
	var conflicts []Conflict
	title := ours.Title()
	visit := func(k string) {
		b, bok := bf[k]
		o, ook := ours.Fields[k]
		t, tok := theirs.Fields[k]
		oc := ook != bok || (ook && !o.Equal(b))
		tc := tok != bok || (tok && !t.Equal(b))
		var pick Field
		var has bool
		switch {
		case !tc:
			pick, has = o, ook
		case !oc:
			pick, has = t, tok
		case ook == tok && (!ook || o.Equal(t)):
			pick, has = o, ook
		default:
			res := ResOurs
			pick, has = o, ook
			if preferTheirs {
				res = ResTheirs
				pick, has = t, tok
			}
			conflicts = append(conflicts, Conflict{
				UID: ours.UID, Title: title, Kind: ConflictField, Field: k,
				Base: fieldText(bf, k), Ours: fieldText(ours.Fields, k), Theirs: fieldText(theirs.Fields, k),
				Resolution: res,
			})
		}
		if has {
			out[k] = pick
		}
	}
	for k := range ours.Fields {
		visit(k)
	}
	for k := range theirs.Fields {
		if _, ok := ours.Fields[k]; !ok {
			visit(k)
		}
	}
	for k := range bf {
		_, ok1 := ours.Fields[k]
		_, ok2 := theirs.Fields[k]
		if !ok1 && !ok2 {
			visit(k)
		}
	}
	sort.Slice(conflicts, func(i, j int) bool { return conflicts[i].Field < conflicts[j].Field })
	merged := &Doc{UID: ours.UID, Kind: ours.Kind, Fields: out}
	if SameFields(merged, theirs) {
		return theirs, conflicts
	}
	if SameFields(merged, ours) {
		return ours, conflicts
	}
	merged.Modified = ours.Modified
	if theirs.Modified.After(merged.Modified) {
		merged.Modified = theirs.Modified
	}
	merged.Volatile = mergeVolatile(ours.Volatile, theirs.Volatile)
	merged.Zones = mergeZones(base, ours, theirs)
	return merged, conflicts
}

func mergeVolatile(o, t map[string]Field) map[string]Field {
	if len(o) == 0 && len(t) == 0 {
		return nil
	}
	out := make(map[string]Field, len(o)+len(t))
	for k, f := range t {
		out[k] = f
	}
	for k, f := range o {
		out[k] = f
	}
	for k, f := range out {
		if k != "SEQUENCE" && !strings.HasSuffix(k, "/SEQUENCE") {
			continue
		}
		n := seq(o[k])
		if m := seq(t[k]); m > n {
			n = m
		}
		f.Value = strconv.Itoa(n + 1)
		out[k] = f
	}
	return out
}

func seq(f Field) int {
	n, err := strconv.Atoi(strings.TrimSpace(f.Value))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func mergeZones(base, ours, theirs *Doc) map[string]string {
	var bz map[string]string
	if base != nil {
		bz = base.Zones
	}
	if len(ours.Zones) == 0 && len(theirs.Zones) == 0 {
		return nil
	}
	out := map[string]string{}
	pick := func(id string) {
		b, bok := bz[id]
		o, ook := ours.Zones[id]
		t, tok := theirs.Zones[id]
		switch {
		case ook && tok && o != t:
			switch {
			case bok && o == b:
				out[id] = t
			case bok && t == b:
				out[id] = o
			case o < t:
				out[id] = o
			default:
				out[id] = t
			}
		case ook:
			out[id] = o
		case tok:
			out[id] = t
		}
	}
	for id := range ours.Zones {
		pick(id)
	}
	for id := range theirs.Zones {
		pick(id)
	}
	return out
}
