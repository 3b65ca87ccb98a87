package pst

import (
	"io"
	"sync"
)

// pageCache sits in front of the file: reading issues few large, aligned
// reads instead of the hundreds of tiny ones the format's structure implies.
// It keeps at most maxChunks chunks of chunkSize bytes and evicts with a
// clock (second-chance) policy.
type pageCache struct {
	r         io.ReaderAt
	size      int64
	chunkSize int64
	maxChunks int

	mu     sync.Mutex
	free   [][]byte // buffers of evicted chunks, reused: fresh memory costs page faults
	chunks map[int64]*cacheChunk
	ring   []int64
	hand   int

	// Reads counts the reads issued to the underlying reader (for tests and
	// benchmarks).
	Reads int64
}

type cacheChunk struct {
	data []byte
	ref  bool
}

func newPageCache(r io.ReaderAt, size int64, chunkSize int64, maxBytes int64) *pageCache {
	n := int(maxBytes / chunkSize)
	if n < 4 {
		n = 4
	}
	return &pageCache{r: r, size: size, chunkSize: chunkSize, maxChunks: n, chunks: make(map[int64]*cacheChunk)}
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

func (c *pageCache) chunk(idx int64) ([]byte, error) {
	c.mu.Lock()
	if ch, ok := c.chunks[idx]; ok {
		ch.ref = true
		c.mu.Unlock()
		return ch.data, nil
	}
	c.mu.Unlock()

	start := idx * c.chunkSize
	want := c.chunkSize
	if start+want > c.size {
		want = c.size - start
	}
	buf := c.spare(int(want))
	m, err := c.r.ReadAt(buf, start)
	if err != nil && !(err == io.EOF && int64(m) == want) {
		if m == 0 || err != io.EOF {
			return nil, err
		}
	}
	buf = buf[:m]

	c.mu.Lock()
	defer c.mu.Unlock()
	c.Reads++
	if ch, ok := c.chunks[idx]; ok { // another reader won the race
		return ch.data, nil
	}
	if len(c.ring) < c.maxChunks {
		c.ring = append(c.ring, idx)
	} else {
		for {
			victim := c.ring[c.hand]
			ch := c.chunks[victim]
			if ch.ref {
				ch.ref = false
				c.hand = (c.hand + 1) % len(c.ring)
				continue
			}
			delete(c.chunks, victim)
			if cap(ch.data) == int(c.chunkSize) && len(c.free) < 4 {
				c.free = append(c.free, ch.data[:cap(ch.data)])
			}
			c.ring[c.hand] = idx
			c.hand = (c.hand + 1) % len(c.ring)
			break
		}
	}
	c.chunks[idx] = &cacheChunk{data: buf, ref: true}
	return buf, nil
}

// spare returns a buffer of n bytes, reusing an evicted chunk's when it can.
func (c *pageCache) spare(n int) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k := len(c.free); k > 0 && n == int(c.chunkSize) {
		b := c.free[k-1]
		c.free = c.free[:k-1]
		return b[:n]
	}
	return make([]byte, n)
}
