//go:build windows

package pstlock

import (
	"golang.org/x/sys/windows"
)

// hold opens the file like another program would: "exclusive" as Outlook
// does (read/write, no sharing), "writer-shares" read/write sharing read
// and write, "reader" read-only sharing read.
func hold(path, mode string) (func(), error) {
	access, share := uint32(windows.GENERIC_READ|windows.GENERIC_WRITE), uint32(0)
	switch mode {
	case "writer-shares":
		share = windows.FILE_SHARE_READ | windows.FILE_SHARE_WRITE
	case "reader":
		access, share = windows.GENERIC_READ, windows.FILE_SHARE_READ
	}
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	h, err := windows.CreateFile(p, access, share, nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, err
	}
	return func() { windows.CloseHandle(h) }, nil
}
