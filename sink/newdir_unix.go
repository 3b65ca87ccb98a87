//go:build unix

package sink

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// writeFileDirect creates or replaces the file p with data, through the
// file descriptor directly (os.File's poller registration adds system
// calls to each of thousands of small files), without a flush.
func writeFileDirect(p string, data []byte) (err error) {
	var fd int
	for {
		fd, err = unix.Open(p, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, uint32(FileMode))
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return &os.PathError{Op: "open", Path: p, Err: err}
	}
	if _, err := (&rawFile{fd: fd, name: p}).Write(data); err != nil {
		_ = unix.Close(fd)
		return err
	}
	if err := unix.Close(fd); err != nil {
		return &os.PathError{Op: "close", Path: p, Err: err}
	}
	return nil
}
