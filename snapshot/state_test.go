package snapshot

import (
	"context"
	"errors"
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
