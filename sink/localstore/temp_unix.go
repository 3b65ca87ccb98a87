//go:build unix

package localstore

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// dirHandle is a folder a batch writes into, opened once: its files are
// created and renamed by names relative to it (no walk of the whole path
// per file). fd is -1 when the folder could not be opened; the path is
// used then.
type dirHandle struct {
	path string
	fd   int
}

func openDirHandle(path string) dirHandle {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			fd = -1
		}
		return dirHandle{path: path, fd: fd}
	}
}

func (d dirHandle) close() {
	if d.fd >= 0 {
		_ = unix.Close(d.fd)
	}
}

// at returns the directory descriptor and name for a system call on the
// file base in d.
func (d dirHandle) at(base string) (int, string) {
	if d.fd >= 0 {
		return d.fd, base
	}
	return unix.AT_FDCWD, filepath.Join(d.path, base)
}

// exists reports whether d holds base (of any type).
func (d dirHandle) exists(base string) bool {
	fd, name := d.at(base)
	var st unix.Stat_t
	for {
		err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
		if err == syscall.EINTR {
			continue
		}
		return err == nil
	}
}

// writeTemp is writeTempSync without a flush, through the file descriptor
// directly: a batch writes thousands of objects, and os.File's poller
// registration added system calls to each. It returns the temporary
// file's name in d.
func (d dirHandle) writeTemp(base string, data []byte) (string, error) {
	prefix := hiddenName(base, ".")
	for i := 0; ; i++ {
		rel := prefix + strconv.FormatUint(rand.Uint64(), 36) + tempSuffix
		err := d.writeNew(rel, data)
		if errors.Is(err, fs.ErrExist) && i < 100 {
			continue
		}
		if err != nil {
			return "", err
		}
		return rel, nil
	}
}

// writeNew writes data to the new file base in d, without a flush (an
// error matching fs.ErrExist when base exists). On failure nothing is left
// behind.
func (d dirHandle) writeNew(base string, data []byte) (err error) {
	at, n := d.at(base)
	name := filepath.Join(d.path, base)
	var fd int
	for {
		fd, err = unix.Openat(at, n, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, fileMode)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return &os.PathError{Op: "open", Path: name, Err: err}
	}
	defer func() {
		if fd >= 0 {
			_ = unix.Close(fd)
		}
		if err != nil {
			_ = os.Remove(name)
		}
	}()
	// The mode regardless of the umask, as writeTempSync sets it.
	if !umaskKeepsMode() {
		if err = unix.Fchmod(fd, fileMode); err != nil {
			return &os.PathError{Op: "chmod", Path: name, Err: err}
		}
	}
	if err = failWrite(name); err != nil {
		return err
	}
	for n := 0; n < len(data); {
		m, werr := unix.Write(fd, data[n:])
		if werr == syscall.EINTR {
			continue
		}
		if werr != nil {
			return &os.PathError{Op: "write", Path: name, Err: werr}
		}
		if m == 0 {
			return &os.PathError{Op: "write", Path: name, Err: syscall.EIO}
		}
		n += m
	}
	err = unix.Close(fd)
	fd = -1
	if err != nil {
		return &os.PathError{Op: "close", Path: name, Err: err}
	}
	return nil
}

// umaskKeepsMode reports whether the process's umask leaves fileMode as it
// is, so that a file created with it needs no chmod. Only Linux tells the
// umask without changing it (/proc/self/status); elsewhere the answer is
// no.
var umaskKeepsMode = sync.OnceValue(func() bool {
	if runtime.GOOS != "linux" {
		return false
	}
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Umask:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			return err == nil && m&fileMode == 0
		}
	}
	return false
})
