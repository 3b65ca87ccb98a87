package syncer

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/pstsync/pstsync/snapshot"
)

// fileStatOf is what fi says of its file's content (see
// snapshot.FileStat): size, times and identity.
func fileStatOf(fi os.FileInfo) snapshot.FileStat {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return snapshot.FileStat{}
	}
	return snapshot.FileStat{Size: st.Size, MTime: st.Mtim.Nano(), CTime: st.Ctim.Nano(), Inode: st.Ino, Dev: uint64(st.Dev)}
}

// openNeverBlocks: readRegular opens a file so that a FIFO (or any file
// but a regular one) never blocks it, and refuses anything but a regular
// file of at most the limit by the metadata of what it opened. A file the
// folder's listing gives as regular and with no metadata of an earlier
// read to compare is therefore read without a stat of its own first.
const openNeverBlocks = true

// readRegular reads the file p, at most max bytes: anything but a
// regular file (a FIFO put in its place is not waited for), or a file
// grown beyond max, is refused. It returns the metadata of the file
// opened, as it was before the content was read. Through the file
// descriptor directly: a first sync reads thousands of small files, and
// os.File's poller registration added five system calls to each.
func readRegular(p string, limit int64) ([]byte, os.FileInfo, error) {
	fd, err := retryEINTR(func() (int, error) {
		return syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	})
	if err != nil {
		return nil, nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	defer syscall.Close(fd)
	// The file may have been replaced between the listing (or a stat)
	// and the open.
	fi := &fdInfo{name: filepath.Base(p)}
	if _, err := retryEINTR(func() (int, error) { return 0, syscall.Fstat(fd, &fi.st) }); err != nil {
		return nil, nil, &os.PathError{Op: "fstat", Path: p, Err: err}
	}
	if err := regularWithin(fi, limit); err != nil {
		return nil, nil, err
	}
	// Room for the size fstat gave and a byte more: a file that grew is
	// read to its end all the same.
	data := make([]byte, 0, min(limit, max(fi.st.Size, 0))+1)
	for {
		if len(data) == cap(data) {
			if int64(len(data)) > limit {
				return nil, nil, fmt.Errorf("more than the limit of %d bytes; skipped", limit)
			}
			data = slices.Grow(data, int(min(int64(cap(data)), limit+1-int64(len(data)))))
		}
		want := cap(data) - len(data)
		n, err := retryEINTR(func() (int, error) { return syscall.Read(fd, data[len(data):cap(data)]) })
		if err != nil {
			return nil, nil, &os.PathError{Op: "read", Path: p, Err: err}
		}
		if n == 0 {
			break
		}
		data = data[:len(data)+n]
		if n < want && int64(len(data)) >= fi.st.Size {
			// A short read of a regular file is its end: at least the
			// size fstat gave, and no more to come (no read to see 0).
			break
		}
	}
	if int64(len(data)) > limit {
		return nil, nil, fmt.Errorf("more than the limit of %d bytes; skipped", limit)
	}
	return data, fi, nil
}

func retryEINTR(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// fdInfo is an os.FileInfo of a file descriptor's fstat.
type fdInfo struct {
	name string
	st   syscall.Stat_t
}

func (fi *fdInfo) Name() string       { return fi.name }
func (fi *fdInfo) Size() int64        { return fi.st.Size }
func (fi *fdInfo) ModTime() time.Time { return time.Unix(0, fi.st.Mtim.Nano()) }
func (fi *fdInfo) IsDir() bool        { return fi.Mode().IsDir() }
func (fi *fdInfo) Sys() any           { return &fi.st }

func (fi *fdInfo) Mode() fs.FileMode {
	m := fs.FileMode(fi.st.Mode & 0o777)
	switch fi.st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	case syscall.S_IFIFO:
		m |= fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		m |= fs.ModeSocket
	case syscall.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	default:
		m |= fs.ModeDevice
	}
	return m
}
