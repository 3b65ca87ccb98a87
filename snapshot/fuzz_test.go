package snapshot

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// FuzzManifest feeds arbitrary bytes to the manifest and state parsers:
// they must not panic, and whatever they accept must encode to a canonical
// form that parses back to the same bytes.
func FuzzManifest(f *testing.F) {
	m := &Manifest{Rev: 3, Parent: 2, Author: alice, Time: t0,
		Collections: map[string]map[string]Entry{"calendar": {"u1": {Hash: HashOf([]byte("x")), Kind: "event", Title: "Team <meeting> ✓"}}},
		Changes:     []Change{{Collection: "calendar", UID: "u1", Op: OpModify, By: "alice"}},
	}
	mb, err := m.Encode()
	if err != nil {
		f.Fatal(err)
	}
	sb, err := sampleState().Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(mb)
	f.Add(sb)
	f.Add([]byte(`{"version":1,"rev":1,"parent":0,"author":{"user":"a"},"time":"2026-01-01T00:00:00+01:00","collections":{}}`))
	f.Add([]byte(`{"version":1,"user":"a","base_rev":0,"links":null,"updated":"0001-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"version":1,"rev":1,"parent":0,"author":{"user":"a"},"time":"2026-01-01T00:00:00Z","collections":{"c":null}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := ParseManifest(data); err == nil {
			enc, err := m.Encode()
			if err != nil {
				t.Fatalf("accepted manifest does not encode: %v", err)
			}
			m2, err := ParseManifest(enc)
			if err != nil {
				t.Fatalf("encoded manifest does not parse: %v\n%s", err, enc)
			}
			enc2, err := m2.Encode()
			if err != nil || !bytes.Equal(enc, enc2) {
				t.Fatalf("manifest encoding not stable: %v\n%s\n%s", err, enc, enc2)
			}
		}
		if st, err := ParseState(data); err == nil {
			enc, err := st.Encode()
			if err != nil {
				t.Fatalf("accepted state does not encode: %v", err)
			}
			st2, err := ParseState(enc)
			if err != nil {
				t.Fatalf("encoded state does not parse: %v\n%s", err, enc)
			}
			enc2, err := st2.Encode()
			if err != nil || !bytes.Equal(enc, enc2) {
				t.Fatalf("state encoding not stable: %v\n%s\n%s", err, enc, enc2)
			}
		}
	})
}

// FuzzTree feeds arbitrary bytes to the tree and revision header parsers:
// no panic, and an accepted tree encodes back to what parses the same.
func FuzzTree(f *testing.F) {
	colls := map[string]map[string]Entry{
		"calendar": {"u1": {Hash: HashOf([]byte("x")), Kind: "event", Title: "Tab\there, line\nbreak, back\\slash ✓"}},
		"contacts": {"c\t1": {Hash: HashOf([]byte("y")), Kind: "contact"}},
	}
	f.Add(encodeTree(7, colls))
	f.Add([]byte("pstsync-tree 2 1\n"))
	f.Add([]byte("pstsync-tree 2 1\na\tb\t" + HashOf(nil) + "\tevent\tx\\q\n"))
	f.Add([]byte(`{"version":2,"rev":1,"parent":0,"author":{"user":"a"},"time":"2026-01-01T00:00:00Z","items":0,"base":0,"chain":0,"collections":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if c, err := parseTree(7, data); err == nil {
			again, err := parseTree(7, encodeTree(7, c))
			if err != nil || !reflect.DeepEqual(again, c) {
				t.Fatalf("tree round trip: %v\n%v\n%v", err, c, again)
			}
		}
		if h, err := parseHeader(1, data); err == nil {
			if _, err := h.encode(); err != nil && h.Version == HeaderVersion {
				t.Fatalf("accepted header does not encode: %v", err)
			}
		}
	})
}

func TestTreeRoundTrip(t *testing.T) {
	colls := map[string]map[string]Entry{
		"calendar": {"u1": {Hash: HashOf([]byte("x")), Kind: "event", Title: "Tab\there, line\nbreak\r, back\\slash ✓"}},
		"contacts": {"c\t1": {Hash: HashOf([]byte("y")), Kind: "contact"}},
	}
	got, err := parseTree(7, encodeTree(7, colls))
	if err != nil || !reflect.DeepEqual(got, colls) {
		t.Fatalf("round trip = %v, %v", got, err)
	}
	for _, bad := range []string{"", "pstsync-tree 3 1\n", "pstsync-tree 2 1\na\tb\n", "pstsync-tree 2 1\na\tb\tnothash\te\tt\n",
		"pstsync-tree 2 1\na\tb\t" + HashOf(nil) + "\te\tt", "pstsync-tree 2 1\na\\x\tb\t" + HashOf(nil) + "\te\tt\n"} {
		if _, err := parseTree(1, []byte(bad)); !errors.Is(err, ErrCorruptManifest) {
			t.Errorf("parseTree(%q) = %v", bad, err)
		}
	}
}
