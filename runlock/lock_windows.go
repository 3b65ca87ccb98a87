//go:build windows

package runlock

import (
	"os"

	"golang.org/x/sys/windows"
)

// errWouldBlock is what LockFileEx with LOCKFILE_FAIL_IMMEDIATELY returns
// when another handle holds the range.
var errWouldBlock = windows.ERROR_LOCK_VIOLATION

// The locked byte lies far past the owner record: a Windows byte-range
// lock is mandatory, and the record must stay readable for the message of
// the run that finds the lock taken.
const lockOffsetHigh = 1 // offset 4 GiB

func lockFile(f *os.File) error {
	ol := &windows.Overlapped{OffsetHigh: lockOffsetHigh}
	return windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
}

func unlockFile(f *os.File) error {
	ol := &windows.Overlapped{OffsetHigh: lockOffsetHigh}
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, ol)
}

const stillActive = 259 // STILL_ACTIVE exit code

func processAlive(pid int) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		// access denied: it exists (another user's process)
		return err == windows.ERROR_ACCESS_DENIED
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return true
	}
	return code == stillActive
}
