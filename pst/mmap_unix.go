//go:build unix

package pst

import (
	"math"
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps the size bytes of f into memory, read-only.
func mapFile(f *os.File, size int64) ([]byte, error) {
	if size <= 0 || size > math.MaxInt {
		return nil, errNoMap
	}
	return unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
}

func unmapFile(b []byte) error { return unix.Munmap(b) }
