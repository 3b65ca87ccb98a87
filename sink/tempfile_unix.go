//go:build unix

package sink

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// rawFile writes through the file descriptor directly. An export creates
// thousands of small files; os.File's poller registration and os.Rename's
// extra Lstat added five system calls to each.
//
// Where the system allows (Linux, see tempfile_linux.go) the file is
// created without a name (O_TMPFILE) and linked under its final name when
// complete: nothing is ever visible half-written, a crash leaves no
// temporary file behind, and the file's inode is allocated outside the
// directory's lock, so parallel writers into one directory do not queue.
// Elsewhere it is a hidden named temporary file that is renamed.
type rawFile struct {
	fd   int
	name string // "" for an unnamed file
	dir  string
	base string
}

// namedTemp makes createTempFast use named temporary files even where
// unnamed ones work (tests cover both ways).
var namedTemp bool

func createTempFast(dir, base string) (tempFile, error) {
	if !namedTemp {
		if fd, err := openAnon(dir); err == nil {
			return &rawFile{fd: fd, dir: dir, base: base}, nil
		}
	}
	var f *rawFile
	err := tempNames(dir, base, func(name string) error {
		fd, err := unix.Open(name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, uint32(FileMode))
		if err != nil {
			return &os.PathError{Op: "open", Path: name, Err: err}
		}
		f = &rawFile{fd: fd, name: name, dir: dir, base: base}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// label names the file in errors.
func (f *rawFile) label() string {
	if f.name != "" {
		return f.name
	}
	return filepath.Join(f.dir, f.base)
}

func (f *rawFile) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Write(f.fd, p[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, &os.PathError{Op: "write", Path: f.label(), Err: err}
		}
		if m == 0 {
			return n, fmt.Errorf("write %s: no progress", f.label())
		}
		n += m
	}
	return n, nil
}

func (f *rawFile) Sync() error {
	if err := unix.Fsync(f.fd); err != nil {
		return &os.PathError{Op: "fsync", Path: f.label(), Err: err}
	}
	return nil
}

func (f *rawFile) SetMtime(t time.Time) error {
	if err := futimens(f.fd, t); err != nil {
		return &os.PathError{Op: "futimes", Path: f.label(), Err: err}
	}
	return nil
}

func (f *rawFile) close() error {
	if f.fd < 0 {
		return nil
	}
	err := unix.Close(f.fd)
	f.fd = -1
	if err != nil {
		return &os.PathError{Op: "close", Path: f.label(), Err: err}
	}
	return nil
}

// Commit puts the file in place as path. An unnamed file is linked there
// directly; when path exists it is linked under a temporary name first and
// renamed over path, so path is replaced in one step.
func (f *rawFile) Commit(path string) error {
	if f.name == "" {
		err := linkAnon(f.fd, path)
		if err == nil {
			return f.close()
		}
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
		err = tempNames(f.dir, f.base, func(name string) error {
			if err := linkAnon(f.fd, name); err != nil {
				return err
			}
			f.name = name
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := f.close(); err != nil {
		return err
	}
	return renameFile(f.name, path)
}

// Discard closes the file and removes its temporary name, if it has one.
func (f *rawFile) Discard() {
	_ = f.close()
	if f.name != "" {
		_ = os.Remove(f.name)
	}
}

// renameFile renames without os.Rename's Lstat of the target.
func renameFile(from, to string) error {
	if err := unix.Rename(from, to); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}
