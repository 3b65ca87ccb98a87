//go:build windows

package pstlock

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// outlookRunning walks the process list (a Toolhelp snapshot: no rights
// on the processes are needed).
func outlookRunning() (bool, error) {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return false, fmt.Errorf("pstlock: list processes: %w", err)
	}
	defer windows.CloseHandle(snap)
	var e windows.ProcessEntry32
	e.Size = uint32(unsafe.Sizeof(e))
	for err = windows.Process32First(snap, &e); err == nil; err = windows.Process32Next(snap, &e) {
		if isOutlookImage(windows.UTF16ToString(e.ExeFile[:])) {
			return true, nil
		}
	}
	if errors.Is(err, windows.ERROR_NO_MORE_FILES) {
		return false, nil
	}
	return false, fmt.Errorf("pstlock: list processes: %w", err)
}
