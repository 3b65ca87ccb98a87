package snapshot

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pstsync/pstsync/sink"
)

// memStore is a minimal in-memory sink.Store for these tests (kept here so
// that this package's tests do not depend on the backends' packages).
type memStore struct {
	mu  sync.Mutex
	m   map[string]memObj
	seq int
}

type memObj struct {
	data []byte
	etag string
}

func newMemStore() *memStore { return &memStore{m: map[string]memObj{}} }

func (s *memStore) Get(ctx context.Context, key string) ([]byte, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.m[key]
	if !ok {
		return nil, "", fmt.Errorf("mem: %s: %w", key, sink.ErrNotExist)
	}
	return slices.Clone(o.data), o.etag, nil
}

func (s *memStore) Put(ctx context.Context, key string, data []byte, cond sink.Cond) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.m[key]
	if cond.IfNoneMatch && ok {
		return "", fmt.Errorf("mem: %s exists: %w", key, sink.ErrPrecondition)
	}
	if cond.IfMatch != "" && (!ok || o.etag != cond.IfMatch) {
		return "", fmt.Errorf("mem: %s changed: %w", key, sink.ErrPrecondition)
	}
	s.seq++
	etag := strconv.Itoa(s.seq)
	s.m[key] = memObj{data: slices.Clone(data), etag: etag}
	return etag, nil
}

func (s *memStore) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k := range s.m {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

func (s *memStore) Delete(ctx context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

func (s *memStore) String() string { return "mem:" }

// countingStore wraps a Store, counting calls by operation and key prefix
// and letting a test intercept calls.
type countingStore struct {
	sink.Store
	gets, puts, lists atomic.Int64
	mu                sync.Mutex
	getsByPrefix      map[string]int
	putOK             map[string]int // successful Puts per key
	// beforePut, when set, runs before each Put (outside any lock).
	beforePut func(key string)
	// getHook, when set, may replace a Get's result: return handled=true.
	getHook func(key string) (data []byte, etag string, err error, handled bool)
}

func newCounting(s sink.Store) *countingStore {
	return &countingStore{Store: s, getsByPrefix: map[string]int{}, putOK: map[string]int{}}
}

func prefixOf(key string) string {
	p, _, _ := strings.Cut(key, "/")
	return p
}

func (c *countingStore) Get(ctx context.Context, key string) ([]byte, string, error) {
	c.gets.Add(1)
	c.mu.Lock()
	c.getsByPrefix[prefixOf(key)]++
	hook := c.getHook
	c.mu.Unlock()
	if hook != nil {
		if d, e, err, ok := hook(key); ok {
			return d, e, err
		}
	}
	return c.Store.Get(ctx, key)
}

func (c *countingStore) Put(ctx context.Context, key string, data []byte, cond sink.Cond) (string, error) {
	c.puts.Add(1)
	if c.beforePut != nil {
		c.beforePut(key)
	}
	etag, err := c.Store.Put(ctx, key, data, cond)
	if err == nil {
		c.mu.Lock()
		c.putOK[key]++
		c.mu.Unlock()
	}
	return etag, err
}

func (c *countingStore) List(ctx context.Context, prefix string) ([]string, error) {
	c.lists.Add(1)
	return c.Store.List(ctx, prefix)
}

func (c *countingStore) getsOf(prefix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.getsByPrefix[prefix]
}
