package merge

import (
	"bytes"
	"sort"
	"testing"

	"pgregory.net/rapid"
)

var propKeys = []string{"FN", "NOTE", "TITLE", "EMAIL=a", "EMAIL=b", "EMAIL=c", "TEL=1", "TEL=2", "RID=1/SUMMARY", "RID=2/SUMMARY", "CATEGORIES=x"}

func genDoc(t *rapid.T, label string) *Doc {
	d := &Doc{UID: "u", Kind: KindContact, Fields: map[string]Field{}}
	for _, k := range propKeys {
		if rapid.Bool().Draw(t, label+k) {
			d.Fields[k] = Field{Name: k, Value: rapid.SampledFrom([]string{"v1", "v2", "v3"}).Draw(t, label+k+"v")}
		}
	}
	return d
}

// genEdit applies a random edit script: set, change or delete keys.
func genEdit(t *rapid.T, base *Doc, label string) *Doc {
	d := base.Clone()
	n := rapid.IntRange(0, 5).Draw(t, label+"n")
	for i := 0; i < n; i++ {
		k := rapid.SampledFrom(propKeys).Draw(t, label+"k")
		if rapid.Bool().Draw(t, label+"del") {
			delete(d.Fields, k)
		} else {
			d.Fields[k] = Field{Name: k, Value: rapid.SampledFrom([]string{"v1", "v2", "v3", "v4"}).Draw(t, label+"v")}
		}
	}
	return d
}

func TestMergeProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var base *Doc
		if rapid.Bool().Draw(t, "hasBase") {
			base = genDoc(t, "b")
		}
		start := base
		if start == nil {
			start = &Doc{UID: "u", Kind: KindContact, Fields: map[string]Field{}}
		}
		ours, theirs := genEdit(t, start, "o"), genEdit(t, start, "t")
		m, cs := Merge(base, ours, theirs)
		conflicted := map[string]Conflict{}
		for _, c := range cs {
			conflicted[c.Field] = c
		}
		var bf map[string]Field
		if base != nil {
			bf = base.Fields
		}
		// No edit lost: every key a side changed is in the merged doc with
		// that side's value (or absence) or listed as a conflict holding it.
		for _, side := range []*Doc{ours, theirs} {
			for _, k := range ChangedKeys(&Doc{Fields: bf}, side) {
				got, gok := m.Fields[k]
				want, wok := side.Fields[k]
				if gok == wok && (!gok || got.Equal(want)) {
					continue
				}
				c, ok := conflicted[k]
				if !ok {
					t.Fatalf("edit of %s lost: merged %v, side %v", k, got, want)
				}
				sv := c.Ours
				if side == theirs {
					sv = c.Theirs
				}
				if (sv == nil) != !wok || (wok && *sv != want.String()) {
					t.Fatalf("conflict on %s does not hold the side's value", k)
				}
			}
		}
		// merge(base, x, x) == x and merge(base, base, x) == x.
		if mm, c := Merge(base, ours, ours); !SameFields(mm, ours) || len(c) != 0 {
			t.Fatalf("merge(b, x, x) != x")
		}
		if base != nil {
			if mm, c := Merge(base, base, theirs); !SameFields(mm, theirs) || len(c) != 0 {
				t.Fatalf("merge(b, b, x) != x")
			}
			if mm, c := Merge(base, ours, base); !SameFields(mm, ours) || len(c) != 0 {
				t.Fatalf("merge(b, x, b) != x")
			}
		}
		// Symmetry: the same conflicts with the sides swapped.
		_, rcs := Merge(base, theirs, ours)
		if len(rcs) != len(cs) {
			t.Fatalf("conflicts %d vs swapped %d", len(cs), len(rcs))
		}
		for i := range cs {
			a, b := cs[i], rcs[i]
			if a.Field != b.Field || str(a.Ours) != str(b.Theirs) || str(a.Theirs) != str(b.Ours) || str(a.Base) != str(b.Base) {
				t.Fatalf("asymmetric conflict %+v vs %+v", a, b)
			}
		}
		// The merged fields are the same whichever side comes first, except
		// for conflicting keys.
		rm, _ := Merge(base, theirs, ours)
		keys := map[string]bool{}
		for k := range m.Fields {
			keys[k] = true
		}
		for k := range rm.Fields {
			keys[k] = true
		}
		for k := range keys {
			if _, c := conflicted[k]; c {
				continue
			}
			a, aok := m.Fields[k]
			b, bok := rm.Fields[k]
			if aok != bok || (aok && !a.Equal(b)) {
				t.Fatalf("key %s differs with sides swapped", k)
			}
		}
	})
}

func TestCollectionNeverLosesItems(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		uids := []string{"a", "b", "c", "d"}
		base, ours, theirs := map[string]*Doc{}, map[string]*Doc{}, map[string]*Doc{}
		for _, u := range uids {
			var b *Doc
			if rapid.Bool().Draw(t, "b"+u) {
				b = genDoc(t, "b"+u)
				b.UID = u
				base[u] = b
			}
			start := b
			if start == nil {
				start = &Doc{UID: u, Kind: KindContact, Fields: map[string]Field{"FN": {Name: "FN", Value: u}}}
			}
			for side, m := range map[string]map[string]*Doc{"o": ours, "t": theirs} {
				if rapid.IntRange(0, 3).Draw(t, side+u) > 0 {
					m[u] = genEdit(t, start, side+u)
				}
			}
		}
		mode := rapid.SampledFrom([]OnConflict{KeepBoth, Newest, Mine, Theirs}).Draw(t, "mode")
		r := MergeCollection(base, ours, theirs, Options{OnConflict: mode})
		for _, u := range uids {
			o, t1 := ours[u], theirs[u]
			b := base[u]
			modified := (o != nil && (b == nil || !SameFields(b, o))) || (t1 != nil && (b == nil || !SameFields(b, t1)))
			if modified && r.Merged[u] == nil {
				t.Fatalf("item %s modified on a side but deleted", u)
			}
		}
		// Conflicts are sorted and each keep-both copy exists.
		if !sort.SliceIsSorted(r.Conflicts, func(i, j int) bool {
			return r.Conflicts[i].UID < r.Conflicts[j].UID || r.Conflicts[i].UID == r.Conflicts[j].UID && r.Conflicts[i].Field < r.Conflicts[j].Field
		}) {
			t.Fatal("conflicts not sorted")
		}
		for _, c := range r.Conflicts {
			if c.Copy != "" && r.Merged[c.Copy] == nil {
				t.Fatalf("copy %s missing", c.Copy)
			}
		}
	})
}

func FuzzFromVCard(f *testing.F) {
	f.Add([]byte(baseCard))
	f.Add([]byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nN:a;b\r\nTEL;TYPE=pref,WORK:1\r\nADR;LABEL=\"a,b^nc\":;;x\r\nEND:VCARD\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzStable(t, data, DecodeVCard) })
}

func FuzzFromCalendar(f *testing.F) {
	f.Add([]byte(baseEvent))
	f.Add([]byte("BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:t\r\nSUMMARY:x\\, y\r\nCATEGORIES:a,b\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzStable(t, data, DecodeCalendar)
		if d, err := DecodeCalendar(data); err == nil {
			checkCanonicalDirect(t, "fuzz", d)
		}
	})
}

// fuzzStable: whatever parses converts to canonical bytes that parse back
// to the same canonical bytes.
func fuzzStable(t *testing.T, data []byte, decode func([]byte) (*Doc, error)) {
	d, err := decode(data)
	if err != nil {
		return
	}
	canon := Canonical(d)
	d2, err := decode(canon)
	if err != nil {
		t.Fatalf("canonical does not parse: %v\n%s", err, canon)
	}
	if c2 := Canonical(d2); !bytes.Equal(c2, canon) {
		t.Fatalf("canonical not stable:\n%s\n---\n%s", canon, c2)
	}
	if !SameFields(d, d2) {
		t.Fatalf("fields change through canonical: %v", ChangedKeys(d, d2))
	}
}
