package pst

import (
	"io"
	"sync"
	"sync/atomic"
)

// pageCache sits in front of the file: reading issues few large, aligned
// reads instead of the hundreds of tiny ones the format's structure implies.
// It keeps at most maxChunks chunks of chunkSize bytes and evicts with a
// clock (second-chance) policy.
//
// A hit takes no lock (readers of one file run in parallel and hit
// hundreds of times per item): every chunk has a slot that is loaded
// atomically. Misses and eviction take the mutex. An evicted chunk's
// buffer is never reused: a reader may still be copying from it.
type pageCache struct {
	r         io.ReaderAt
	size      int64
	chunkSize int64
	maxChunks int

	slots []atomic.Pointer[cacheChunk] // by chunk index

	mu    sync.Mutex
	ring  []int64 // indexes of cached chunks, for the clock
	hand  int
	reads int64 // reads issued to the underlying reader
}

type cacheChunk struct {
	data []byte
	ref  atomic.Bool
}

func newPageCache(r io.ReaderAt, size int64, chunkSize int64, maxBytes int64) *pageCache {
	n := int(maxBytes / chunkSize)
	if n < 4 {
		n = 4
	}
	return &pageCache{r: r, size: size, chunkSize: chunkSize, maxChunks: n,
		slots: make([]atomic.Pointer[cacheChunk], (size+chunkSize-1)/chunkSize)}
}

// ReadAt implements io.ReaderAt over the cache.
func (c *pageCache) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= c.size {
			return n, io.EOF
		}
		idx := pos / c.chunkSize
		data, err := c.chunk(idx)
		if err != nil {
			return n, err
		}
		within := pos - idx*c.chunkSize
		if within >= int64(len(data)) {
			return n, io.EOF
		}
		n += copy(p[n:], data[within:])
	}
	return n, nil
}

// view returns the n bytes at off without copying them, when they lie in
// one chunk. The caller must not modify them. (They stay valid: an evicted
// chunk's buffer is not reused.)
func (c *pageCache) view(off int64, n int) ([]byte, bool) {
	if off < 0 || n < 0 || off+int64(n) > c.size {
		return nil, false
	}
	idx := off / c.chunkSize
	within := off - idx*c.chunkSize
	if within+int64(n) > c.chunkSize {
		return nil, false
	}
	data, err := c.chunk(idx)
	if err != nil || within+int64(n) > int64(len(data)) {
		return nil, false
	}
	return data[within : within+int64(n)], true
}

func (c *pageCache) chunk(idx int64) ([]byte, error) {
	if ch := c.slots[idx].Load(); ch != nil {
		if !ch.ref.Load() {
			ch.ref.Store(true)
		}
		return ch.data, nil
	}

	start := idx * c.chunkSize
	want := min(c.chunkSize, c.size-start)
	buf := make([]byte, want)
	m, err := c.r.ReadAt(buf, start)
	if err != nil && !(err == io.EOF && int64(m) == want) {
		if m == 0 || err != io.EOF {
			return nil, err
		}
	}
	buf = buf[:m]

	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	if ch := c.slots[idx].Load(); ch != nil { // another reader won the race
		return ch.data, nil
	}
	if len(c.ring) < c.maxChunks {
		c.ring = append(c.ring, idx)
	} else {
		for {
			victim := c.ring[c.hand]
			ch := c.slots[victim].Load()
			if ch.ref.Load() {
				ch.ref.Store(false)
				c.hand = (c.hand + 1) % len(c.ring)
				continue
			}
			c.slots[victim].Store(nil)
			c.ring[c.hand] = idx
			c.hand = (c.hand + 1) % len(c.ring)
			break
		}
	}
	ch := &cacheChunk{data: buf}
	ch.ref.Store(true)
	c.slots[idx].Store(ch)
	return buf, nil
}

// cached returns how many chunks the cache holds.
func (c *pageCache) cached() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ring)
}
