package cryptstore

import (
	"context"
	"fmt"

	"github.com/pstsync/pstsync/sink"
)

// Opening in the background. The key derivation (argon2id or scrypt, about
// a tenth of a second of CPU) is the one fixed cost encryption adds to a
// run; a caller that has other work to do first (a sync reading the user's
// side) opens the store with InitAsync or OpenAsAsync, which derive the key
// in a goroutine while the caller goes on.
//
// Every method of such a Store waits for the keys (honouring its ctx) and
// fails with the error of getting them, e.g. one wrapping ErrPassphrase.
// One exception keeps a first sync from waiting for the key before it has
// anything to write (opening the snapshot and loading the user's state
// read files that are not there yet): an answer that nothing is there
// needs no key. While the keys are being got, a Get of a missing file and
// a List that finds nothing answer at once, except for one object (its
// name is keyed). Nothing sealed is read or written, and whether a file is
// there does not depend on the master key, so this holds for the losing
// master key of an init race too. Once getting the keys has failed, every
// method returns that error.

// InitAsync is Init with the first key file written in the background: the
// master key is random (no wait), but its key file must be wrapped with the
// KDF and written before the store is used, so every method waits for
// that. When another machine wrote the first key file at the same moment,
// the store opens that winner's key file with passphrase (as Init does)
// before any method goes on: nothing is read or written with the losing
// master key. A missing passphrase or a store with key files already fails
// at once.
func InitAsync(ctx context.Context, st sink.Store, passphrase string, info KeyInfo, kdf KDF) (*Store, error) {
	if err := checkInit(ctx, st, passphrase); err != nil {
		return nil, err
	}
	return background(st, func() ([]byte, string, error) {
		return createKey(ctx, st, passphrase, info, kdf)
	}), nil
}

// OpenAsAsync is OpenAs with the key derivation in the background: it
// lists and reads the key files at once (so a store without key files or a
// missing passphrase fails here), and the store's methods wait for the
// derivation. A wrong passphrase makes them fail with an error wrapping
// ErrPassphrase; Ready returns it.
func OpenAsAsync(ctx context.Context, st sink.Store, passphrase, user string) (*Store, error) {
	kr, err := readKeyFiles(ctx, st, passphrase)
	if err != nil {
		return nil, err
	}
	return background(st, func() ([]byte, string, error) {
		return kr.unlock(passphrase, user)
	}), nil
}

// background returns a Store over st whose keys come from get, run in a
// goroutine that ends when get returns (whether or not the store is used).
func background(st sink.Store, get func() ([]byte, string, error)) *Store {
	s := &Store{inner: st, ready: make(chan struct{})}
	go func() {
		defer close(s.ready)
		master, id, err := get()
		if err == nil {
			err = s.setKeys(master, id)
		}
		s.err = err
	}()
	return s
}

// Ready waits until the keys of s are ready and returns the error of
// getting them: nil for a store made by Init, Open or OpenAs. After a
// method of a store from InitAsync or OpenAsAsync failed, Ready tells
// whether the passphrase was the cause.
func (s *Store) Ready(ctx context.Context) error {
	return s.wait(ctx)
}

// wait waits for the keys (see Store).
func (s *Store) wait(ctx context.Context) error {
	if s.ready == nil {
		return nil
	}
	select {
	case <-s.ready:
		return s.err
	default:
	}
	select {
	case <-s.ready:
		return s.err
	case <-ctx.Done():
		return fmt.Errorf("cryptstore %s: waiting for the key: %w", s.inner, ctx.Err())
	}
}

// pending reports whether the keys are still being got.
func (s *Store) pending() bool {
	if s.ready == nil {
		return false
	}
	select {
	case <-s.ready:
		return false
	default:
		return true
	}
}
