package merge

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Key names one shared item: its collection and UID.
type Key struct{ Coll, UID string }

func (k Key) String() string { return k.Coll + "/" + k.UID }

func compareKeys(a, b Key) int { return cmp.Or(cmp.Compare(a.Coll, b.Coll), cmp.Compare(a.UID, b.UID)) }

// SideItem is one item of a user's side, with the shared identity the
// caller gave it.
type SideItem struct {
	Key    Key
	Source string // the source it was read from (a file, a PST folder)
	Hash   string // Hash of the user's version now
	// Doc is the user's version; nil when the item is unchanged since the
	// last run (Hash is then the seen hash).
	Doc *Doc
	// Private: the user's item is private; it is shared as busy time
	// only (Redact) and the user is given back their own version.
	Private bool
}

// ItemState is what the per-user state remembers of one shared item.
type ItemState struct {
	Delivered string // hash of the version last delivered to the user
	Seen      string // hash of the user's own version at the end of the last run ("": none)
	Source    string // the source the user's version was read from
	Private   bool   // the user's version is private
}

// ReconcileInput is everything one user's run loaded.
type ReconcileInput struct {
	User       string
	Now        time.Time
	OnConflict OnConflict
	// Latest is the latest shared revision: the hash of every item.
	Latest map[Key]string
	// Base is the revision the user last synced; it stands in for a
	// delivered version the state does not have (a lost state).
	Base map[Key]string
	// Docs are decoded versions by hash: at least those Needs lists.
	Docs  map[string]*Doc
	Side  []SideItem // one per Key (the caller gives duplicates fresh UIDs)
	Clean map[string]bool
	State map[Key]ItemState
	// Trusted: State is this user's own from the last successful run on
	// this machine; only then is an absent item a deletion.
	Trusted bool
	// Editors names who last changed each shared item since the user's
	// base (for conflicts and conflict copy titles).
	Editors map[Key]string
	// Lossy: the user's client may drop fields it cannot keep (Outlook
	// behind a PST). Then a field missing from the user's version that
	// their previous version lacked too counts as unchanged, not deleted.
	// A folder of files keeps everything: every difference counts.
	Lossy bool
	// Hashes optionally gives the Hash of docs the caller has computed
	// already (each Side doc, say), so that they are not encoded again;
	// a doc listed must not change while Reconcile runs.
	Hashes map[*Doc]string
}

// hash is Hash(d), from Hashes when the caller knows it.
func (in *ReconcileInput) hash(d *Doc) string {
	if h, ok := in.Hashes[d]; ok {
		return h
	}
	return Hash(d)
}

// Plan is what a run does: the delta to commit, the conflicts to record,
// the user's view to deliver and the state to keep.
type Plan struct {
	Put       map[Key]*Doc // new and changed shared items (conflict copies included)
	Delete    []Key        // shared items removed (sorted)
	Copies    []Key        // the conflict copies among Put (sorted)
	Conflicts []Conflict   // every conflict found, recorded whether or not the delta is empty
	Added     int
	Modified  int
	Deleted   int
	// Deliver is the user's whole view after the plan: the hash of each
	// item's version to have in the mailbox.
	Deliver map[Key]string
	// Own are items delivered as the user's own version (private items):
	// Deliver holds their hash, Own their Doc when it was decoded.
	Own   map[Key]*Doc
	State map[Key]ItemState
	// NoOpinion: items the user had whose source was not read cleanly;
	// left as they were.
	NoOpinion []Key
	// Missing: items left as they were because a version needed to merge
	// them was not in Docs.
	Missing []Key
}

// Empty reports whether the plan changes nothing shared.
func (p *Plan) Empty() bool { return len(p.Put) == 0 && len(p.Delete) == 0 }

func (in *ReconcileInput) delivered(k Key) string {
	if d := in.State[k].Delivered; d != "" {
		return d
	}
	return in.Base[k]
}

// Needs lists the hashes of the versions Reconcile will decode: for every
// item the user changed or no longer has, its latest, delivered and seen
// versions. Sorted, without duplicates.
func (in *ReconcileInput) Needs() []string {
	set := map[string]bool{}
	add := func(k Key) {
		for _, h := range []string{in.Latest[k], in.delivered(k), in.State[k].Seen, in.Base[k]} {
			if h != "" {
				set[h] = true
			}
		}
	}
	has := make(map[Key]bool, len(in.Side))
	for _, s := range in.Side {
		has[s.Key] = true
		if s.Doc != nil && s.Hash != in.State[s.Key].Seen {
			add(s.Key)
		}
	}
	for k, st := range in.State {
		if st.Seen != "" && !has[k] {
			add(k)
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// Reconcile applies the rules of the sync's round trip to one user's side
// (see the design note): for each shared item, with S the user's version
// now, T the latest shared one, D the one delivered and U the one seen at
// the last run:
//  1. S equals U: the user did nothing; no opinion.
//  2. S equals D in the merge model's fields (with a Lossy client, fields
//     the user's version lacked before too count as unchanged: the client
//     cannot keep them): an echo of the delivery; no opinion.
//  3. S changed: a three-way merge with base D or U (the one S is nearer
//     to; D on a tie), ours S, theirs T.
//  4. S absent, its source read cleanly and the state trusted: a deletion
//     when T is what the user last had (U; with a Lossy client also D when
//     it holds all of U), else delete versus edit: T is kept and the
//     conflict recorded.
//  5. S absent and its source not read cleanly: no opinion (NoOpinion).
//  6. S of an item the shared side never had: an addition; one the shared
//     side deleted while the user edited it comes back, with a recorded
//     conflict.
//
// It does no I/O and reads no clock.
func Reconcile(in *ReconcileInput) *Plan {
	// The view and the state hold every latest and every side item:
	// sized for them up front (at 10,000 items, growing them was a tenth
	// of a no-change sync).
	n := max(len(in.Latest), len(in.Side))
	p := &Plan{Put: map[Key]*Doc{}, Deliver: make(map[Key]string, n), Own: map[Key]*Doc{}, State: make(map[Key]ItemState, n)}
	if in.OnConflict == "" {
		in.OnConflict = KeepBoth
	}
	side := make(map[Key]*SideItem, len(in.Side))
	for i := range in.Side {
		side[in.Side[i].Key] = &in.Side[i]
	}
	deleted := map[Key]bool{}
	keepSeen := map[Key]bool{}
	// In key order, the items item and absent can act on (the others
	// return at once: rule 1, or nothing seen or still there).
	var changed []Key
	for k, s := range side {
		if s.Doc != nil && s.Hash != in.State[k].Seen {
			changed = append(changed, k)
		}
	}
	slices.SortFunc(changed, compareKeys)
	for _, k := range changed {
		in.item(p, k, side[k])
	}
	var gone []Key
	for k, st := range in.State {
		if st.Seen != "" && side[k] == nil {
			gone = append(gone, k)
		}
	}
	slices.SortFunc(gone, compareKeys)
	for _, k := range gone {
		st := in.State[k]
		switch in.absent(p, k, st) {
		case absentDelete:
			deleted[k] = true
		case absentKeep:
			keepSeen[k] = true
		}
	}
	p.Delete = slices.SortedFunc(maps.Keys(deleted), compareKeys)
	p.Deleted = len(p.Delete)
	slices.SortFunc(p.Copies, compareKeys)
	slices.SortStableFunc(p.Conflicts, func(a, b Conflict) int {
		return cmp.Or(cmp.Compare(a.Collection, b.Collection), cmp.Compare(a.UID, b.UID), cmp.Compare(a.Field, b.Field))
	})

	// The user's view and state after the plan.
	for k, h := range in.Latest {
		if !deleted[k] {
			p.Deliver[k] = h
		}
	}
	for k, d := range p.Put {
		p.Deliver[k] = in.hash(d)
	}
	for k, s := range side {
		if _, ok := p.Deliver[k]; ok && s.Private {
			p.Deliver[k] = s.Hash
			if s.Doc != nil {
				p.Own[k] = s.Doc
			}
		}
		p.State[k] = ItemState{Delivered: p.Deliver[k], Seen: s.Hash, Source: s.Source, Private: s.Private}
	}
	for k, h := range p.Deliver {
		if _, ok := p.State[k]; !ok {
			p.State[k] = ItemState{Delivered: h}
		}
	}
	for k := range keepSeen {
		st := in.State[k]
		st.Delivered = p.Deliver[k]
		p.State[k] = st
	}
	return p
}

// item reconciles one item the user has.
func (in *ReconcileInput) item(p *Plan, k Key, s *SideItem) {
	st := in.State[k]
	if s.Doc == nil || s.Hash == st.Seen {
		return // rule 1
	}
	S := s.Doc
	if S.UID != k.UID {
		S = S.Clone()
		S.UID = k.UID
	}
	dh := in.delivered(k)
	D, U := in.Docs[dh], in.Docs[st.Seen]
	// Only a lossy client's missing fields are excused (echo, fillDropped).
	lossyU := U
	if !in.Lossy {
		lossyU = nil
	}
	if dh != "" && (s.Hash == dh || (D != nil && echo(S, D, lossyU))) {
		return // rule 2
	}
	ours := S
	if s.Private {
		ours = Redact(S)
	}
	th, inT := in.Latest[k]
	if !inT {
		if dh == "" && st.Seen == "" {
			p.Put[k] = ours // rule 6
			p.Added++
			return
		}
		// Deleted on the shared side while the user edited it: the edit
		// comes back, the conflict is recorded.
		base := pickBase(S, D, U)
		if s.Private {
			base = Redact(base)
		}
		if base != nil && SameFields(base, ours) {
			return // nothing of the user's changed reaches the shared item
		}
		p.Put[k] = ours
		p.Added++
		r := Result{}
		r.deleteModify(k.UID, orEmpty(base, ours), ours, false)
		in.label(r.Conflicts, k, in.Editors[k])
		p.Conflicts = append(p.Conflicts, r.Conflicts...)
		return
	}
	T := in.Docs[th]
	if th == s.Hash || (T != nil && SameFields(T, ours)) {
		return
	}
	if T == nil {
		p.Missing = append(p.Missing, k)
		return
	}
	base := pickBase(S, D, U)
	ours = fillDropped(ours, lossyU, base)
	if s.Private {
		// The owner is given their own version, never the busy time: the
		// base of their change is the busy time shared at their last
		// sync (Base), so that what colleagues changed in it since
		// merges. Without it, the busy time the owner gives wins.
		base = in.Docs[in.Base[k]]
		if base == nil {
			base = T
		}
	}
	by := in.Editors[k]
	if by == "" {
		by = "shared"
	}
	r := Result{Merged: map[string]*Doc{}}
	r.item(k.UID, base, ours, T, Options{Collection: k.Coll, OnConflict: in.OnConflict, OursBy: in.User, TheirsBy: by, Now: in.Now})
	in.label(r.Conflicts, k, by)
	if m := r.Merged[k.UID]; m != nil && in.hash(m) != th {
		p.Put[k] = m
		p.Modified++
	}
	for _, uid := range slices.Sorted(maps.Keys(r.Merged)) {
		if uid == k.UID {
			continue
		}
		m := r.Merged[uid]
		// A copy's UID is derived from its content, so it can name an
		// item that exists already (an earlier copy of the same version,
		// maybe edited since): never overwrite another item.
		ck := Key{k.Coll, uid}
		if h, taken := in.view(p, ck); taken && h != in.hash(m) {
			fresh := in.freeUID(p, k.Coll, uid, in.hash(m))
			m = m.Clone()
			m.UID = fresh
			for i := range r.Conflicts {
				if r.Conflicts[i].Copy == uid {
					r.Conflicts[i].Copy = fresh
				}
			}
			ck = Key{k.Coll, fresh}
		} else if taken {
			continue // the same copy exists already
		}
		p.Put[ck] = m
		p.Copies = append(p.Copies, ck)
	}
	p.Conflicts = append(p.Conflicts, r.Conflicts...)
}

type absentResult int

const (
	absentDrop   absentResult = iota // nothing to do; the user no longer has it
	absentDelete                     // a deletion
	absentKeep                       // no opinion this run; keep what was seen
)

// absent reconciles an item the user had at the last run and no longer
// has (rules 4 and 5).
func (in *ReconcileInput) absent(p *Plan, k Key, st ItemState) absentResult {
	if !in.Trusted {
		return absentDrop // a lost or foreign state never deletes
	}
	if !in.Clean[st.Source] {
		p.NoOpinion = append(p.NoOpinion, k)
		return absentKeep
	}
	th, inT := in.Latest[k]
	if !inT {
		return absentDrop
	}
	dh := in.delivered(k)
	if th == st.Seen {
		return absentDelete
	}
	T, D, U := in.Docs[th], in.Docs[dh], in.Docs[st.Seen]
	if T == nil {
		p.Missing = append(p.Missing, k)
		return absentKeep
	}
	// A deletion when the shared item is what the user had: their own
	// version, or the one delivered to them if it holds everything of
	// their own (the rest being fields their client cannot keep).
	if st.Private {
		U = Redact(U)
	}
	if U != nil && (SameFields(T, U) || (in.Lossy && th == dh && subsetFields(U, T))) {
		return absentDelete
	}
	// Delete versus edit: the edit is kept, the conflict recorded.
	base := U // what the user had (already redacted when private)
	if base == nil {
		base = D
	}
	r := Result{}
	r.deleteModify(k.UID, orEmpty(base, T), T, true)
	in.label(r.Conflicts, k, in.Editors[k])
	p.Conflicts = append(p.Conflicts, r.Conflicts...)
	return absentDrop
}

func (in *ReconcileInput) label(cs []Conflict, k Key, by string) {
	for i := range cs {
		cs[i].Collection, cs[i].UID, cs[i].OursBy, cs[i].TheirsBy = k.Coll, k.UID, in.User, by
	}
}

// view returns the hash of item k in the shared view as planned so far.
func (in *ReconcileInput) view(p *Plan, k Key) (string, bool) {
	if d, ok := p.Put[k]; ok {
		return in.hash(d), true
	}
	h, ok := in.Latest[k]
	return h, ok
}

// freeUID returns a UID derived from uid and hash that names no item.
func (in *ReconcileInput) freeUID(p *Plan, coll, uid, hash string) string {
	base := uid + "-" + hash[:8]
	c := base
	for n := 2; ; n++ {
		if _, taken := in.view(p, Key{coll, c}); !taken {
			return c
		}
		c = fmt.Sprintf("%s-%d", base, n)
	}
}

// echo reports whether S is the delivered version D as the user's client
// keeps it: every field equal, except fields S lacks that the user's
// previous version U lacked too (the client cannot keep them).
func echo(S, D, U *Doc) bool {
	if SameFields(S, D) {
		return true
	}
	if U == nil {
		return false
	}
	for k, f := range S.Fields {
		if g, ok := D.Fields[k]; !ok || !f.Equal(g) {
			return false
		}
	}
	for k := range D.Fields {
		if _, ok := S.Fields[k]; !ok {
			if _, had := U.Fields[k]; had {
				return false
			}
		}
	}
	return true
}

// pickBase returns the base of the user's change: D or U, whichever S
// differs from in fewer fields (D on a tie), or the one that exists.
func pickBase(S, D, U *Doc) *Doc {
	switch {
	case D == nil:
		return U
	case U == nil:
		return D
	}
	if len(ChangedKeys(S, U)) < len(ChangedKeys(S, D)) {
		return U
	}
	return D
}

// fillDropped gives ours the base's fields that ours and the user's
// previous version both lack (fields the user's client cannot keep), so
// that they do not count as deleted.
func fillDropped(ours, U, base *Doc) *Doc {
	if U == nil || base == nil || base == U {
		return ours
	}
	var out *Doc
	for k, f := range base.Fields {
		if _, ok := ours.Fields[k]; ok {
			continue
		}
		if _, had := U.Fields[k]; had {
			continue
		}
		if out == nil {
			out = ours.Clone()
		}
		out.Fields[k] = f.clone()
	}
	if out == nil {
		return ours
	}
	return out
}

func orEmpty(base, like *Doc) *Doc {
	if base != nil {
		return base
	}
	return &Doc{UID: like.UID, Kind: like.Kind, Fields: map[string]Field{}}
}

// subsetFields reports whether every field of a is in b with the same
// value.
func subsetFields(a, b *Doc) bool {
	for k, f := range a.Fields {
		g, ok := b.Fields[k]
		if !ok || !f.Equal(g) {
			return false
		}
	}
	return true
}
