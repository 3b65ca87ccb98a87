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
// atomically, and a reader pins the chunk while it copies from it. Misses
// and eviction take the mutex. An evicted chunk's buffer is reused for the
// next miss once no reader has it pinned: fresh memory costs page faults
// and zeroing, which cost more than the copy.
type pageCache struct {
	r         io.ReaderAt
	size      int64
	chunkSize int64
	maxChunks int

	slots []atomic.Pointer[cacheChunk] // by chunk index

	mu   sync.Mutex
	ring []int64 // indexes of cached chunks, for the clock
	hand int
	free [][]byte // buffers of evicted chunks nobody had pinned
}

type cacheChunk struct {
	data     []byte
	ref      atomic.Bool  // the clock's second chance
	pins     atomic.Int32 // readers copying from data
	evicted  atomic.Bool  // no longer in its slot
	recycled atomic.Bool  // data went back to the free list
}

func newPageCache(r io.ReaderAt, size int64, chunkSize int64, maxBytes int64) *pageCache {
	n := int(maxBytes / chunkSize)
	if n < 4 {
		n = 4
	}
	return &pageCache{r: r, size: size, chunkSize: chunkSize, maxChunks: n,
		slots: make([]atomic.Pointer[cacheChunk], (size+chunkSize-1)/chunkSize)}
}

// pin returns chunk idx, pinned: its buffer is not reused until unpin.
func (c *pageCache) pin(idx int64) (*cacheChunk, error) {
	for {
		ch := c.slots[idx].Load()
		if ch == nil {
			var err error
			if ch, err = c.load(idx); err != nil {
				return nil, err
			}
		}
		ch.pins.Add(1)
		// Evicted between the load and the pin? Then its buffer may be
		// reused already: look again. (Eviction clears the slot before it
		// reads pins, so one of the two sides sees the other.)
		if c.slots[idx].Load() == ch {
			if !ch.ref.Load() {
				ch.ref.Store(true)
			}
			return ch, nil
		}
		c.unpin(ch)
	}
}

// unpin releases a pin. The last reader of a chunk evicted while pinned
// gives its buffer back for reuse.
func (c *pageCache) unpin(ch *cacheChunk) {
	if ch.pins.Add(-1) == 0 && ch.evicted.Load() && ch.recycled.CompareAndSwap(false, true) {
		c.mu.Lock()
		c.recycle(ch.data)
		c.mu.Unlock()
	}
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
		ch, err := c.pin(idx)
		if err != nil {
			return n, err
		}
		within := pos - idx*c.chunkSize
		if within >= int64(len(ch.data)) {
			c.unpin(ch)
			return n, io.EOF
		}
		n += copy(p[n:], ch.data[within:])
		c.unpin(ch)
	}
	return n, nil
}

// withView calls fn with the n bytes at off, without copying them, when
// they lie in one chunk, and reports whether it did. fn must not keep or
// modify them.
func (c *pageCache) withView(off int64, n int, fn func(src []byte)) bool {
	if off < 0 || n < 0 || off+int64(n) > c.size {
		return false
	}
	idx := off / c.chunkSize
	within := off - idx*c.chunkSize
	if within+int64(n) > c.chunkSize {
		return false
	}
	ch, err := c.pin(idx)
	if err != nil {
		return false
	}
	defer c.unpin(ch)
	if within+int64(n) > int64(len(ch.data)) {
		return false
	}
	fn(ch.data[within : within+int64(n)])
	return true
}

// load reads chunk idx into the cache (another reader may have done so
// meanwhile) and returns it.
func (c *pageCache) load(idx int64) (*cacheChunk, error) {
	start := idx * c.chunkSize
	want := min(c.chunkSize, c.size-start)
	buf := c.buffer(int(want))
	m, err := c.r.ReadAt(buf, start)
	if err != nil && !(err == io.EOF && int64(m) == want) {
		if m == 0 || err != io.EOF {
			return nil, err
		}
	}
	buf = buf[:m]

	c.mu.Lock()
	defer c.mu.Unlock()
	if ch := c.slots[idx].Load(); ch != nil { // another reader won the race
		c.recycle(buf)
		return ch, nil
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
			ch.evicted.Store(true)
			// A pinned buffer goes back with its last unpin; whichever
			// side sees the other gives it back, once.
			if ch.pins.Load() == 0 && ch.recycled.CompareAndSwap(false, true) {
				c.recycle(ch.data)
			}
			c.ring[c.hand] = idx
			c.hand = (c.hand + 1) % len(c.ring)
			break
		}
	}
	ch := &cacheChunk{data: buf}
	ch.ref.Store(true)
	c.slots[idx].Store(ch)
	return ch, nil
}

// buffer returns a buffer of n bytes, an evicted chunk's when there is one.
func (c *pageCache) buffer(n int) []byte {
	c.mu.Lock()
	if k := len(c.free); k > 0 && n == int(c.chunkSize) {
		b := c.free[k-1]
		c.free = c.free[:k-1]
		c.mu.Unlock()
		return b[:n]
	}
	c.mu.Unlock()
	return make([]byte, n)
}

// recycle keeps a chunk buffer for reuse; c.mu is held.
func (c *pageCache) recycle(b []byte) {
	if cap(b) == int(c.chunkSize) && len(c.free) < c.maxChunks {
		c.free = append(c.free, b[:cap(b)])
	}
}

// cached returns how many chunks the cache holds.
func (c *pageCache) cached() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ring)
}
