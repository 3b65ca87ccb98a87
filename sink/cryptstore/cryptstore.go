// Package cryptstore is a sink.Store that encrypts and authenticates
// everything it keeps in another store: the encrypted snapshot store.
//
// Keys work as in restic. A random master key (an encryption key for
// XChaCha20-Poly1305 and a MAC key) is made once, when the store is
// encrypted. It is stored only wrapped: each key file keys/<ID> holds the
// master key sealed with a key derived from one passphrase by argon2id
// (scrypt in the version-1 key files written before), so several
// passphrases open the same store, and a passphrase is changed or removed
// by writing or deleting a small key file, without touching the data. When
// every passphrase is lost nothing can be recovered.
//
// Layout in the underlying store:
//
//	keys/<ID>                        a key file (JSON): KDF parameters and
//	                                 salt, the sealed master key, and a MAC
//	                                 under the master key (check verifies it)
//	data/<key>                       the sealed bytes of the snapshot key <key>
//	data/objects/<gg>/<name>         an object: <name> is a keyed permutation
//	                                 (4-round Feistel of HMAC-SHA256 under the
//	                                 master MAC key) of its content hash, so a
//	                                 name neither reveals nor confirms content
//
// A sealed file is "pse1", a random 24-byte nonce and the ciphertext with
// its tag; the snapshot key is the additional data, so a file moved to
// another name fails authentication. ETags are those of the sealed bytes:
// conditional writes (the head pointer's compare-and-swap) work unchanged.
package cryptstore

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pstsync/pstsync/sink"
	"golang.org/x/crypto/chacha20poly1305"
)

// Prefixes in the underlying store.
const (
	KeysPrefix = "keys/"
	DataPrefix = "data/"
)

const (
	magic          = "pse1"
	objectsPrefix  = "objects/"
	dataObjPrefix  = DataPrefix + objectsPrefix
	masterKeyBytes = 64
)

// Errors. The CLI maps ErrPassphrase and ErrNoPassphrase to an exit code.
var (
	// ErrPassphrase: no key file of the store opens with the passphrase.
	ErrPassphrase = errors.New("wrong passphrase")
	// ErrNoPassphrase: the store is encrypted and no passphrase was given.
	ErrNoPassphrase = errors.New("the store is encrypted and no passphrase is configured")
	// ErrTampered: a sealed file failed authentication (changed, damaged
	// or moved).
	ErrTampered = errors.New("authentication failed (the file was changed or damaged)")
	// ErrEncrypted: the store is already encrypted.
	ErrEncrypted = errors.New("the store is already encrypted")
)

// Store is an encrypted view of an underlying store.
//
// A Store made by InitAsync or OpenAsAsync gets its keys in the
// background: until ready is closed only inner is set; every method waits
// for it (see wait) before it touches the fields below, which the
// background goroutine sets before closing ready.
type Store struct {
	inner sink.Store
	ready chan struct{} // nil: keys set at construction
	err   error         // why the keys could not be had (read after ready)

	aead    cipherAEAD
	macKey  []byte
	nameKey []byte
	keyID   string // the key file that opened the store

	// nonces: each sealed file's 24-byte XChaCha20 nonce is a random
	// prefix drawn once per Store and a counter, unique without asking
	// the system for randomness per file (see seal).
	noncePrefix [16]byte
	nonceCount  atomic.Uint64

	// namers are *namer under nameKey, reused (permuteTo).
	namers sync.Pool
}

type cipherAEAD interface {
	Seal(dst, nonce, plaintext, additionalData []byte) []byte
	Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)
	NonceSize() int
	Overhead() int
}

var (
	_ sink.Store       = (*Store)(nil)
	_ sink.BatchPutter = (*Store)(nil)
)

func newStore(inner sink.Store, master []byte, keyID string) (*Store, error) {
	s := &Store{inner: inner}
	if err := s.setKeys(master, keyID); err != nil {
		return nil, err
	}
	return s, nil
}

// macKeyOf is the part of a master key that keys the MACs and names (the
// rest is the AEAD's key).
func macKeyOf(master []byte) []byte { return master[32:] }

// setKeys sets the keys of s from the master key.
func (s *Store) setKeys(master []byte, keyID string) error {
	if len(master) != masterKeyBytes {
		return fmt.Errorf("cryptstore: master key of %d bytes", len(master))
	}
	a, err := chacha20poly1305.NewX(master[:32])
	if err != nil {
		return fmt.Errorf("cryptstore: %w", err)
	}
	mac := slices.Clone(macKeyOf(master))
	s.aead, s.macKey, s.nameKey, s.keyID = a, mac, subKey(mac, "object names"), keyID
	if _, err := rand.Read(s.noncePrefix[:]); err != nil {
		return fmt.Errorf("cryptstore: no randomness: %w", err)
	}
	s.namers.New = func() any { return &namer{mac: hmac.New(sha256.New, s.nameKey)} }
	return nil
}

func subKey(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("pstsync " + purpose))
	return m.Sum(nil)
}

// IsEncrypted reports whether st holds an encrypted store (has key files).
func IsEncrypted(ctx context.Context, st sink.Store) (bool, error) {
	enc, _, err := Probe(ctx, st)
	return enc, err
}

// Probe tells with one listing whether st is encrypted (has key files)
// and whether a conversion is under way (MarkerKey).
func Probe(ctx context.Context, st sink.Store) (encrypted, converting bool, err error) {
	keys, converting, err := listKeyFiles(ctx, st)
	return len(keys) > 0, converting, err
}

// listKeyFiles lists the key files of st (without the marker).
func listKeyFiles(ctx context.Context, st sink.Store) (keys []string, marker bool, err error) {
	all, err := st.List(ctx, KeysPrefix)
	if err != nil {
		return nil, false, fmt.Errorf("cryptstore: listing key files: %w", err)
	}
	for _, k := range all {
		if k == MarkerKey {
			marker = true
			continue
		}
		keys = append(keys, k)
	}
	return keys, marker, nil
}

// Inner returns the underlying store.
func (s *Store) Inner() sink.Store { return s.inner }

// KeyID is the ID of the key file that opened the store ("" when it could
// not be opened). For a store from InitAsync or OpenAsAsync it waits for
// the keys.
func (s *Store) KeyID() string {
	if s.wait(context.Background()) != nil {
		return ""
	}
	return s.keyID
}

// String names the underlying store.
func (s *Store) String() string { return s.inner.String() }

// seal returns the sealed bytes of plain stored under key.
//
// The nonce is the Store's random 16-byte prefix and a 64-bit counter:
// unique within a run (the counter), and across runs and machines as
// unlikely to repeat as 128 random bits (the prefix) — the same margin
// restic's random 128-bit nonces have, without a system call per file.
// XChaCha20 derives a subkey from the prefix; the counter is the nonce
// under it.
func (s *Store) seal(key string, plain []byte) []byte {
	ns := s.aead.NonceSize()
	out := make([]byte, len(magic)+ns, len(magic)+ns+len(plain)+s.aead.Overhead())
	copy(out, magic)
	nonce := out[len(magic):]
	copy(nonce, s.noncePrefix[:])
	binary.LittleEndian.PutUint64(nonce[len(s.noncePrefix):], s.nonceCount.Add(1))
	return s.aead.Seal(out, nonce, plain, []byte(key))
}

// open authenticates and decrypts the sealed bytes of key.
func (s *Store) open(key string, data []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(data) < len(magic)+ns+s.aead.Overhead() || string(data[:len(magic)]) != magic {
		return nil, fmt.Errorf("%s: %w: not a sealed file", key, ErrTampered)
	}
	plain, err := s.aead.Open(nil, data[len(magic):len(magic)+ns], data[len(magic)+ns:], []byte(key))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, ErrTampered)
	}
	return plain, nil
}

// Get returns the decrypted bytes of key; a file that fails authentication
// gives an error wrapping ErrTampered that names it.
func (s *Store) Get(ctx context.Context, key string) ([]byte, string, error) {
	if err := sink.CheckKey(key); err != nil {
		return nil, "", err
	}
	if _, isObj := parseObjectKey(key); s.pending() && !isObj {
		// the name is not keyed: ask while the keys are being got, and
		// answer a missing file at once (see async.go)
		data, etag, err := s.inner.Get(ctx, DataPrefix+key)
		if sink.IsNotExist(err) && s.pending() {
			return nil, "", err
		}
		if werr := s.wait(ctx); werr != nil {
			return nil, "", werr
		}
		return s.opened(key, data, etag, err)
	}
	if err := s.wait(ctx); err != nil {
		return nil, "", err
	}
	data, etag, err := s.inner.Get(ctx, s.outer(key))
	return s.opened(key, data, etag, err)
}

// opened is the result of Get: the decrypted bytes of key read from the
// underlying store as data, etag and err.
func (s *Store) opened(key string, data []byte, etag string, err error) ([]byte, string, error) {
	if err != nil {
		return nil, "", err
	}
	plain, err := s.open(key, data)
	if err != nil {
		return nil, "", fmt.Errorf("cryptstore %s: %w", s.inner, err)
	}
	return plain, etag, nil
}

// Put seals data and stores it under key's name (cond applies to the
// sealed file; ETags are of the sealed bytes).
func (s *Store) Put(ctx context.Context, key string, data []byte, cond sink.Cond) (string, error) {
	if err := s.wait(ctx); err != nil {
		return "", err
	}
	name, err := s.outerChecked(key)
	if err != nil {
		return "", err
	}
	return s.inner.Put(ctx, name, s.seal(key, data), cond)
}

// outerChecked is outer of a key sink.CheckKey accepts (an object key is
// valid by its form).
func (s *Store) outerChecked(key string) (string, error) {
	if h, ok := parseObjectKey(key); ok {
		return s.objectName(h), nil
	}
	if err := sink.CheckKey(key); err != nil {
		return "", err
	}
	return DataPrefix + key, nil
}

// PutNew seals the items and writes them with the underlying store's
// PutNew (or parallel conditional Puts).
func (s *Store) PutNew(ctx context.Context, items []sink.Item) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	// Sealing and naming take CPU: spread them over the cores.
	sealed := make([]sink.Item, len(items))
	errs := make([]error, len(items))
	workers := min(runtime.GOMAXPROCS(0), (len(items)+63)/64)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(items); i += workers {
				it := items[i]
				name, err := s.outerChecked(it.Key)
				if err != nil {
					errs[i] = err
					continue
				}
				sealed[i] = sink.Item{Key: name, Data: s.seal(it.Key, it.Data)}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err // nothing written
		}
	}
	if b, ok := s.inner.(sink.BatchPutter); ok {
		return b.PutNew(ctx, sealed)
	}
	return sink.PutNewParallel(ctx, s.inner, sealed, 16)
}

// Delete removes key.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := sink.CheckKey(key); err != nil {
		return err
	}
	if err := s.wait(ctx); err != nil {
		return err
	}
	return s.inner.Delete(ctx, s.outer(key))
}

// List returns the keys starting with prefix, sorted.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	if err := sink.CheckPrefix(prefix); err != nil {
		return nil, err
	}
	// an exact object key: one probe
	if _, ok := parseObjectKey(prefix); ok {
		if err := s.wait(ctx); err != nil {
			return nil, err
		}
		keys, err := s.inner.List(ctx, s.outer(prefix))
		if err != nil {
			return nil, err
		}
		var out []string
		for _, k := range keys {
			if k == s.outer(prefix) {
				out = append(out, prefix)
			}
		}
		return out, nil
	}
	inPrefix := DataPrefix + prefix
	if strings.HasPrefix(prefix, objectsPrefix) || strings.HasPrefix(objectsPrefix, prefix) {
		// object names are permuted: list them all and filter
		if strings.HasPrefix(prefix, objectsPrefix) {
			inPrefix = dataObjPrefix
		}
	}
	pending := s.pending()
	if !pending {
		if err := s.wait(ctx); err != nil {
			return nil, err
		}
	}
	keys, err := s.inner.List(ctx, inPrefix)
	if pending {
		// listed while the keys are being got: nothing found needs no
		// key (see async.go)
		if err == nil && len(keys) == 0 && s.pending() {
			return []string{}, nil
		}
		if werr := s.wait(ctx); werr != nil {
			return nil, werr
		}
	}
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		lk, ok := s.inner2logical(k)
		if ok && strings.HasPrefix(lk, prefix) {
			out = append(out, lk)
		}
	}
	slices.Sort(out)
	return out, nil
}

// outer returns the underlying store's name of key.
func (s *Store) outer(key string) string {
	if h, ok := parseObjectKey(key); ok {
		return s.objectName(h)
	}
	return DataPrefix + key
}

// objectName is the underlying store's name of the object with hash h.
func (s *Store) objectName(h string) string {
	var n [64]byte
	s.permuteTo(&n, h, false)
	return dataObjPrefix + string(n[:2]) + "/" + string(n[:]) // one allocation
}

// inner2logical is the inverse of outer; ok is false for names that are no
// data file of this store.
func (s *Store) inner2logical(k string) (string, bool) {
	rest, ok := strings.CutPrefix(k, DataPrefix)
	if !ok {
		return "", false
	}
	if o, ok := strings.CutPrefix(rest, objectsPrefix); ok {
		dir, name, ok := strings.Cut(o, "/")
		if !ok || !validHex64(name) || dir != name[:2] {
			return rest, true // not a content-addressed name: stored as is
		}
		var h [64]byte
		s.permuteTo(&h, name, true)
		return objectsPrefix + string(h[:2]) + "/" + string(h[:]), true
	}
	return rest, true
}

// parseObjectKey returns the hash of an object key objects/hh/<64 hex>.
func parseObjectKey(key string) (string, bool) {
	o, ok := strings.CutPrefix(key, objectsPrefix)
	if !ok {
		return "", false
	}
	dir, name, ok := strings.Cut(o, "/")
	if !ok || !validHex64(name) || dir != name[:2] {
		return "", false
	}
	return name, true
}

func validHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerHex[s[i]] {
			return false
		}
	}
	return true
}

var isLowerHex = func() (t [256]bool) {
	for _, c := range "0123456789abcdef" {
		t[c] = true
	}
	return t
}()

// namer is an HMAC-SHA256 state under the name key with the scratch space
// of a round, pooled so that permuteTo allocates nothing.
type namer struct {
	mac hash.Hash
	in  [17]byte
	sum [sha256.Size]byte
}

// xorRound sets dst ^= HMAC(i || x)[:16].
func (n *namer) xorRound(dst []byte, i byte, x []byte) {
	n.in[0] = i
	copy(n.in[1:], x)
	n.mac.Reset()
	n.mac.Write(n.in[:])
	n.mac.Sum(n.sum[:0])
	subtle.XORBytes(dst, dst, n.sum[:16])
}

// permuteTo writes into out the stored name of a 64-hex-digit hash (or
// the hash of a name, when inverse): a 4-round Feistel network over the 32
// bytes whose round function is HMAC-SHA256 under the name key, a keyed
// pseudorandom permutation. Without the key a name says nothing about the
// content and a guessed content cannot be confirmed. hexHash must be 64
// hex digits.
func (s *Store) permuteTo(out *[64]byte, hexHash string, inverse bool) {
	var b [32]byte
	copy(out[:], hexHash)
	hex.Decode(b[:], out[:])
	l, r := b[:16], b[16:]
	n := s.namers.Get().(*namer)
	if !inverse {
		// l, r = r, l ^ F(i, r)
		for i := byte(0); i < 4; i++ {
			n.xorRound(l, i, r)
			l, r = r, l
		}
	} else {
		// l, r = r ^ F(i-1, l), l
		for i := byte(4); i > 0; i-- {
			n.xorRound(r, i-1, l)
			l, r = r, l
		}
	}
	s.namers.Put(n)
	hex.Encode(out[:32], l)
	hex.Encode(out[32:], r)
}

// Temps and RemoveTemp pass the underlying store's temporary files through
// (check --repair of a local folder).
func (s *Store) Temps(ctx context.Context, olderThan time.Duration) ([]string, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	if ts, ok := s.inner.(interface {
		Temps(context.Context, time.Duration) ([]string, error)
	}); ok {
		return ts.Temps(ctx, olderThan)
	}
	return nil, nil
}

// RemoveTemp removes a temporary file Temps listed.
func (s *Store) RemoveTemp(ctx context.Context, rel string) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	if ts, ok := s.inner.(interface {
		RemoveTemp(context.Context, string) error
	}); ok {
		return ts.RemoveTemp(ctx, rel)
	}
	return nil
}
