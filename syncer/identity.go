package syncer

import (
	"context"
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
func (r *run) resolve(ctx context.Context, T map[string]map[string]snapshot.Entry) (map[*item]string, error) {
	assign := make(map[*item]string, len(r.side.items))
	claimed := map[string]bool{} // coll/uid linked to one of the user's present items
	for _, it := range r.side.items {
		if it.link != nil {
			assign[it] = it.link.UID
			claimed[it.coll+"\x00"+it.link.UID] = true
		}
	}
	var fp *fingerprints
	for _, it := range r.side.items {
		if it.link != nil {
			continue
		}
		uid := it.contentUID
		if _, ok := T[it.coll][uid]; ok || it.doc == nil || it.doc.Kind != merge.KindContact {
			assign[it] = uid
			continue
		}
		if fp == nil {
			var err error
			fp, err = r.fingerprints(ctx, T)
			if err != nil {
				return nil, err
			}
		}
		if m := fp.match(it.coll, it.doc, claimed); m != "" {
			uid = m
		}
		assign[it] = uid
		claimed[it.coll+"\x00"+uid] = true
	}
	return assign, nil
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
func (fp *fingerprints) match(coll string, d *merge.Doc, claimed map[string]bool) string {
	emails, fn, org := contactKeys(d)
	for _, m := range emails {
		for _, e := range fp.email[coll+"\x00"+m] {
			if !claimed[coll+"\x00"+e.uid] || (fn != "" && e.fn == fn) {
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
