package cryptstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/sink/localstore"
	"github.com/pstsync/pstsync/sink/memstore"
	"github.com/pstsync/pstsync/sink/storetest"
)

// testKDF is cheap argon2id for tests; testScryptKDF cheap scrypt (the
// version-1 key files written before argon2id).
var (
	testKDF       = KDF{Alg: AlgArgon2id, Time: 1, MemoryKiB: 64, Threads: 1}
	testScryptKDF = KDF{N: 1 << 10, R: 8, P: 1}
)

func newEnc(t testing.TB, inner sink.Store) *Store {
	t.Helper()
	s, err := Init(context.Background(), inner, "correct horse", KeyInfo{User: "alice", Host: "pc1"}, testKDF)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sink.Store { return newEnc(t, memstore.New()) })
}

func TestConformanceLocal(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sink.Store {
		l, err := localstore.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return newEnc(t, l)
	})
}

func objKey(data []byte) (string, string) {
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	return "objects/" + h[:2] + "/" + h, h
}

func TestPermuteRoundTrip(t *testing.T) {
	s := newEnc(t, memstore.New())
	for i := range 200 {
		_, h := objKey([]byte{byte(i)})
		n := s.permute(h, false)
		if n == h || s.permute(n, true) != h || !validHex64(n) {
			t.Fatalf("permute(%s) = %s, back %s", h, n, s.permute(n, true))
		}
	}
}

// TestFormatStable: object names and sealed files of a given master key
// are those earlier versions wrote (bytes recorded from the first
// release of the encrypted store), so existing stores stay readable.
func TestFormatStable(t *testing.T) {
	master := make([]byte, masterKeyBytes)
	for i := range master {
		master[i] = byte(i * 7)
	}
	s, err := newStore(memstore.New(), master, "k")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ hash, name string }{
		{"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881", "be77d028ae907e164a873277ba13af251ae63e138b03efb474c1a50b17df343d"},
		{"69716cb7047ed4ecced3d6231255de43e8d402ee8edf8fd582971c16908775dc", "baf418ad96b5c79f4040257b4bfcd67008d37e5c73b9c1f115097e82f1310405"},
	} {
		if got := s.permute(tc.hash, false); got != tc.name {
			t.Errorf("name of %s = %s, want %s", tc.hash, got, tc.name)
		}
		if got := s.permute(tc.name, true); got != tc.hash {
			t.Errorf("hash of %s = %s, want %s", tc.name, got, tc.hash)
		}
	}
	old, _ := hex.DecodeString("7073653177e6767db1f77ea372ce59616cb21fcc6d8ad1cda4c34860aafa208e1d7d312c4f16af73fc88d6317e102797c1cc1196cf")
	if plain, err := s.open("head.json", old); err != nil || string(plain) != `{"rev":7}` {
		t.Fatalf("open of an old sealed file: %q %v", plain, err)
	}
	// nonces never repeat within a run, and differ between runs
	s2, _ := newStore(memstore.New(), master, "k")
	seen := map[string]bool{}
	for _, st := range []*Store{s, s, s2} {
		n := string(st.seal("k", nil)[len(magic) : len(magic)+st.aead.NonceSize()])
		if seen[n] {
			t.Fatalf("nonce %x used twice", n)
		}
		seen[n] = true
	}
}

func TestNothingInClear(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, _ := localstore.New(dir)
	s := newEnc(t, l)
	marker := "MARKER-7f3e9a"
	uid := "uid-1234@example.org"
	item := []byte("BEGIN:VEVENT\nUID:" + uid + "\nSUMMARY:" + marker + "\nEND:VEVENT\n")
	k, h := objKey(item)
	if _, err := s.Put(ctx, k, item, sink.Cond{IfNoneMatch: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "users/alice/state.json", []byte(`{"uid":"`+uid+`","h":"`+h+`"}`), sink.Cond{}); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Get(ctx, k)
	if err != nil || !bytes.Equal(got, item) {
		t.Fatalf("get: %q %v", got, err)
	}
	keys, err := s.List(ctx, "objects/")
	if err != nil || len(keys) != 1 || keys[0] != k {
		t.Fatalf("list objects/ = %v, %v", keys, err)
	}
	if keys, _ := s.List(ctx, k); len(keys) != 1 {
		t.Fatalf("list exact = %v", keys)
	}
	if keys, _ := s.List(ctx, "objects/"+h[:2]+"/"); len(keys) != 1 {
		t.Fatalf("list dir = %v", keys)
	}
	AssertNoSecrets(t, dir, marker, h, uid)
}

// AssertNoSecrets fails when a file below dir (its content or name)
// contains any of secrets.
func AssertNoSecrets(t testing.TB, dir string, secrets ...string) {
	t.Helper()
	n := 0
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		n++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, sec := range secrets {
			if bytes.Contains(b, []byte(sec)) || strings.Contains(p, sec) {
				t.Errorf("%s contains %q", p, sec)
			}
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("walk %s: %d files, %v", dir, n, err)
	}
}

func snapshotFiles(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			b, _ := os.ReadFile(p)
			out[p] = b
		}
		return err
	})
	return out
}

func TestWrongPassphraseChangesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, _ := localstore.New(dir)
	s := newEnc(t, l)
	s.Put(ctx, "head.json", []byte("{}"), sink.Cond{})
	before := snapshotFiles(t, dir)
	if _, err := Open(ctx, l, "wrong"); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := Open(ctx, l, ""); !errors.Is(err, ErrNoPassphrase) {
		t.Fatalf("no passphrase: %v", err)
	}
	after := snapshotFiles(t, dir)
	if len(before) != len(after) {
		t.Fatalf("files changed: %d -> %d", len(before), len(after))
	}
	for p, b := range before {
		if !bytes.Equal(after[p], b) {
			t.Errorf("%s changed", p)
		}
	}
}

func TestKeysRoundTrip(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	s := newEnc(t, mem)
	s.Put(ctx, "head.json", []byte("hello"), sink.Cond{})
	first := s.KeyID()
	id2, err := s.AddKey(ctx, "correct horse", "second", KeyInfo{User: "bob"}, testKDF)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddKey(ctx, "not it", "x", KeyInfo{}, testKDF); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("add with wrong current passphrase: %v", err)
	}
	infos, err := s.Keys(ctx)
	if err != nil || len(infos) != 2 {
		t.Fatalf("keys: %v %v", infos, err)
	}
	s2, err := Open(ctx, mem, "second")
	if err != nil || s2.KeyID() != id2 {
		t.Fatalf("open with second: %v", err)
	}
	if b, _, err := s2.Get(ctx, "head.json"); err != nil || string(b) != "hello" {
		t.Fatalf("read with second key: %q %v", b, err)
	}
	if err := s2.RemoveKey(ctx, id2); err == nil {
		t.Fatal("removed the key in use")
	}
	if err := s2.RemoveKey(ctx, first); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, mem, "correct horse"); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("removed passphrase still opens: %v", err)
	}
	id3, err := s2.ChangePassphrase(ctx, "second", "third", KeyInfo{User: "bob"}, testKDF)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, mem, "second"); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("old passphrase still opens: %v", err)
	}
	s3, err := Open(ctx, mem, "third")
	if err != nil || s3.KeyID() != id3 {
		t.Fatalf("open with third: %v", err)
	}
	if infos, _ := s3.Keys(ctx); len(infos) != 1 {
		t.Fatalf("keys after passwd: %v", infos)
	}
	if err := s3.RemoveKey(ctx, id3); err == nil {
		t.Fatal("removed the last key")
	}
	if b, _, err := s3.Get(ctx, "head.json"); err != nil || string(b) != "hello" {
		t.Fatalf("data after rotation: %q %v", b, err)
	}
}

// TestOpenAsTriesTheUsersKeyFirst: with one key file per colleague, a
// colleague's run derives one key (theirs) instead of trying the others'
// first; any passphrase still opens the store whatever the user.
func TestOpenAsTriesTheUsersKeyFirst(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	s := newEnc(t, mem) // alice's key, 0000000000000001
	var ids []string
	for _, u := range []string{"bob", "cleo", "dan"} {
		id, err := s.AddKey(ctx, "correct horse", u+" pass", KeyInfo{User: u}, testKDF)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, tc := range []struct {
		user, pass, id string
		derive         int64
	}{
		{"dan", "dan pass", ids[2], 1},
		{"alice", "correct horse", FirstKeyID, 1},
		{"dan", "correct horse", FirstKeyID, 0}, // dan's key is tried first, then the others
		{"", "dan pass", ids[2], 0},
	} {
		before := derivations.Load()
		o, err := OpenAs(ctx, mem, tc.pass, tc.user)
		if err != nil || o.KeyID() != tc.id {
			t.Fatalf("OpenAs(%q, %q): %v", tc.pass, tc.user, err)
		}
		if n := derivations.Load() - before; tc.derive > 0 && n != tc.derive {
			t.Errorf("OpenAs(%q, %q) derived %d keys, want %d", tc.pass, tc.user, n, tc.derive)
		}
	}
	before := derivations.Load()
	if _, err := OpenAs(ctx, mem, "wrong", "bob"); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if n := derivations.Load() - before; n != 4 {
		t.Errorf("a wrong passphrase tried %d key files, want all 4", n)
	}
}

func TestVerifyFindsEveryFlippedByte(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, _ := localstore.New(dir)
	s := newEnc(t, l)
	item := []byte("BEGIN:VCARD\nEND:VCARD\n")
	k, _ := objKey(item)
	s.Put(ctx, k, item, sink.Cond{})
	s.Put(ctx, "revisions/000000000001.json", []byte(`{"rev":1}`), sink.Cond{})
	s.Put(ctx, "head.json", []byte(`{"rev":1}`), sink.Cond{})
	if _, err := s.AddKey(ctx, "correct horse", "other", KeyInfo{}, testKDF); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Verify(ctx); err != nil || len(p) != 0 {
		t.Fatalf("clean store: %v %v", p, err)
	}
	files := snapshotFiles(t, dir)
	for path, b := range files {
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		for _, at := range []int{0, len(b) / 2, len(b) - 1} {
			flipped := bytes.Clone(b)
			flipped[at] ^= 0x01
			os.WriteFile(path, flipped, 0o644)
			p, err := s.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(p) != 1 || p[0].Key != rel {
				t.Errorf("%s byte %d flipped: problems %v", rel, at, p)
			}
			os.WriteFile(path, b, 0o644)
		}
	}
}

func TestConvert(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	item := []byte("BEGIN:VEVENT\nEND:VEVENT\n")
	k, _ := objKey(item)
	clear := map[string][]byte{k: item, "revisions/000000000001.json": []byte("r1"), "head.json": []byte("h"), "users/a/state.json": []byte("s")}
	for key, b := range clear {
		mem.Put(ctx, key, b, sink.Cond{})
	}
	if err := WriteMarker(ctx, mem, Marker{User: "admin"}); err != nil {
		t.Fatal(err)
	}
	s := newEnc(t, mem)
	// a colleague's (older) pstsync writes during the conversion: the
	// next pass takes it
	calls := 0
	_, err := Convert(ctx, s, func(done, total int) {
		calls++
		if calls == 1 {
			mem.Put(ctx, "revisions/000000000002.json", []byte("r2"), sink.Cond{})
			clear["revisions/000000000002.json"] = []byte("r2")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	all, _ := mem.List(ctx, "")
	for _, key := range all {
		if !strings.HasPrefix(key, "keys/") && !strings.HasPrefix(key, "data/") {
			t.Errorf("clear file left: %s", key)
		}
	}
	for key, b := range clear {
		got, _, err := s.Get(ctx, key)
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("%s after conversion: %q %v", key, got, err)
		}
	}
}

// FuzzKeyFile: key files are read from the store (untrusted bytes). What
// parses has a KDF within the bounds, and writes back to a key file that
// parses the same.
func FuzzKeyFile(f *testing.F) {
	ctx := context.Background()
	s := newEnc(f, memstore.New()) // a version-2 (argon2id) key file
	data, _, _ := s.inner.Get(ctx, KeysPrefix+FirstKeyID)
	f.Add(data)
	if _, err := s.AddKey(ctx, "correct horse", "scrypt", KeyInfo{}, testScryptKDF); err != nil {
		f.Fatal(err)
	}
	keys, _, _ := listKeyFiles(ctx, s.inner)
	for _, k := range keys {
		data, _, _ := s.inner.Get(ctx, k)
		f.Add(data)
	}
	for _, k := range []string{"0000000000000001", "6819a45a7093151a"} { // written by the base code
		data, err := os.ReadFile(filepath.Join("testdata", "v1store", "keys", k))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":2,"kdf":{"alg":"argon2id","time":1,"memory_kib":1099511627776,"threads":1}}`))
	f.Add([]byte(`{"version":3,"kdf":{"alg":"balloon"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		kf, err := parseKeyFile(b)
		if err != nil {
			return
		}
		if err := kf.KDF.check(); err != nil || kf.KDF.version() != kf.Version {
			t.Fatalf("parsed a key file with KDF %s, version %d: %v", kf.KDF, kf.Version, err)
		}
		if 128*kf.KDF.N*kf.KDF.R > maxKDFMemory || kf.KDF.MemoryKiB > maxKDFMemory>>10 {
			t.Fatalf("KDF %s over the memory bound", kf.KDF)
		}
		again, err := json.Marshal(kf)
		if err != nil {
			t.Fatal(err)
		}
		if kf2, err := parseKeyFile(again); err != nil || kf2.KDF != kf.KDF || kf2.Version != kf.Version {
			t.Fatalf("written back %s: %+v %v", again, kf2, err)
		}
		// bound the cost
		if kf.KDF.alg() == AlgScrypt {
			kf.KDF = testScryptKDF
		} else {
			kf.KDF = testKDF
		}
		_, _, _ = kf.unwrap("correct horse")
		_ = s.keyFileMACOK(kf)
	})
}

// FuzzOpen: sealed files and stored names are untrusted.
func FuzzOpen(f *testing.F) {
	s := newEnc(f, memstore.New())
	f.Add("head.json", s.seal("head.json", []byte("x")))
	f.Add("data/objects/ab/cd", []byte("pse1"))
	f.Fuzz(func(t *testing.T, key string, b []byte) {
		if plain, err := s.open(key, b); err == nil && !bytes.Equal(s.seal(key, plain)[:4], []byte(magic)) {
			t.Fatal("bad seal")
		}
		if lk, ok := s.inner2logical(key); ok && sink.CheckKey(lk) == nil {
			if back := s.outer(lk); back != key {
				t.Fatalf("outer(inner2logical(%q)) = %q", key, back)
			}
		}
	})
}

// TestDamagedKeyFileListedAndRemoved: a key file that cannot be used (cut
// short, changed, from a newer pstsync) is listed with why, not an error
// for the whole list, and can be removed; a missing one cannot.
func TestDamagedKeyFileListedAndRemoved(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	s := newEnc(t, mem)
	var ids []string
	for _, p := range []string{"second", "third", "fourth"} {
		id, err := s.AddKey(ctx, "correct horse", p, KeyInfo{User: p}, testKDF)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	cut, _, _ := mem.Get(ctx, KeysPrefix+ids[0])
	mem.Put(ctx, KeysPrefix+ids[0], cut[:len(cut)/2], sink.Cond{})
	changed, _, _ := mem.Get(ctx, KeysPrefix+ids[1])
	mem.Put(ctx, KeysPrefix+ids[1], bytes.Replace(changed, []byte(`"third"`), []byte(`"thief"`), 1), sink.Cond{})
	mem.Put(ctx, KeysPrefix+ids[2], []byte(`{"version": 3}`), sink.Cond{})
	infos, err := s.Keys(ctx)
	if err != nil || len(infos) != 4 {
		t.Fatalf("keys: %+v %v", infos, err)
	}
	problems := map[string]string{}
	for _, k := range infos {
		if k.Problem != "" {
			problems[k.ID] = k.Problem
		}
	}
	if len(problems) != 3 || !strings.Contains(problems[ids[1]], ErrTampered.Error()) || !strings.Contains(problems[ids[2]], "newer pstsync") {
		t.Fatalf("problems: %v", problems)
	}
	for _, id := range ids {
		if err := s.RemoveKey(ctx, id); err != nil {
			t.Fatalf("remove %s: %v", id, err)
		}
	}
	if infos, err := s.Keys(ctx); err != nil || len(infos) != 1 || infos[0].Problem != "" {
		t.Fatalf("keys after the removals: %+v %v", infos, err)
	}
	if err := WriteMarker(ctx, mem, Marker{User: "admin", Host: "pc", Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ids[0], "../data/head.json", "", strings.TrimPrefix(MarkerKey, KeysPrefix)} {
		if err := s.RemoveKey(ctx, id); err == nil || !strings.Contains(err.Error(), "no key") {
			t.Errorf("remove %q: %v", id, err)
		}
	}
}

// permute is permuteTo returning the name.
func (s *Store) permute(hexHash string, inverse bool) string {
	var out [64]byte
	s.permuteTo(&out, hexHash, inverse)
	return string(out[:])
}
