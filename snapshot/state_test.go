package snapshot

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/sink"
)

func sampleState() *UserState {
	return &UserState{User: "alice", BaseRev: 7, Updated: t0, Links: []Link{
		{Key: "nid:2097188", UID: "040000008200E00074C5B7101A82E008", Collection: "calendar",
			Marker: Marker{LastModified: t0.Add(-time.Hour), ChangeKey: "AQIDBA==", Hash: HashOf([]byte("e"))}},
		{Key: "nid:2097220", UID: "contact-1", Collection: "contacts", Marker: Marker{Hash: HashOf([]byte("c"))}},
		{Key: "nid:2097156", UID: "contact-2", Collection: "contacts"},
	}}
}

func TestStateRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	r := openRepo(t, s)

	st, etag, err := r.LoadState(ctx, "alice")
	if st != nil || etag != "" || err != nil {
		t.Fatalf("LoadState of a new user = %+v, %q, %v; want nil, \"\", nil", st, etag, err)
	}
	want := sampleState()
	tag1, err := r.SaveState(ctx, "alice", want, "")
	if err != nil || tag1 == "" {
		t.Fatalf("SaveState new: %q, %v", tag1, err)
	}
	if _, _, err := s.Get(ctx, "users/alice/state.json"); err != nil {
		t.Fatalf("state not at users/alice/state.json: %v", err)
	}
	got, etag, err := r.LoadState(ctx, "alice")
	if err != nil || etag != tag1 {
		t.Fatalf("LoadState = %v, %q (want etag %q)", err, etag, tag1)
	}
	want.Version = FormatVersion
	// Links come back sorted by collection, key.
	want.Links = []Link{want.Links[0], want.Links[2], want.Links[1]}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("state round trip:\n got %+v\nwant %+v", got, want)
	}

	// Creating again, or saving with a stale etag, is a conflict.
	if _, err := r.SaveState(ctx, "alice", got, ""); !IsConflict(err) {
		t.Errorf("second create: err = %v, want conflict", err)
	}
	got.BaseRev = 8
	tag2, err := r.SaveState(ctx, "alice", got, tag1)
	if err != nil {
		t.Fatalf("SaveState with the etag read: %v", err)
	}
	got.BaseRev = 9
	if _, err := r.SaveState(ctx, "alice", got, tag1); !IsConflict(err) {
		t.Errorf("stale etag: err = %v, want conflict", err)
	}
	if st, _, _ := r.LoadState(ctx, "alice"); st.BaseRev != 8 {
		t.Errorf("after a refused save BaseRev = %d, want 8", st.BaseRev)
	}
	_ = tag2

	// Another user's state is separate.
	if st, _, err := r.LoadState(ctx, "bob"); st != nil || err != nil {
		t.Errorf("bob: %+v, %v", st, err)
	}
	if _, err := r.SaveState(ctx, "bob", got, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("saving alice's state as bob: %v", err)
	}
}

func TestCorruptState(t *testing.T) {
	ctx := context.Background()
	good, err := sampleState().Encode()
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"garbage":        "\x00\x01 not json",
		"empty":          "",
		"truncated":      string(good[:len(good)-10]),
		"other user":     strings.Replace(string(good), `"user":"alice"`, `"user":"bob"`, 1),
		"newer version":  strings.Replace(string(good), `"version":1`, `"version":3`, 1),
		"negative base":  strings.Replace(string(good), `"base_rev":7`, `"base_rev":-1`, 1),
		"bad link hash":  strings.Replace(string(good), HashOf([]byte("c")), "zz", 1),
		"incomplete":     strings.Replace(string(good), `"uid":"contact-1"`, `"uid":""`, 1),
		"duplicate link": strings.Replace(string(good), `"key":"nid:2097220"`, `"key":"nid:2097156"`, 1),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			s := newMemStore()
			r := openRepo(t, s)
			s.Put(ctx, StateKey("alice"), []byte(data), sink.Cond{})
			st, etag, err := r.LoadState(ctx, "alice")
			if st != nil || !errors.Is(err, ErrCorruptState) {
				t.Fatalf("LoadState = %+v, %v; want ErrCorruptState", st, err)
			}
			if etag == "" {
				t.Fatal("no etag with a corrupt state: the syncer could never replace it")
			}
			// The syncer starts fresh and replaces the damaged file.
			fresh := &UserState{User: "alice", Updated: t0}
			if _, err := r.SaveState(ctx, "alice", fresh, etag); err != nil {
				t.Fatalf("replacing the corrupt state: %v", err)
			}
			if st, _, err := r.LoadState(ctx, "alice"); err != nil || st.BaseRev != 0 {
				t.Errorf("after replacement: %+v, %v", st, err)
			}
		})
	}
}

func TestUserNames(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, newMemStore())
	for _, u := range []string{"alice", "Bob Smith", "j.doe", "Zoë", "user_1-2"} {
		if !ValidUser(u) {
			t.Errorf("ValidUser(%q) = false", u)
		}
	}
	for _, u := range []string{"", ".", "..", "a/b", `a\b`, "../x", "a:b", "x?", " lead", "trail ", "dot.", ".hidden", "nul\x00", strings.Repeat("a", 129), "bad\xff"} {
		if ValidUser(u) {
			t.Errorf("ValidUser(%q) = true", u)
		}
		if _, _, err := r.LoadState(ctx, u); !errors.Is(err, ErrInvalid) {
			t.Errorf("LoadState(%q): %v", u, err)
		}
		if _, err := r.SaveState(ctx, u, &UserState{}, ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("SaveState(%q): %v", u, err)
		}
	}
}

// richState is a state with every field set, unicode and a second zone.
func richState() *UserState {
	st := sampleState()
	st.Machine = "m-1"
	st.Links = append(st.Links,
		Link{Key: "Zoë/ünïcode ✓.ics#u1", UID: "u1", Collection: "share/Projekte", Source: "Zoë/ünïcode ✓.ics", Private: true, Copy: true,
			Marker: Marker{LastModified: time.Date(2025, 3, 1, 8, 0, 0, 123456789, time.FixedZone("", 3600)), Hash: HashOf([]byte("z"))}})
	st.Delivered = []Delivered{{Collection: "calendar", UID: "040000008200E00074C5B7101A82E008", Hash: HashOf([]byte("d"))},
		{Collection: "contacts", UID: "contact-1", Hash: HashOf([]byte("c"))}}
	st.Sources = []Source{{Key: "Zoë/ünïcode ✓.ics", Clean: true, Hash: HashOf([]byte("f")), Items: 1,
		Stat: FileStat{Size: 300, MTime: 1764750000123456789, CTime: 1764750001000000000, Inode: 1 << 40, Dev: 2049}},
		{Key: "calendar", Clean: false, Items: 0}}
	return st
}

// TestParseStateFast: what Encode writes is read by the fast parser, the
// same as encoding/json reads it; anything the fast parser does not know
// is read by encoding/json, the same as before.
func TestParseStateFast(t *testing.T) {
	for _, st := range []*UserState{sampleState(), richState(), {User: "a", Updated: t0}} {
		data, err := st.Encode()
		if err != nil {
			t.Fatal(err)
		}
		fast, err := parseStateFast(data)
		if err != nil {
			t.Fatalf("fast parser refused Encode's output: %v\n%s", err, data)
		}
		slow, err := parseStateSlow(data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("fast and encoding/json differ:\n fast %+v\n slow %+v", fast, slow)
		}
	}
	good, err := richState().Encode()
	if err != nil {
		t.Fatal(err)
	}
	g := string(good)
	// Each case is read by encoding/json (the fast parser gives up) and
	// means what it always meant.
	slowCases := map[string]string{
		"escaped string":    strings.Replace(g, `"machine":"m-1"`, `"machine":"m\u002d1"`, 1),
		"escaped key":       strings.Replace(g, `"machine":`, `"m\u0061chine":`, 1),
		"unknown field":     strings.Replace(g, `"machine":`, `"future":{"a":[1,2.5,null]},"machine":`, 1),
		"unknown link key":  strings.Replace(g, `"uid":"u1"`, `"uid":"u1","kind":"x"`, 1),
		"key in other case": strings.Replace(g, `"machine":`, `"Machine":`, 1),
		"twice":             strings.Replace(g, `"machine":"m-1"`, `"machine":"m-0","machine":"m-1"`, 1),
		"marker twice":      strings.Replace(g, `"marker":{"hash"`, `"marker":{"change_key":"x"},"marker":{"hash"`, 1),
		"null":              strings.Replace(g, `"machine":"m-1"`, `"machine":null`, 1),
		"null sources":      strings.Replace(g, `"sources":[`, `"sources":null,"x":[`, 1),
		"exponent":          strings.Replace(g, `"base_rev":7`, `"base_rev":7e0`, 1),
		"spaces":            strings.ReplaceAll(g, `,"`, " ,\n\t\"") + "  \n",
		"invalid utf-8":     strings.Replace(g, `"machine":"m-1"`, "\"machine\":\"m\xff1\"", 1),
		"huge inode":        strings.Replace(g, `"ino":1099511627776`, `"ino":18446744073709551615`, 1),
	}
	for name, data := range slowCases {
		t.Run(name, func(t *testing.T) {
			if data == g {
				t.Fatal("the case changes nothing")
			}
			want, werr := parseStateSlow([]byte(data))
			if fast, err := parseStateFast([]byte(data)); err == nil && (werr != nil || !reflect.DeepEqual(fast, want)) {
				t.Errorf("fast parser took it differently: %+v (encoding/json: %+v, %v)", fast, want, werr)
			}
			got, err := ParseState([]byte(data))
			if werr == nil && err == nil && !reflect.DeepEqual(got, want) {
				t.Errorf("ParseState = %+v\nwant %+v", got, want)
			}
			if (werr == nil) != (err == nil) && !errors.Is(err, ErrCorruptState) {
				t.Errorf("ParseState error %v, encoding/json error %v", err, werr)
			}
		})
	}
	// Bad syntax anywhere is refused by both.
	for _, bad := range []string{g + "x", g[:len(g)-3], strings.Replace(g, `"clean":true`, `"clean":truex`, 1),
		strings.Replace(g, `"items":1`, `"items":01`, 1), strings.Replace(g, `,"updated"`, `,,"updated"`, 1)} {
		if _, err := ParseState([]byte(bad)); !errors.Is(err, ErrCorruptState) {
			t.Errorf("ParseState(%.60q…) = %v, want ErrCorruptState", bad[len(bad)-60:], err)
		}
	}
}

// FuzzStateParsers: whatever the fast state parser accepts, encoding/json
// reads the same.
func FuzzStateParsers(f *testing.F) {
	for _, st := range []*UserState{sampleState(), richState()} {
		data, err := st.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"version":1,"user":"a","base_rev":0,"links":[],"updated":"0001-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"version":-0,"links":[{"key":"k","marker":{"last_modified":"2026-01-01T00:00:00+01:00"}}],"sources":[{"stat":{"ino":1}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, err := parseStateFast(data)
		if err != nil {
			return
		}
		slow, err := parseStateSlow(data)
		if err != nil {
			t.Fatalf("fast parser accepted what encoding/json refuses (%v): %q", err, data)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("parsers differ on %q:\n fast %+v\n slow %+v", data, fast, slow)
		}
	})
}

// BenchmarkParseState: the state of a user with 10,000 one-event files.
func BenchmarkParseState(b *testing.B) {
	st := &UserState{User: "bench", BaseRev: 1, Machine: "m", Updated: t0}
	for i := range 10000 {
		f := fmt.Sprintf("ev-%06d.ics", i)
		uid := fmt.Sprintf("ev-%06d@bench", i)
		h := HashOf([]byte(uid))
		st.Links = append(st.Links, Link{Key: f + "#" + uid, UID: uid, Collection: "calendar", Marker: Marker{Hash: h}, Source: f})
		st.Delivered = append(st.Delivered, Delivered{Collection: "calendar", UID: uid, Hash: h})
		st.Sources = append(st.Sources, Source{Key: f, Clean: true, Hash: HashOf([]byte(f)), Items: 1,
			Stat: FileStat{Size: 310, MTime: 1764750000123456789, CTime: 1764750000123456789, Inode: uint64(100000 + i)}})
	}
	data, err := st.Encode()
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []struct {
		name  string
		parse func([]byte) (*UserState, error)
	}{{"fast", ParseState}, {"encoding-json", func(d []byte) (*UserState, error) {
		st, err := parseStateSlow(d)
		if err == nil {
			err = st.validate()
		}
		return st, err
	}}} {
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := p.parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
