package pst

import (
	"bytes"
	"testing"
)

// TestPageCacheEviction reads a 1 MiB "file" through a 4-chunk cache in a
// pattern that evicts constantly and checks every byte.
func TestPageCacheEviction(t *testing.T) {
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	c := newPageCache(bytes.NewReader(data), int64(len(data)), 4096, 4*4096)
	buf := make([]byte, 5000)
	for _, off := range []int64{0, 100000, 4000, 900000, 4090, 500000, 1<<20 - 5000, 12345} {
		n, err := c.ReadAt(buf, off)
		if err != nil || n != len(buf) {
			t.Fatalf("ReadAt(%d): %d, %v", off, n, err)
		}
		if !bytes.Equal(buf, data[off:off+int64(n)]) {
			t.Fatalf("ReadAt(%d): wrong bytes", off)
		}
	}
	if len(c.chunks) > 4 {
		t.Errorf("%d chunks cached, limit 4", len(c.chunks))
	}
	if n, err := c.ReadAt(buf, 1<<20-10); n != 10 || err == nil {
		t.Errorf("read past the end: %d, %v", n, err)
	}
}
