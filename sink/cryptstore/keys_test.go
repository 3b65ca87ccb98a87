package cryptstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/sink/localstore"
	"github.com/pstsync/pstsync/sink/memstore"
)

// copyV1Store copies testdata/v1store (written by the code before argon2id,
// see testdata/v1store.txt) into a new folder store.
func copyV1Store(t *testing.T) (string, *localstore.Store) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("testdata", "v1store")
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := localstore.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, l
}

// TestVersion1StoreOpens: a store whose key files were written before
// argon2id (scrypt, version 1) opens with either passphrase, decrypts its
// data, and passes verification: the key files' MACs still verify byte for
// byte with the KDF struct that knows argon2id.
func TestVersion1StoreOpens(t *testing.T) {
	ctx := context.Background()
	_, l := copyV1Store(t)
	item := []byte("BEGIN:VCARD\nVERSION:4.0\nUID:v1-marker\nFN:Version One\nEND:VCARD\n")
	k, _ := objKey(item)
	for _, tc := range []struct{ pass, id string }{
		{"correct horse", FirstKeyID},
		{"bob's", "6819a45a7093151a"},
	} {
		s, err := Open(ctx, l, tc.pass)
		if err != nil || s.KeyID() != tc.id {
			t.Fatalf("open with %q: %v", tc.pass, err)
		}
		if b, _, err := s.Get(ctx, "head.json"); err != nil || string(b) != `{"rev":1}` {
			t.Fatalf("head.json: %q %v", b, err)
		}
		if b, _, err := s.Get(ctx, k); err != nil || !bytes.Equal(b, item) {
			t.Fatalf("object: %q %v", b, err)
		}
		if p, err := s.Verify(ctx); err != nil || len(p) != 0 {
			t.Fatalf("verify: %v %v", p, err)
		}
		infos, err := s.Keys(ctx)
		if err != nil || len(infos) != 2 || infos[0].User != "alice" || infos[1].User != "bob" {
			t.Fatalf("keys: %+v %v", infos, err)
		}
	}
	for _, name := range []string{FirstKeyID, "6819a45a7093151a"} {
		data, _, err := l.Get(ctx, KeysPrefix+name)
		if err != nil {
			t.Fatal(err)
		}
		kf, err := parseKeyFile(data)
		if err != nil {
			t.Fatal(err)
		}
		if kf.Version != 1 || kf.KDF != testScryptKDF {
			t.Errorf("%s: version %d, KDF %s", name, kf.Version, kf.KDF)
		}
		canon, _ := json.MarshalIndent(kf, "", "  ")
		if !bytes.Equal(append(canon, '\n'), data) {
			t.Errorf("%s written back differs:\n%s", name, canon)
		}
	}
}

// TestChangePassphraseUpgradesToArgon2id: key passwd on a version-1
// (scrypt) key file replaces it by a version-2 argon2id one; the other
// scrypt key file keeps working beside it.
func TestChangePassphraseUpgradesToArgon2id(t *testing.T) {
	ctx := context.Background()
	_, l := copyV1Store(t)
	s, err := Open(ctx, l, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.ChangePassphrase(ctx, "correct horse", "new horse", KeyInfo{User: "alice"}, testKDF)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Get(ctx, KeysPrefix+FirstKeyID); !sink.IsNotExist(err) {
		t.Fatalf("the scrypt key file is still there: %v", err)
	}
	data, _, err := l.Get(ctx, KeysPrefix+id)
	if err != nil {
		t.Fatal(err)
	}
	kf, err := parseKeyFile(data)
	if err != nil || kf.Version != 2 || kf.KDF != testKDF {
		t.Fatalf("new key file: %+v %v\n%s", kf, err, data)
	}
	for _, pass := range []string{"new horse", "bob's"} {
		o, err := Open(ctx, l, pass)
		if err != nil {
			t.Fatalf("open with %q: %v", pass, err)
		}
		if b, _, err := o.Get(ctx, "head.json"); err != nil || string(b) != `{"rev":1}` {
			t.Fatalf("head.json with %q: %q %v", pass, b, err)
		}
		if p, err := o.Verify(ctx); err != nil || len(p) != 0 {
			t.Fatalf("verify with %q: %v %v", pass, p, err)
		}
	}
	if _, err := Open(ctx, l, "correct horse"); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("old passphrase: %v", err)
	}
}

// TestKeyFileFormat: an argon2id key file is version 2 and names its KDF;
// a scrypt one without Alg is version 1, in the fields it always had.
func TestKeyFileFormat(t *testing.T) {
	for _, k := range []KDF{DefaultKDF, ScryptKDF, testKDF, testScryptKDF} {
		if err := k.check(); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	master := randomBytes(masterKeyBytes)
	for _, tc := range []struct {
		kdf     KDF
		version int
		kdfJSON string
	}{
		{testKDF, 2, `{"alg":"argon2id","time":1,"memory_kib":64,"threads":1}`},
		{DefaultKDF, 2, `{"alg":"argon2id","time":5,"memory_kib":7168,"threads":1}`},
		{testScryptKDF, 1, `{"n":1024,"r":8,"p":1}`},
		{KDF{Alg: AlgScrypt, N: 1024, R: 8, P: 1}, 2, `{"alg":"scrypt","n":1024,"r":8,"p":1}`},
	} {
		kf, data, err := newKeyFile(master, "p", KeyInfo{User: "u"}, tc.kdf)
		if err != nil {
			t.Fatal(err)
		}
		var raw struct {
			Version int             `json:"version"`
			KDF     json.RawMessage `json:"kdf"`
		}
		if err := json.Unmarshal(data, &raw); err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		json.Compact(&compact, raw.KDF)
		if raw.Version != tc.version || compact.String() != tc.kdfJSON {
			t.Errorf("%s: version %d, kdf %s; want %d, %s", tc.kdf, raw.Version, compact.String(), tc.version, tc.kdfJSON)
		}
		back, err := parseKeyFile(data)
		if err != nil || back.KDF != tc.kdf {
			t.Fatalf("%s: parsed back %+v %v", tc.kdf, back, err)
		}
		got, ok, err := kf.unwrap("p")
		if err != nil || !ok || !bytes.Equal(got, master) {
			t.Fatalf("%s: unwrap %v %v", tc.kdf, ok, err)
		}
		if _, ok, _ := kf.unwrap("q"); ok {
			t.Fatalf("%s: a wrong passphrase unwraps", tc.kdf)
		}
	}
}

// TestParseKeyFileBounds: a key file comes from a shared store; absurd or
// mixed-up KDF parameters are refused, naming them, before anything is
// derived or allocated.
func TestParseKeyFileBounds(t *testing.T) {
	file := func(version int, kdf string) []byte {
		return []byte(`{"version":` + string(rune('0'+version)) + `,"info":{"id":"x","user":"","host":"","created":"0001-01-01T00:00:00Z"},"kdf":` + kdf + `,"salt":"AAAA","sealed":"AAAA"}`)
	}
	for _, tc := range []struct {
		name    string
		data    []byte
		wantErr string // "" parses
	}{
		{"v1 scrypt", file(1, `{"n":32768,"r":8,"p":1}`), ""},
		{"v2 argon2id", file(2, `{"alg":"argon2id","time":1,"memory_kib":47104,"threads":1}`), ""},
		{"v2 argon2id at the bounds", file(2, `{"alg":"argon2id","time":10,"memory_kib":1048576,"threads":16}`), ""},
		{"v2 scrypt", file(2, `{"alg":"scrypt","n":32768,"r":8,"p":1}`), ""},
		{"v1 scrypt 1 GiB", file(1, `{"n":1048576,"r":8,"p":1}`), ""},
		{"argon2id memory over 1 GiB", file(2, `{"alg":"argon2id","time":1,"memory_kib":1048577,"threads":1}`), "memory 1048577 KiB"},
		{"argon2id memory huge", file(2, `{"alg":"argon2id","time":1,"memory_kib":1099511627776,"threads":1}`), "memory 1099511627776 KiB"},
		{"argon2id memory under 8 per thread", file(2, `{"alg":"argon2id","time":1,"memory_kib":15,"threads":2}`), "memory 15 KiB"},
		{"argon2id time 0", file(2, `{"alg":"argon2id","time":0,"memory_kib":64,"threads":1}`), "time 0"},
		{"argon2id time 11", file(2, `{"alg":"argon2id","time":11,"memory_kib":64,"threads":1}`), "time 11"},
		{"argon2id time negative", file(2, `{"alg":"argon2id","time":-1,"memory_kib":64,"threads":1}`), "time -1"},
		{"argon2id threads 0", file(2, `{"alg":"argon2id","time":1,"memory_kib":64}`), "threads 0"},
		{"argon2id threads 17", file(2, `{"alg":"argon2id","time":1,"memory_kib":1024,"threads":17}`), "threads 17"},
		{"argon2id threads 256", file(2, `{"alg":"argon2id","time":1,"memory_kib":4096,"threads":256}`), "threads 256"},
		{"argon2id with scrypt fields", file(2, `{"alg":"argon2id","n":1024,"time":1,"memory_kib":64,"threads":1}`), "scrypt parameters"},
		{"argon2id in version 1", file(1, `{"alg":"argon2id","time":1,"memory_kib":64,"threads":1}`), "version 1 with KDF argon2id"},
		{"scrypt without alg in version 2", file(2, `{"n":1024,"r":8,"p":1}`), "version 2 with KDF scrypt"},
		{"scrypt with argon2id fields", file(1, `{"n":1024,"r":8,"p":1,"threads":1}`), "argon2id parameters"},
		{"scrypt 4 GiB", file(1, `{"n":4194304,"r":8,"p":1}`), "4096 MiB"},
		{"scrypt N over 2^22", file(1, `{"n":8388608,"r":1,"p":1}`), "N 8388608"},
		{"scrypt N not a power of two", file(1, `{"n":1000,"r":8,"p":1}`), "N 1000"},
		{"scrypt p 17", file(1, `{"n":1024,"r":8,"p":17}`), "p 17"},
		{"scrypt r 0", file(1, `{"n":1024,"r":0,"p":1}`), "r 0"},
		{"unknown alg", file(2, `{"alg":"balloon","time":1}`), `unknown KDF "balloon"`},
		{"version 3 with new fields", file(3, `{"alg":"balloon","rounds":7}`), "version 3 (a newer pstsync may have written it)"},
		{"version 0", file(0, `{"n":1024,"r":8,"p":1}`), "version 0"},
		{"unknown field", file(2, `{"alg":"argon2id","time":1,"memory_kib":64,"threads":1,"lanes":4}`), `unknown field "lanes"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := derivations.Load()
			kf, err := parseKeyFile(tc.data)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("parsed: %+v", kf)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q does not say %q", err, tc.wantErr)
			}
			if derivations.Load() != before {
				t.Fatal("parsing derived a key")
			}
		})
	}
}

// TestHostileKeyFile: a key file asking for 1 TiB is named in the error of
// a run it would stop (nothing derived from it) and in check's report; a
// store with a good key file beside it still opens.
func TestHostileKeyFile(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	s := newEnc(t, mem)
	good, _, _ := mem.Get(ctx, KeysPrefix+FirstKeyID)
	var kf map[string]any
	if err := json.Unmarshal(good, &kf); err != nil {
		t.Fatal(err)
	}
	kf["kdf"] = map[string]any{"alg": "argon2id", "time": 1, "memory_kib": 1 << 30, "threads": 1}
	hostile, _ := json.Marshal(kf)
	const bad = KeysPrefix + "badbadbadbadbad0"
	mem.Put(ctx, bad, hostile, sink.Cond{})
	before := derivations.Load()
	if _, err := Open(ctx, mem, "correct horse"); err != nil {
		t.Fatalf("open beside a hostile key file: %v", err)
	}
	if p, err := s.Verify(ctx); err != nil || len(p) != 1 || p[0].Key != bad || !strings.Contains(p[0].Err.Error(), "memory 1073741824 KiB") {
		t.Fatalf("verify: %v %v", p, err)
	}
	mem.Delete(ctx, KeysPrefix+FirstKeyID)
	_, err := Open(ctx, mem, "correct horse")
	if !errors.Is(err, ErrPassphrase) || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "argon2id memory 1073741824 KiB outside") {
		t.Fatalf("open with only the hostile key file: %v", err)
	}
	if n := derivations.Load() - before; n > 1 {
		t.Fatalf("%d keys derived, want 1 (the good key file's)", n)
	}
}

// BenchmarkDerive: one key derivation (what opening a store costs once per
// run) with the default argon2id, the scrypt of version-1 key files, and
// OWASP's other argon2id minimums of 19 MiB (t=2) and 46 MiB (t=1) for
// comparison.
func BenchmarkDerive(b *testing.B) {
	salt := randomBytes(32)
	for _, tc := range []struct {
		name string
		kdf  KDF
	}{
		{"argon2id-default-7MiB-t5", DefaultKDF},
		{"argon2id-19MiB-t2", KDF{Alg: AlgArgon2id, Time: 2, MemoryKiB: 19 << 10, Threads: 1}},
		{"argon2id-46MiB-t1", KDF{Alg: AlgArgon2id, Time: 1, MemoryKiB: 46 << 10, Threads: 1}},
		{"scrypt-v1-N2^15-r8-p1", ScryptKDF},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := tc.kdf.derive("correct horse", salt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDefaultKDFAtOWASPMinimum: new key files are derived at no less than
// one of the argon2id forms OWASP's Password Storage Cheat Sheet lists as
// its minimum (an equal level of defense each, trading memory for passes).
func TestDefaultKDFAtOWASPMinimum(t *testing.T) {
	owasp := []struct{ memoryKiB, time int }{
		{47104, 1}, {19456, 2}, {12288, 3}, {9216, 4}, {7168, 5},
	}
	k := DefaultKDF
	if k.Alg != AlgArgon2id || k.Threads < 1 {
		t.Fatalf("DefaultKDF = %s, want argon2id", k)
	}
	if err := k.check(); err != nil {
		t.Fatalf("DefaultKDF %s: %v", k, err)
	}
	for _, f := range owasp {
		if k.MemoryKiB >= f.memoryKiB && k.Time >= f.time {
			return
		}
	}
	t.Fatalf("DefaultKDF %s is below every argon2id minimum of OWASP", k)
}
