// Package memstore is an in-memory sink.Store for the tests of the layers
// above the store. It follows the same rules as the real backends (it passes
// sink/storetest) and can inject faults.
package memstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/pstsync/pstsync/sink"
)

// Op names an operation for Store.Fault.
type Op string

// The operations Store.Fault sees.
const (
	OpGet    Op = "get"
	OpPut    Op = "put"
	OpList   Op = "list"
	OpDelete Op = "delete"
)

// Store is an in-memory sink.Store, safe for concurrent use. ETags are the
// quoted hex SHA-256 of the content, like the local store's.
type Store struct {
	// Fault, when set, is called before every operation (with the key, or
	// the prefix for List); a non-nil error is returned as the operation's
	// error and the operation does nothing. Set it before sharing the
	// Store between goroutines, or guard it yourself.
	Fault func(op Op, key string) error

	mu      sync.Mutex
	objects map[string][]byte
	name    string
}

var _ sink.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{objects: make(map[string][]byte), name: "mem://"}
}

// ETag returns the ETag that Store (and the local store) gives to data.
func ETag(data []byte) string {
	sum := sha256.Sum256(data)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func (s *Store) fault(op Op, key string) error {
	if s.Fault == nil {
		return nil
	}
	if err := s.Fault(op, key); err != nil {
		return fmt.Errorf("memstore: %s %s: %w", op, key, err)
	}
	return nil
}

// Get implements sink.Store.
func (s *Store) Get(ctx context.Context, key string) ([]byte, string, error) {
	if err := sink.CheckKey(key); err != nil {
		return nil, "", fmt.Errorf("memstore: get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, "", fmt.Errorf("memstore: get %s: %w", key, err)
	}
	if err := s.fault(OpGet, key); err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	data, ok := s.objects[key]
	s.mu.Unlock()
	if !ok {
		return nil, "", fmt.Errorf("memstore: get %s: %w", key, sink.ErrNotExist)
	}
	return slices.Clone(data), ETag(data), nil
}

// Put implements sink.Store.
func (s *Store) Put(ctx context.Context, key string, data []byte, cond sink.Cond) (string, error) {
	if err := sink.CheckKey(key); err != nil {
		return "", fmt.Errorf("memstore: put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("memstore: put %s: %w", key, err)
	}
	if err := s.fault(OpPut, key); err != nil {
		return "", err
	}
	data = slices.Clone(data)
	if data == nil {
		data = []byte{}
	}
	etag := ETag(data)
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, exists := s.objects[key]
	switch {
	case cond.IfNoneMatch && exists:
		return "", fmt.Errorf("memstore: put %s: already exists: %w", key, sink.ErrPrecondition)
	case cond.IfMatch != "" && !exists:
		return "", fmt.Errorf("memstore: put %s if-match %s: missing: %w", key, cond.IfMatch, sink.ErrPrecondition)
	case cond.IfMatch != "" && ETag(cur) != cond.IfMatch:
		return "", fmt.Errorf("memstore: put %s if-match %s: changed: %w", key, cond.IfMatch, sink.ErrPrecondition)
	}
	s.objects[key] = data
	return etag, nil
}

// List implements sink.Store.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	if err := sink.CheckPrefix(prefix); err != nil {
		return nil, fmt.Errorf("memstore: list: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: list %s: %w", prefix, err)
	}
	if err := s.fault(OpList, prefix); err != nil {
		return nil, err
	}
	s.mu.Lock()
	keys := make([]string, 0, len(s.objects))
	for k := range s.objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	s.mu.Unlock()
	slices.Sort(keys)
	return keys, nil
}

// Delete implements sink.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := sink.CheckKey(key); err != nil {
		return fmt.Errorf("memstore: delete: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: delete %s: %w", key, err)
	}
	if err := s.fault(OpDelete, key); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.objects, key)
	s.mu.Unlock()
	return nil
}

// Len returns the number of objects (for tests).
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.objects)
}

// String implements sink.Store.
func (s *Store) String() string { return s.name }
