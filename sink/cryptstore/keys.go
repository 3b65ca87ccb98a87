package cryptstore

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pstsync/pstsync/sink"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"
)

// KDF is how a key file derives its key from a passphrase: argon2id
// (Time, MemoryKiB, Threads) or scrypt (N, R, P). Alg names it; an empty Alg
// is scrypt, as in the version-1 key files written before argon2id (their
// "kdf" holds n, r and p only, and must marshal to the same bytes for their
// MAC to verify: hence the omitempty).
type KDF struct {
	Alg string `json:"alg,omitempty"`
	// scrypt
	N int `json:"n,omitempty"`
	R int `json:"r,omitempty"`
	P int `json:"p,omitempty"`
	// argon2id
	Time      int `json:"time,omitempty"`
	MemoryKiB int `json:"memory_kib,omitempty"`
	Threads   int `json:"threads,omitempty"`
}

// KDF algorithms.
const (
	AlgScrypt   = "scrypt"
	AlgArgon2id = "argon2id"
)

// DefaultKDF is argon2id at OWASP's minimum for password storage, in the
// form of it with the least memory (7 MiB, t=5, one thread). OWASP lists
// five forms, from 46 MiB with one pass to 7 MiB with five, as giving an
// equal level of defense (a trade of memory for passes). A run opens the
// store once (a scheduled sync every few minutes; a no-change sync takes
// under a second), so this is its one fixed cost, and the forms with more
// memory cost more than their passes: in a fresh process most of 46 MiB's
// cost is the kernel handing out the memory (about 90 ms there, 19 MiB
// with two passes about 45 ms, 7 MiB with five about 26 ms), and inside a
// sync, which keeps the other core busy reading files, 19 MiB took about
// 72 ms of CPU and 7 MiB about 36 ms (CPU profiles of eight encrypted first
// syncs each). ScryptKDF cost 115-130 ms and is below OWASP's scrypt
// minimum (N=2^15 asks p=3).
var DefaultKDF = KDF{Alg: AlgArgon2id, Time: 5, MemoryKiB: 7 << 10, Threads: 1}

// ScryptKDF is the scrypt cost of the key files written before argon2id
// (version 1; they keep working, and key passwd replaces one by argon2id).
var ScryptKDF = KDF{N: 1 << 15, R: 8, P: 1}

// Bounds on a key file's KDF parameters. A key file comes from a shared
// store: a damaged or hostile one must not make a run allocate gigabytes or
// spin for minutes. Both algorithms get at most 1 GiB of memory.
const (
	maxKDFMemory  = 1 << 30
	maxArgonTime  = 10
	maxKDFThreads = 16
	maxScryptN    = 1 << 22
)

func (k KDF) alg() string {
	if k.Alg == "" {
		return AlgScrypt
	}
	return k.Alg
}

// String describes k, e.g. "argon2id (m=7168 KiB, t=5, p=1)".
func (k KDF) String() string {
	switch k.alg() {
	case AlgArgon2id:
		return fmt.Sprintf("argon2id (m=%d KiB, t=%d, p=%d)", k.MemoryKiB, k.Time, k.Threads)
	case AlgScrypt:
		return fmt.Sprintf("scrypt (N=%d, r=%d, p=%d)", k.N, k.R, k.P)
	}
	return fmt.Sprintf("%q", k.Alg)
}

// check refuses parameters outside the bounds (before anything is
// allocated for them).
func (k KDF) check() error {
	switch k.alg() {
	case AlgArgon2id:
		switch {
		case k.N != 0 || k.R != 0 || k.P != 0:
			return fmt.Errorf("argon2id with scrypt parameters (n, r, p)")
		case k.Time < 1 || k.Time > maxArgonTime:
			return fmt.Errorf("argon2id time %d outside 1..%d", k.Time, maxArgonTime)
		case k.Threads < 1 || k.Threads > maxKDFThreads:
			return fmt.Errorf("argon2id threads %d outside 1..%d", k.Threads, maxKDFThreads)
		case k.MemoryKiB < 8*k.Threads || k.MemoryKiB > maxKDFMemory>>10:
			return fmt.Errorf("argon2id memory %d KiB outside %d..%d KiB (1 GiB)", k.MemoryKiB, 8*k.Threads, maxKDFMemory>>10)
		}
	case AlgScrypt:
		switch {
		case k.Time != 0 || k.MemoryKiB != 0 || k.Threads != 0:
			return fmt.Errorf("scrypt with argon2id parameters (time, memory_kib, threads)")
		case k.N < 2 || k.N&(k.N-1) != 0 || k.N > maxScryptN:
			return fmt.Errorf("scrypt N %d is not a power of two in 2..%d", k.N, maxScryptN)
		case k.R < 1 || k.P < 1 || k.P > maxKDFThreads || k.R*k.P >= 1<<14:
			return fmt.Errorf("scrypt r %d, p %d outside r >= 1, p 1..%d, r*p < 16384", k.R, k.P, maxKDFThreads)
		case 128*k.N*k.R > maxKDFMemory:
			return fmt.Errorf("scrypt N %d, r %d need %d MiB, over 1 GiB", k.N, k.R, 128*k.N*k.R>>20)
		}
	default:
		return fmt.Errorf("unknown KDF %q (a newer pstsync may have written it)", k.Alg)
	}
	return nil
}

// version is the key file version k is written in: 1 for scrypt without
// Alg (what pstsync wrote before argon2id), else 2.
func (k KDF) version() int {
	if k.Alg == "" {
		return 1
	}
	return 2
}

// KeyInfo describes a key file (never its secret).
type KeyInfo struct {
	ID      string    `json:"id"`
	User    string    `json:"user"`
	Host    string    `json:"host"`
	Created time.Time `json:"created"`
	// Problem, in a listing (never in a key file), says why a key file
	// cannot be used: damaged, changed, or from a newer pstsync.
	Problem string `json:"-"`
}

// keyFile is keys/<ID>. Version 1 has a scrypt KDF without Alg; version 2
// names its KDF (argon2id, or scrypt).
type keyFile struct {
	Version int     `json:"version"`
	Info    KeyInfo `json:"info"`
	KDF     KDF     `json:"kdf"`
	Salt    []byte  `json:"salt"`
	// Sealed is nonce || XChaCha20-Poly1305(master key) under the key
	// the KDF derives from the passphrase and the salt.
	Sealed []byte `json:"sealed"`
	// MAC is HMAC-SHA256 under the master MAC key of the file with MAC
	// empty: check finds a changed key file even when its passphrase is
	// not known.
	MAC []byte `json:"mac,omitempty"`
}

func (kf *keyFile) macBytes() []byte {
	c := *kf
	c.MAC = nil
	b, _ := json.Marshal(&c)
	return b
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("cryptstore: no randomness: " + err.Error())
	}
	return b
}

// derivations counts key derivations (for tests).
var derivations atomic.Int64

func (k KDF) derive(passphrase string, salt []byte) ([]byte, error) {
	if err := k.check(); err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	derivations.Add(1)
	if k.alg() == AlgArgon2id {
		return argon2.IDKey([]byte(passphrase), salt, uint32(k.Time), uint32(k.MemoryKiB), uint8(k.Threads), 32), nil
	}
	return scrypt.Key([]byte(passphrase), salt, k.N, k.R, k.P, 32)
}

// newKeyFile wraps master under passphrase.
func newKeyFile(master []byte, passphrase string, info KeyInfo, kdf KDF) (*keyFile, []byte, error) {
	kf := &keyFile{Version: kdf.version(), Info: info, KDF: kdf, Salt: randomBytes(32)}
	kek, err := kdf.derive(passphrase, kf.Salt)
	if err != nil {
		return nil, nil, err
	}
	a, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return nil, nil, err
	}
	nonce := randomBytes(a.NonceSize())
	kf.Sealed = a.Seal(nonce, nonce, master, []byte("pstsync master key"))
	m := hmac.New(sha256.New, subKey(macKeyOf(master), "key files"))
	m.Write(kf.macBytes())
	kf.MAC = m.Sum(nil)
	data, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	return kf, append(data, '\n'), nil
}

// unwrap returns the master key when passphrase opens kf.
func (kf *keyFile) unwrap(passphrase string) ([]byte, bool, error) {
	kek, err := kf.KDF.derive(passphrase, kf.Salt)
	if err != nil {
		return nil, false, err
	}
	a, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return nil, false, err
	}
	if len(kf.Sealed) < a.NonceSize()+a.Overhead() {
		return nil, false, errors.New("key file: sealed key cut short")
	}
	master, err := a.Open(nil, kf.Sealed[:a.NonceSize()], kf.Sealed[a.NonceSize():], []byte("pstsync master key"))
	if err != nil {
		return nil, false, nil
	}
	return master, true, nil
}

// parseKeyFile parses a key file and checks its KDF's bounds. The version
// is read first, so that a newer version's fields are reported as such
// rather than as unknown fields.
func parseKeyFile(data []byte) (*keyFile, error) {
	var v struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if v.Version != 1 && v.Version != 2 {
		return nil, fmt.Errorf("key file: version %d (a newer pstsync may have written it)", v.Version)
	}
	var kf keyFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&kf); err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if err := kf.KDF.check(); err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if kf.KDF.version() != kf.Version {
		return nil, fmt.Errorf("key file: version %d with KDF %s", kf.Version, kf.KDF)
	}
	return &kf, nil
}

// newID returns a random key file ID.
func newID() string { return hex.EncodeToString(randomBytes(8)) }

// Init makes st an encrypted store: a new master key and a first key file
// for passphrase. It refuses a store that has key files already. It writes
// nothing else: converting existing data is Convert's job.
func Init(ctx context.Context, st sink.Store, passphrase string, info KeyInfo, kdf KDF) (*Store, error) {
	if err := checkInit(ctx, st, passphrase); err != nil {
		return nil, err
	}
	master, id, err := createKey(ctx, st, passphrase, info, kdf)
	if err != nil {
		return nil, err
	}
	return newStore(st, master, id)
}

// checkInit refuses to initialise without a passphrase or a store that
// has key files already.
func checkInit(ctx context.Context, st sink.Store, passphrase string) error {
	if passphrase == "" {
		return ErrNoPassphrase
	}
	enc, err := IsEncrypted(ctx, st)
	if err != nil {
		return err
	}
	if enc {
		return fmt.Errorf("store %s: %w", st, ErrEncrypted)
	}
	return nil
}

// createKey makes a new master key and writes the first key file for it.
// The first key file has a fixed name, written put-if-absent: of two who
// encrypt the same store at once, one master key wins and the other opens
// it (with the same passphrase) instead; createKey then returns the
// winner's master key and key ID.
func createKey(ctx context.Context, st sink.Store, passphrase string, info KeyInfo, kdf KDF) ([]byte, string, error) {
	master := randomBytes(masterKeyBytes)
	info.ID = FirstKeyID
	_, data, err := newKeyFile(master, passphrase, info, kdf)
	if err != nil {
		return nil, "", err
	}
	if _, err := st.Put(ctx, KeysPrefix+FirstKeyID, data, sink.Cond{IfNoneMatch: true}); err != nil {
		if sink.IsPreconditionFailed(err) {
			kr, err := readKeyFiles(ctx, st, passphrase)
			if err != nil {
				return nil, "", err
			}
			return kr.unlock(passphrase, "")
		}
		return nil, "", fmt.Errorf("cryptstore: writing key file: %w", err)
	}
	return master, FirstKeyID, nil
}

// FirstKeyID is the ID of the key file Init writes.
const FirstKeyID = "0000000000000001"

// Open opens the encrypted store st with passphrase. It errors with
// ErrNoPassphrase when passphrase is empty and ErrPassphrase when no key
// file opens with it; it writes nothing.
func Open(ctx context.Context, st sink.Store, passphrase string) (*Store, error) {
	return OpenAs(ctx, st, passphrase, "")
}

// OpenAs is Open trying the key files made for user first (KeyInfo.User):
// each key file tried costs a key derivation (a fraction of a second), and
// an office store has one per colleague.
func OpenAs(ctx context.Context, st sink.Store, passphrase, user string) (*Store, error) {
	kr, err := readKeyFiles(ctx, st, passphrase)
	if err != nil {
		return nil, err
	}
	master, id, err := kr.unlock(passphrase, user)
	if err != nil {
		return nil, err
	}
	return newStore(st, master, id)
}

// keyRing holds the key files of a store, read but not yet opened.
type keyRing struct {
	keys  []string   // their names
	files []*keyFile // nil for a file that does not parse
	bad   []string   // why files did not parse
}

// readKeyFiles reads the key files of st (cheap: no key derivation). It
// errors when st has none or passphrase is empty (ErrNoPassphrase).
func readKeyFiles(ctx context.Context, st sink.Store, passphrase string) (*keyRing, error) {
	keys, _, err := listKeyFiles(ctx, st)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("store %s is not encrypted", st)
	}
	if passphrase == "" {
		return nil, ErrNoPassphrase
	}
	kr := &keyRing{keys: keys, files: make([]*keyFile, len(keys))}
	for i, k := range keys {
		data, _, err := st.Get(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("cryptstore: reading %s: %w", k, err)
		}
		if kr.files[i], err = parseKeyFile(data); err != nil {
			kr.bad = append(kr.bad, k+": "+err.Error())
		}
	}
	return kr, nil
}

// unlock returns the master key and the key ID of the first key file that
// opens with passphrase, trying user's key files first; each costs a key
// derivation. It errors with ErrPassphrase when none opens.
func (kr *keyRing) unlock(passphrase, user string) ([]byte, string, error) {
	bad := slices.Clone(kr.bad)
	order := make([]int, 0, len(kr.keys))
	for _, mine := range []bool{true, false} {
		for i, kf := range kr.files {
			if kf != nil && (user != "" && kf.Info.User == user) == mine {
				order = append(order, i)
			}
		}
	}
	for _, i := range order {
		k, kf := kr.keys[i], kr.files[i]
		master, ok, err := kf.unwrap(passphrase)
		if err != nil {
			bad = append(bad, k+": "+err.Error())
			continue
		}
		if !ok {
			continue
		}
		return master, strings.TrimPrefix(k, KeysPrefix), nil
	}
	if len(bad) > 0 {
		return nil, "", fmt.Errorf("%w (unreadable key files: %s)", ErrPassphrase, strings.Join(bad, "; "))
	}
	return nil, "", fmt.Errorf("%w: no key file opens with it (tried %s; a damaged key file fails the same way)", ErrPassphrase, strings.Join(kr.keys, ", "))
}

func (s *Store) addKey(ctx context.Context, master []byte, passphrase string, info KeyInfo, kdf KDF) (string, error) {
	if passphrase == "" {
		return "", ErrNoPassphrase
	}
	info.ID = newID()
	_, data, err := newKeyFile(master, passphrase, info, kdf)
	if err != nil {
		return "", err
	}
	if _, err := s.inner.Put(ctx, KeysPrefix+info.ID, data, sink.Cond{IfNoneMatch: true}); err != nil {
		return "", fmt.Errorf("cryptstore: writing key file: %w", err)
	}
	return info.ID, nil
}

// Keys lists the key files.
func (s *Store) Keys(ctx context.Context) ([]KeyInfo, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	keys, _, err := listKeyFiles(ctx, s.inner)
	if err != nil {
		return nil, err
	}
	var out []KeyInfo
	for _, k := range keys {
		id := strings.TrimPrefix(k, KeysPrefix)
		kf, err := s.readKeyFile(ctx, k)
		if errors.Is(err, errKeyFileRead) {
			return nil, err
		}
		if err != nil {
			// Listed all the same, so that it can be seen and removed.
			out = append(out, KeyInfo{ID: id, Problem: strings.TrimPrefix(err.Error(), k+": ")})
			continue
		}
		info := kf.Info
		info.ID = id
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b KeyInfo) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// errKeyFileRead marks readKeyFile's errors of reading the store (not of
// what was read).
var errKeyFileRead = errors.New("reading a key file")

func (s *Store) readKeyFile(ctx context.Context, key string) (*keyFile, error) {
	data, _, err := s.inner.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("cryptstore: reading %s: %w", key, errors.Join(errKeyFileRead, err))
	}
	kf, err := parseKeyFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	canon, _ := json.MarshalIndent(kf, "", "  ")
	if !s.keyFileMACOK(kf) || !bytes.Equal(append(canon, '\n'), data) {
		return nil, fmt.Errorf("%s: %w", key, ErrTampered)
	}
	return kf, nil
}

func (s *Store) keyFileMACOK(kf *keyFile) bool {
	m := hmac.New(sha256.New, subKey(s.macKey, "key files"))
	m.Write(kf.macBytes())
	return hmac.Equal(m.Sum(nil), kf.MAC)
}

// AddKey adds a key file for passphrase, opening the same master key, and
// returns its ID. currentPassphrase is the passphrase that opened s (the
// master key is taken from its key file).
func (s *Store) AddKey(ctx context.Context, currentPassphrase, passphrase string, info KeyInfo, kdf KDF) (string, error) {
	if err := s.wait(ctx); err != nil {
		return "", err
	}
	kf, err := s.readKeyFile(ctx, KeysPrefix+s.keyID)
	if err != nil {
		return "", err
	}
	master, ok, err := kf.unwrap(currentPassphrase)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", ErrPassphrase
	}
	return s.addKey(ctx, master, passphrase, info, kdf)
}

// RemoveKey deletes key file id, a damaged one too. It refuses the key
// that opened the store (use ChangePassphrase, or open with another
// passphrase) and so never removes the last one.
func (s *Store) RemoveKey(ctx context.Context, id string) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	if id == s.keyID {
		return fmt.Errorf("key %s is the one in use; open the store with another passphrase to remove it (the last key is never removed)", id)
	}
	// Only a key file (damaged or not) that key list shows: not the
	// conversion marker beside them, nor a name outside keys/.
	keys, _, err := listKeyFiles(ctx, s.inner)
	if err != nil {
		return err
	}
	if !slices.Contains(keys, KeysPrefix+id) {
		return fmt.Errorf("no key %q (pstsync key list shows the keys)", id)
	}
	return s.inner.Delete(ctx, KeysPrefix+id)
}

// ChangePassphrase replaces the key file in use by one for newPassphrase
// (written first, so a crash leaves both) and returns the new ID.
func (s *Store) ChangePassphrase(ctx context.Context, currentPassphrase, newPassphrase string, info KeyInfo, kdf KDF) (string, error) {
	id, err := s.AddKey(ctx, currentPassphrase, newPassphrase, info, kdf)
	if err != nil {
		return "", err
	}
	old := s.keyID
	s.keyID = id
	if err := s.inner.Delete(ctx, KeysPrefix+old); err != nil {
		return id, fmt.Errorf("cryptstore: removing the old key file %s: %w", old, err)
	}
	return id, nil
}

// Problem is a file that failed verification.
type Problem struct {
	Key string // the name in the underlying store
	Err error
}

// Verify reads every key file and data file and checks its MAC or
// authentication tag; it reports each failure by name.
func (s *Store) Verify(ctx context.Context) ([]Problem, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	var out []Problem
	keys, _, err := listKeyFiles(ctx, s.inner)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if _, err := s.readKeyFile(ctx, k); err != nil {
			out = append(out, Problem{Key: k, Err: err})
		}
	}
	data, err := s.inner.List(ctx, DataPrefix)
	if err != nil {
		return nil, err
	}
	for _, k := range data {
		lk, ok := s.inner2logical(k)
		if !ok {
			out = append(out, Problem{Key: k, Err: errors.New("not a name this store writes")})
			continue
		}
		b, _, err := s.inner.Get(ctx, k)
		if err != nil {
			if sink.IsNotExist(err) {
				continue
			}
			return nil, err
		}
		if _, err := s.open(lk, b); err != nil {
			out = append(out, Problem{Key: k, Err: fmt.Errorf("%s: %w", lk, ErrTampered)})
		}
	}
	others, err := s.inner.List(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, k := range others {
		if !strings.HasPrefix(k, KeysPrefix) && !strings.HasPrefix(k, DataPrefix) {
			out = append(out, Problem{Key: k, Err: errors.New("a clear-text file in an encrypted store (left by a conversion or an old pstsync)")})
		}
	}
	return out, nil
}
