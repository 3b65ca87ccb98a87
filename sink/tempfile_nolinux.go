//go:build unix && !linux

package sink

import (
	"time"

	"golang.org/x/sys/unix"
)

// openAnon reports that unnamed files are not available: outside Linux
// sink uses named temporary files.
func openAnon(string) (int, error) { return -1, unix.EOPNOTSUPP }

func linkAnon(int, string) error { return unix.EOPNOTSUPP }

func futimens(fd int, t time.Time) error {
	tv := unix.NsecToTimeval(t.UnixNano())
	return unix.Futimes(fd, []unix.Timeval{tv, tv})
}
