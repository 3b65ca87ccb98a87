package snapshot

import (
	"bytes"
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
