package pst

import (
	"math/bits"
	"sync"
)

// arena hands out the buffers that reading one message needs (its nodes'
// blocks) and takes them all back at once when the message is released.
// Reading a PST allocates its size again in such buffers; recycled, they
// cost neither page faults nor zeroing nor garbage collection. A nil
// arena allocates from the heap.
type arena struct {
	bufs [][]byte
}

// Buffer classes are powers of two from 512 bytes to 4 MiB; larger
// buffers come from the heap and are not kept.
const (
	minClassShift = 9
	maxClassShift = 22
)

var classPools [maxClassShift - minClassShift + 1]sync.Pool

func classOf(n int) int {
	if n <= 1<<minClassShift {
		return 0
	}
	return bits.Len(uint(n-1)) - minClassShift
}

// alloc returns a buffer of n bytes. Its content is undefined: callers
// overwrite all of it.
func (a *arena) alloc(n int) []byte {
	if a == nil || n > 1<<maxClassShift {
		return make([]byte, n)
	}
	c := classOf(n)
	var b []byte // the whole class-sized buffer
	if p, _ := classPools[c].Get().(*[]byte); p != nil {
		b = *p
	} else {
		b = make([]byte, 1<<(c+minClassShift))
	}
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
		classPools[classOf(len(b))].Put(&b)
		a.bufs[i] = nil
	}
	a.bufs = a.bufs[:0]
}
