package sink

import (
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// procFD tells whether /proc/self/fd can name an open file for linkat,
// which links an O_TMPFILE file without the CAP_DAC_READ_SEARCH that
// AT_EMPTY_PATH needs.
var procFD = sync.OnceValue(func() bool {
	return unix.Access("/proc/self/fd", unix.X_OK) == nil
})

// openAnon creates an unnamed file in dir (O_TMPFILE). It fails where the
// file system does not support that, or /proc is not mounted; the caller
// then uses a named temporary file.
func openAnon(dir string) (int, error) {
	if !procFD() {
		return -1, unix.EOPNOTSUPP
	}
	for {
		fd, err := unix.Open(dir, unix.O_WRONLY|unix.O_TMPFILE|unix.O_CLOEXEC, uint32(FileMode))
		if err == unix.EINTR {
			continue
		}
		return fd, err
	}
}

// noEmptyPathLink is set once linkat with AT_EMPTY_PATH has failed for
// want of CAP_DAC_READ_SEARCH; /proc/self/fd is used from then on.
var noEmptyPathLink atomic.Bool

// linkAnon gives the unnamed file fd the name path; it fails with an
// error matching fs.ErrExist when path exists.
func linkAnon(fd int, path string) error {
	if !noEmptyPathLink.Load() {
		err := unix.Linkat(fd, "", unix.AT_FDCWD, path, unix.AT_EMPTY_PATH)
		if err == nil {
			return nil
		}
		if err != unix.EPERM && err != unix.ENOENT && err != unix.EINVAL {
			return &os.LinkError{Op: "link", Old: "(new file)", New: path, Err: err}
		}
		noEmptyPathLink.Store(true)
	}
	err := unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW)
	if err != nil {
		return &os.LinkError{Op: "link", Old: "(new file)", New: path, Err: err}
	}
	return nil
}

// futimens sets the access and modification times of the open file fd
// (utimensat with a NULL path: no /proc lookup, unlike unix.Futimes).
func futimens(fd int, t time.Time) error {
	ts := unix.NsecToTimespec(t.UnixNano())
	times := [2]unix.Timespec{ts, ts}
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(&times[0])), 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
