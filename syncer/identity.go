package syncer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/snapshot"
)

// resolve gives every item of the user's side its shared UID: the link's
// when linked; else the item's own UID when the snapshot has it; else, for
// contacts, a shared contact with the same fingerprint (an e-mail address,
// then full name and company), so that the same person in two users'
// address books becomes one shared contact and a card the user imported
// from the mailbox links back to the item it came from; else its own UID.
// Two items of the side never share a UID: the second (in key order,
// linked items first) is a duplicate and gets a fresh UID derived from its
// key, so both are kept; it is reported in Result.Duplicates.
func (r *run) resolve(ctx context.Context, T map[string]map[string]snapshot.Entry) (map[*item]string, error) {
	assign := make(map[*item]string, len(r.side.items))
	claimed := make(map[merge.Key]bool, len(r.side.items)) // linked to one of the user's present items
	by := make(map[merge.Key]*item, len(r.side.items))     // … and which
	r.res.Duplicates = nil
	take := func(it *item, uid string) {
		k := merge.Key{Coll: it.coll, UID: uid}
		if claimed[k] && (it.link == nil || it.link.Copy) && (by[k].marker.Hash == it.marker.Hash || r.isCopy(ctx, it, k, T)) {
			// A second copy of an item the side has, or of a shared item as
			// it is or was delivered (the user imported what was delivered
			// although they have the item): no opinion, and not shared
			// again (which would make a new copy each round).
			r.res.Duplicates = append(r.res.Duplicates, Duplicate{Collection: it.coll, UID: uid, Key: it.key})
			r.copies[it] = uid
			return
		}
		if claimed[k] {
			fresh := dupUID(uid, it.key)
			r.res.Duplicates = append(r.res.Duplicates, Duplicate{Collection: it.coll, UID: uid, Key: it.key, NewUID: fresh})
			uid, k = fresh, merge.Key{Coll: it.coll, UID: fresh}
		}
		assign[it] = uid
		claimed[k] = true
		by[k] = it
	}
	r.copies = map[*item]string{}
	for _, it := range r.side.items {
		if l := it.link; l != nil && l.Copy {
			if it.unchanged || it.marker.Hash == l.Marker.Hash {
				r.copies[it] = l.UID // still the copy it was
			}
			continue
		}
		if it.link != nil {
			take(it, it.link.UID)
		}
	}
	var fp *fingerprints
	for _, it := range r.side.items {
		if _, isCopy := r.copies[it]; isCopy || (it.link != nil && !it.link.Copy) {
			continue
		}
		uid := it.contentUID
		if _, ok := T[it.coll][uid]; ok || it.doc == nil || it.doc.Kind != merge.KindContact {
			take(it, uid)
			continue
		}
		if fp == nil {
			var err error
			fp, err = r.fingerprints(ctx, T)
			if err != nil {
				return nil, err
			}
		}
		if m := fp.match(it.coll, it.doc, claimed); m != "" && !claimed[merge.Key{Coll: it.coll, UID: m}] {
			uid = m
		}
		take(it, uid)
	}
	return assign, nil
}

// isCopy reports whether the unlinked item it holds exactly the shared
// item k as it is or as it was delivered to the user (field by field).
func (r *run) isCopy(ctx context.Context, it *item, k merge.Key, T map[string]map[string]snapshot.Entry) bool {
	if it.doc == nil {
		return false
	}
	e, inT := T[k.Coll][k.UID]
	if inT && e.Hash == it.marker.Hash {
		return true
	}
	if r.st != nil {
		for _, d := range r.st.Delivered {
			if d.Collection == k.Coll && d.UID == k.UID && d.Hash == it.marker.Hash {
				return true
			}
		}
	}
	if !inT {
		return false
	}
	t, err := r.doc(ctx, e.Hash, merge.Kind(e.Kind))
	return err == nil && merge.SameFields(t, it.doc)
}

// dupUID is the UID a duplicate with key gets: stable as long as the item
// stays where it is.
func dupUID(uid, key string) string {
	sum := sha256.Sum256([]byte(key))
	return uid + "-dup-" + hex.EncodeToString(sum[:4])
}

type fpEntry struct {
	uid string
	fn  string
}

// fingerprints index the shared contacts by normalised e-mail address and
// by full name + company.
type fingerprints struct {
	email map[string][]fpEntry // coll\x00email
	name  map[string][]fpEntry // coll\x00fn\x00org
}

func (r *run) fingerprints(ctx context.Context, T map[string]map[string]snapshot.Entry) (*fingerprints, error) {
	fp := &fingerprints{email: map[string][]fpEntry{}, name: map[string][]fpEntry{}}
	for coll, items := range T {
		for _, uid := range slices.Sorted(maps.Keys(items)) {
			e := items[uid]
			if merge.Kind(e.Kind) != merge.KindContact {
				continue
			}
			d, err := r.doc(ctx, e.Hash, merge.KindContact)
			if err != nil {
				return nil, fmt.Errorf("syncer: reading shared contact %s: %w", uid, err)
			}
			emails, fn, org := contactKeys(d)
			for _, m := range emails {
				fp.email[coll+"\x00"+m] = append(fp.email[coll+"\x00"+m], fpEntry{uid, fn})
			}
			if fn != "" {
				k := coll + "\x00" + fn + "\x00" + org
				fp.name[k] = append(fp.name[k], fpEntry{uid, fn})
			}
		}
	}
	return fp, nil
}

// match finds the shared contact d is. A contact already linked to another
// of the user's items matches only when the full name agrees too (two
// people sharing a family address stay two contacts).
func (fp *fingerprints) match(coll string, d *merge.Doc, claimed map[merge.Key]bool) string {
	emails, fn, org := contactKeys(d)
	for _, m := range emails {
		for _, e := range fp.email[coll+"\x00"+m] {
			if !claimed[merge.Key{Coll: coll, UID: e.uid}] || (fn != "" && e.fn == fn) {
				return e.uid
			}
		}
	}
	if fn != "" {
		for _, e := range fp.name[coll+"\x00"+fn+"\x00"+org] {
			return e.uid
		}
	}
	return ""
}

// contactKeys returns the normalised e-mail addresses, full name and
// company of a contact.
func contactKeys(d *merge.Doc) (emails []string, fn, org string) {
	for _, f := range d.Fields {
		switch f.Name {
		case "EMAIL":
			if m := normEmail(f.Value); m != "" {
				emails = append(emails, m)
			}
		case "FN":
			fn = normText(f.Value)
		case "ORG":
			o, _, _ := strings.Cut(f.Value, ";")
			org = normText(o)
		}
	}
	sortStrings(emails)
	return emails, fn, org
}

func normEmail(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "mailto:")
	if !strings.Contains(s, "@") {
		return ""
	}
	return s
}

func normText(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// ParseObject decodes a snapshot object of the given kind (the bytes
// merge.Canonical wrote) back into a Doc; see merge.ParseObject.
func ParseObject(data []byte, kind merge.Kind) (*merge.Doc, error) {
	return merge.ParseObject(data, kind)
}

// parseMessageRecord reads merge's canonical message record.
func parseMessageRecord(data []byte) (*merge.Doc, error) {
	return merge.ParseObject(data, merge.KindMessage)
}
