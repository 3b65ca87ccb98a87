package pst

import "github.com/pstsync/pstsync/internal/bufpool"

// arena hands out the buffers that reading one message needs (its nodes'
// blocks) and takes them all back at once when the message is released.
// Reading a PST allocates its size again in such buffers; recycled, they
// cost neither page faults nor zeroing nor garbage collection. A nil
// arena allocates from the heap.
type arena struct {
	bufs [][]byte
}

// alloc returns a buffer of n bytes. Its content is undefined: callers
// overwrite all of it.
func (a *arena) alloc(n int) []byte {
	if a == nil {
		return make([]byte, n)
	}
	b := bufpool.Get(n)
	a.bufs = append(a.bufs, b)
	return b[:n:n]
}

// release returns every buffer to its pool. Nothing read through the
// arena may be used afterwards.
func (a *arena) release() {
	if a == nil {
		return
	}
	for i, b := range a.bufs {
		bufpool.Put(b)
		a.bufs[i] = nil
	}
	a.bufs = a.bufs[:0]
}
