// Package bufpool recycles byte buffers by power-of-two size class, from
// 512 bytes to 16 MiB. Exporting a PST reads and renders its size again in
// short-lived buffers; fresh memory for each costs a page fault per 4 KiB
// and zeroing, which cost more than the work done in them.
package bufpool

import (
	"math/bits"
	"sync"
)

const (
	minShift = 9
	maxShift = 24
)

// MaxSize is the largest buffer kept; Get of more allocates.
const MaxSize = 1 << maxShift

var pools [maxShift - minShift + 1]sync.Pool

// class returns the smallest class holding n bytes.
func class(n int) int {
	if n <= 1<<minShift {
		return 0
	}
	return bits.Len(uint(n-1)) - minShift
}

// Get returns a buffer of length n whose content is undefined.
func Get(n int) []byte {
	if n > MaxSize {
		return make([]byte, n)
	}
	c := class(n)
	if p, _ := pools[c].Get().(*[]byte); p != nil {
		b := (*p)[:n]
		*p = nil
		boxes.Put(p)
		return b
	}
	return make([]byte, n, 1<<(c+minShift))
}

// boxes recycles the pointers buffers are pooled in (a sync.Pool holds
// pointers; boxing each Put's slice anew was an allocation per buffer).
var boxes = sync.Pool{New: func() any { return new([]byte) }}

// Put gives b back for reuse, filed under the largest class its capacity
// holds; b must not be used afterwards. Buffers under 512 bytes or over
// MaxSize are left to the garbage collector.
func Put(b []byte) {
	n := cap(b)
	if n < 1<<minShift || n > MaxSize {
		return
	}
	c := bits.Len(uint(n)) - 1 - minShift // floor: a Get from c fits
	p := boxes.Get().(*[]byte)
	*p = b[:0]
	pools[c].Put(p)
}
