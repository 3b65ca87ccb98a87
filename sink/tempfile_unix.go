//go:build unix

package sink

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// rawFile writes through the file descriptor directly. An export creates
// thousands of small files; os.File's poller registration and os.Rename's
// extra Lstat added five system calls to each.
type rawFile struct {
	fd   int
	name string
}

func createTempFast(dir, base string) (tempFile, error) {
	var f *rawFile
	err := tempNames(dir, base, func(name string) error {
		fd, err := unix.Open(name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, uint32(FileMode))
		if err != nil {
			return &os.PathError{Op: "open", Path: name, Err: err}
		}
		f = &rawFile{fd: fd, name: name}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (f *rawFile) Name() string { return f.name }

func (f *rawFile) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Write(f.fd, p[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, &os.PathError{Op: "write", Path: f.name, Err: err}
		}
		if m == 0 {
			return n, fmt.Errorf("write %s: no progress", f.name)
		}
		n += m
	}
	return n, nil
}

func (f *rawFile) Sync() error {
	if err := unix.Fsync(f.fd); err != nil {
		return &os.PathError{Op: "fsync", Path: f.name, Err: err}
	}
	return nil
}

func (f *rawFile) SetMtime(t time.Time) error {
	tv := unix.NsecToTimeval(t.UnixNano())
	if err := unix.Futimes(f.fd, []unix.Timeval{tv, tv}); err != nil {
		return &os.PathError{Op: "futimes", Path: f.name, Err: err}
	}
	return nil
}

func (f *rawFile) Close() error {
	if f.fd < 0 {
		return nil
	}
	err := unix.Close(f.fd)
	f.fd = -1
	if err != nil {
		return &os.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}

// renameFile renames without os.Rename's Lstat of the target.
func renameFile(from, to string) error {
	if err := unix.Rename(from, to); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}
