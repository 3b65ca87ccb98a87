package cryptstore

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/sink/localstore"
	"github.com/pstsync/pstsync/sink/memstore"
	"github.com/pstsync/pstsync/sink/storetest"
)

// gated is a store whose writes of key files wait until open is closed:
// it holds InitAsync's background key file write back.
type gated struct {
	sink.Store
	open chan struct{}
}

func newGated(inner sink.Store) *gated { return &gated{Store: inner, open: make(chan struct{})} }

func (g *gated) Put(ctx context.Context, key string, data []byte, cond sink.Cond) (string, error) {
	if strings.HasPrefix(key, KeysPrefix) {
		select {
		case <-g.open:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	return g.Store.Put(ctx, key, data, cond)
}

func initAsync(t testing.TB, st sink.Store, passphrase string) *Store {
	t.Helper()
	s, err := InitAsync(context.Background(), st, passphrase, KeyInfo{User: "alice", Host: "pc1"}, testKDF)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// memFiles is every file of mem and its bytes.
func memFiles(t testing.TB, mem *memstore.Store) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	keys, err := mem.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, k := range keys {
		b, _, err := mem.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = b
	}
	return out
}

func TestConformanceAsync(t *testing.T) {
	t.Run("init", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) sink.Store { return initAsync(t, memstore.New(), "correct horse") })
	})
	t.Run("init local", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) sink.Store {
			l, err := localstore.New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return initAsync(t, l, "correct horse")
		})
	})
	t.Run("open", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) sink.Store {
			mem := memstore.New()
			newEnc(t, mem)
			s, err := OpenAsAsync(context.Background(), mem, "correct horse", "alice")
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
}

// TestAsyncOpensTheSameStore: what a store opened in the background reads
// and writes is what Open reads and writes.
func TestAsyncOpensTheSameStore(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	s := newEnc(t, mem)
	id2, err := s.AddKey(ctx, "correct horse", "bob's", KeyInfo{User: "bob"}, testKDF)
	if err != nil {
		t.Fatal(err)
	}
	obj, _ := objKey([]byte("an object"))
	if err := s.PutNew(ctx, []sink.Item{{Key: obj, Data: []byte("an object")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "head.json", []byte("{}"), sink.Cond{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pass, user, wantID string
	}{
		{"correct horse", "alice", FirstKeyID},
		{"bob's", "bob", id2},
		{"bob's", "", id2},
	} {
		a, err := OpenAsAsync(ctx, mem, tc.pass, tc.user)
		if err != nil {
			t.Fatal(err)
		}
		if got, _, err := a.Get(ctx, obj); err != nil || string(got) != "an object" {
			t.Errorf("%s: object: %q, %v", tc.user, got, err)
		}
		if got, _, err := a.Get(ctx, "head.json"); err != nil || string(got) != "{}" {
			t.Errorf("%s: head: %q, %v", tc.user, got, err)
		}
		if got, err := a.List(ctx, ""); err != nil || len(got) != 2 {
			t.Errorf("%s: list: %q, %v", tc.user, got, err)
		}
		if a.KeyID() != tc.wantID {
			t.Errorf("%s: key %s, want %s", tc.user, a.KeyID(), tc.wantID)
		}
		if !bytes.Equal(a.macKey, s.macKey) {
			t.Errorf("%s: another master key", tc.user)
		}
	}
	if err := s.Ready(ctx); err != nil {
		t.Errorf("Ready of a store Init made: %v", err)
	}
}

// TestAsyncFailsAtOnce: what needs no key derivation fails when the store
// is opened, not at its first use.
func TestAsyncFailsAtOnce(t *testing.T) {
	ctx := context.Background()
	clear, enc := memstore.New(), memstore.New()
	newEnc(t, enc)
	for _, tc := range []struct {
		name string
		open func() (*Store, error)
		want error // nil: any error
	}{
		{"open without passphrase", func() (*Store, error) { return OpenAsAsync(ctx, enc, "", "alice") }, ErrNoPassphrase},
		{"open a clear store", func() (*Store, error) { return OpenAsAsync(ctx, clear, "correct horse", "alice") }, nil},
		{"init without passphrase", func() (*Store, error) { return InitAsync(ctx, clear, "", KeyInfo{}, testKDF) }, ErrNoPassphrase},
		{"init an encrypted store", func() (*Store, error) { return InitAsync(ctx, enc, "correct horse", KeyInfo{}, testKDF) }, ErrEncrypted},
	} {
		s, err := tc.open()
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || s != nil {
			t.Errorf("%s: %v, %v; want %v", tc.name, s, err, tc.want)
		}
	}
	if n := clear.Len(); n != 0 {
		t.Errorf("%d files written", n)
	}
}

// TestAsyncWrongPassphrase: with a wrong passphrase every method fails
// with ErrPassphrase and nothing changes; before the derivation has
// failed, only a missing file may be answered (as missing).
func TestAsyncWrongPassphrase(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	s := newEnc(t, mem)
	obj, _ := objKey([]byte("an object"))
	if err := s.PutNew(ctx, []sink.Item{{Key: obj, Data: []byte("an object")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "head.json", []byte("{}"), sink.Cond{}); err != nil {
		t.Fatal(err)
	}
	before := memFiles(t, mem)
	ops := []struct {
		name string
		op   func(s *Store) error
	}{
		{"get", func(s *Store) error { _, _, err := s.Get(ctx, "head.json"); return err }},
		{"get object", func(s *Store) error { _, _, err := s.Get(ctx, obj); return err }},
		{"put", func(s *Store) error { _, err := s.Put(ctx, "head.json", []byte("x"), sink.Cond{}); return err }},
		{"put new", func(s *Store) error {
			return s.PutNew(ctx, []sink.Item{{Key: "users/a/state.json", Data: []byte("x")}})
		}},
		{"delete", func(s *Store) error { return s.Delete(ctx, "head.json") }},
		{"list", func(s *Store) error { _, err := s.List(ctx, ""); return err }},
		{"list object", func(s *Store) error { _, err := s.List(ctx, obj); return err }},
		{"temps", func(s *Store) error { _, err := s.Temps(ctx, 0); return err }},
		{"remove temp", func(s *Store) error { return s.RemoveTemp(ctx, ".tmp-x") }},
		{"keys", func(s *Store) error { _, err := s.Keys(ctx); return err }},
		{"add key", func(s *Store) error { _, err := s.AddKey(ctx, "wrong", "new", KeyInfo{}, testKDF); return err }},
		{"remove key", func(s *Store) error { return s.RemoveKey(ctx, FirstKeyID) }},
		{"change passphrase", func(s *Store) error {
			_, err := s.ChangePassphrase(ctx, "wrong", "new", KeyInfo{}, testKDF)
			return err
		}},
		{"verify", func(s *Store) error { _, err := s.Verify(ctx); return err }},
		{"convert", func(s *Store) error { _, err := Convert(ctx, s, nil); return err }},
		{"ready", func(s *Store) error { return s.Ready(ctx) }},
	}
	for _, first := range ops {
		// each operation first on a fresh store (it waits for the
		// derivation), then every operation once it has failed
		a, err := OpenAsAsync(ctx, mem, "wrong", "alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := first.op(a); !errors.Is(err, ErrPassphrase) {
			t.Errorf("%s first: %v, want ErrPassphrase", first.name, err)
		}
		for _, tc := range ops {
			if err := tc.op(a); !errors.Is(err, ErrPassphrase) {
				t.Errorf("%s after %s: %v, want ErrPassphrase", tc.name, first.name, err)
			}
		}
		if _, _, err := a.Get(ctx, "users/nobody/state.json"); !errors.Is(err, ErrPassphrase) {
			t.Errorf("missing file after the failure: %v, want ErrPassphrase", err)
		}
		if a.KeyID() != "" {
			t.Errorf("key ID %q of a store that did not open", a.KeyID())
		}
	}
	if after := memFiles(t, mem); !maps.EqualFunc(before, after, bytes.Equal) {
		t.Errorf("files changed: %d -> %d", len(before), len(after))
	}
}

// TestInitAsyncWaitsForTheKeyFile: until the key file is written, a missing
// file is answered at once; everything else waits (honouring its ctx) and
// nothing is written.
func TestInitAsyncWaitsForTheKeyFile(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	// a file that is there (left by someone else) needs the key to be read
	if _, err := mem.Put(ctx, DataPrefix+"users/x/state.json", []byte("sealed"), sink.Cond{}); err != nil {
		t.Fatal(err)
	}
	g := newGated(mem)
	s := initAsync(t, g, "correct horse")
	// (the key file is held back: waiting would time out, not hang)
	noWait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, _, err := s.Get(noWait, "head.json"); !sink.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
	for _, prefix := range []string{"revisions/", "objects/", "objects/ab/"} {
		if keys, err := s.List(noWait, prefix); err != nil || keys == nil || len(keys) != 0 {
			t.Errorf("empty listing of %s: %q, %v", prefix, keys, err)
		}
	}
	obj, _ := objKey([]byte("o"))
	short := func() context.Context {
		c, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		t.Cleanup(cancel)
		return c
	}
	for _, tc := range []struct {
		name string
		op   func() error
	}{
		{"get object", func() error { _, _, err := s.Get(short(), obj); return err }},
		{"get a file that is there", func() error { _, _, err := s.Get(short(), "users/x/state.json"); return err }},
		{"list files that are there", func() error { _, err := s.List(short(), "users/"); return err }},
		{"put", func() error { _, err := s.Put(short(), "head.json", []byte("{}"), sink.Cond{}); return err }},
		{"put new", func() error { return s.PutNew(short(), []sink.Item{{Key: obj, Data: []byte("o")}}) }},
		{"delete", func() error { return s.Delete(short(), "head.json") }},
		{"list objects", func() error { _, err := s.List(short(), obj); return err }},
		{"keys", func() error { _, err := s.Keys(short()); return err }},
		{"ready", func() error { return s.Ready(short()) }},
	} {
		if err := tc.op(); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s before the key file: %v, want it to wait", tc.name, err)
		}
	}
	if n := mem.Len(); n != 1 {
		t.Fatalf("%d files written before the key file", n-1)
	}
	close(g.open)
	if _, err := s.Put(ctx, "head.json", []byte("{}"), sink.Cond{}); err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.Get(ctx, "head.json"); err != nil || string(got) != "{}" {
		t.Fatalf("head: %q, %v", got, err)
	}
	o, err := Open(ctx, mem, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := o.Get(ctx, "head.json"); err != nil || string(got) != "{}" {
		t.Fatalf("head through Open: %q, %v", got, err)
	}
}

// TestInitAsyncRace: two machines start the same store encrypted at once.
// The loser's store opens the winner's key file before any operation goes
// on, so both use one master key; with another passphrase the loser's
// operations fail with ErrPassphrase and write nothing.
func TestInitAsyncRace(t *testing.T) {
	for _, tc := range []struct {
		name, loserPass string
		wantErr         error
	}{
		{"same passphrase", "correct horse", nil},
		{"other passphrase", "another one", ErrPassphrase},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			mem := memstore.New()
			ga, gb := newGated(mem), newGated(mem)
			// both see an empty store, then the winner writes first
			winner := initAsync(t, ga, "correct horse")
			loser := initAsync(t, gb, tc.loserPass)
			// an operation the loser started before the race is decided
			put := make(chan error, 1)
			go func() {
				_, err := loser.Put(ctx, "users/bob/state.json", []byte("bob"), sink.Cond{})
				put <- err
			}()
			close(ga.open)
			if err := winner.Ready(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := winner.Put(ctx, "head.json", []byte("the winner's head"), sink.Cond{}); err != nil {
				t.Fatal(err)
			}
			// the loser's reads wait until it has the winner's key
			short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			defer cancel()
			if _, _, err := loser.Get(short, "head.json"); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("loser's get before its key file write failed: %v, want it to wait", err)
			}
			get := make(chan string, 1)
			go func() {
				b, _, err := loser.Get(ctx, "head.json")
				if err != nil {
					b = []byte(err.Error())
				}
				get <- string(b)
			}()
			close(gb.open)
			if err := <-put; !errors.Is(err, tc.wantErr) {
				t.Fatalf("loser's put: %v, want %v", err, tc.wantErr)
			}
			if got, want := <-get, "the winner's head"; (tc.wantErr == nil) != (got == want) || got == "" {
				t.Errorf("loser's get of the winner's head: %q", got)
			}
			if winner.KeyID() != FirstKeyID {
				t.Errorf("winner's key %q", winner.KeyID())
			}
			keys, _ := mem.List(ctx, KeysPrefix)
			if len(keys) != 1 {
				t.Errorf("key files %q, want one", keys)
			}
			obj, _ := objKey([]byte("the winner's"))
			if err := winner.PutNew(ctx, []sink.Item{{Key: obj, Data: []byte("the winner's")}}); err != nil {
				t.Fatal(err)
			}
			got, _, err := loser.Get(ctx, obj)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("loser's get: %v, want %v", err, tc.wantErr)
				}
				if files, _ := mem.List(ctx, DataPrefix); len(files) != 2 {
					t.Errorf("data files %q, want only the winner's head and object", files)
				}
				return
			}
			if err != nil || string(got) != "the winner's" {
				t.Errorf("loser reads the winner's object: %q, %v", got, err)
			}
			if got, _, err := winner.Get(ctx, "users/bob/state.json"); err != nil || string(got) != "bob" {
				t.Errorf("winner reads the loser's file: %q, %v", got, err)
			}
			if !bytes.Equal(winner.macKey, loser.macKey) || loser.KeyID() != FirstKeyID {
				t.Errorf("loser has another master key (key %q)", loser.KeyID())
			}
		})
	}
}

// TestAsyncUnusedStoreEnds: the background goroutine of a store nobody
// uses ends by itself.
func TestAsyncUnusedStoreEnds(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	newEnc(t, mem)
	before := runtime.NumGoroutine()
	for range 3 {
		if _, err := OpenAsAsync(ctx, mem, "correct horse", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := InitAsync(ctx, memstore.New(), "correct horse", KeyInfo{}, testKDF); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left running, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
