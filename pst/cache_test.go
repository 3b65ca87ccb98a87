package pst

import (
	"bytes"
	"fmt"
	"sync"
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
	if n := c.cached(); n > 4 {
		t.Errorf("%d chunks cached, limit 4", n)
	}
	if n, err := c.ReadAt(buf, 1<<20-10); n != 10 || err == nil {
		t.Errorf("read past the end: %d, %v", n, err)
	}
}

// TestPageCacheConcurrentEviction reads through a cache that evicts on
// almost every read from several goroutines at once (run with -race):
// every byte must be right, however chunks come and go under the readers.
func TestPageCacheConcurrentEviction(t *testing.T) {
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i*7 + i>>9)
	}
	c := newPageCache(bytes.NewReader(data), int64(len(data)), 4096, 4*4096)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 6000)
			for i := 0; i < 2000; i++ {
				off := int64((i*7919 + g*104729) % (len(data) - len(buf)))
				n, err := c.ReadAt(buf, off)
				if err != nil || n != len(buf) || !bytes.Equal(buf, data[off:off+int64(n)]) {
					errs <- fmt.Sprintf("goroutine %d: ReadAt(%d) = %d, %v or wrong bytes", g, off, n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := c.cached(); n > 4 {
		t.Errorf("%d chunks cached, limit 4", n)
	}
}

// TestArena: buffers of every size come back with the length asked for,
// and after release they serve later requests of their class.
func TestArena(t *testing.T) {
	var a arena
	sizes := []int{1, 511, 512, 513, 1826, 1880, 4096, 65536, 100000, 1 << 22, 1<<22 + 1}
	for round := 0; round < 3; round++ {
		for _, n := range sizes {
			b := a.alloc(n)
			if len(b) != n || cap(b) != n {
				t.Fatalf("alloc(%d): len %d cap %d", n, len(b), cap(b))
			}
			for i := range b {
				b[i] = byte(i)
			}
		}
		a.release()
	}
	if got := (*arena)(nil).alloc(10); len(got) != 10 {
		t.Errorf("nil arena: %d bytes", len(got))
	}
}
