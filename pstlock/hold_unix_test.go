//go:build unix

package pstlock

import (
	"os"

	"golang.org/x/sys/unix"
)

// hold simulates another program holding the file: "exclusive" and
// "writer-shares" take an exclusive flock (the Linux stand-in for
// Outlook's deny-share open), "reader" a shared one.
func hold(path, mode string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	how := unix.LOCK_EX
	if mode == "reader" {
		how = unix.LOCK_SH
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}
