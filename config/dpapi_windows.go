//go:build windows

package config

import (
	"bytes"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// DPAPIAvailable reports whether passphrases can be protected with DPAPI.
const DPAPIAvailable = true

// protectDPAPI encrypts b for the current Windows user (CryptProtectData).
func protectDPAPI(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("nothing to protect")
	}
	in := windows.DataBlob{Size: uint32(len(b)), Data: unsafe.SliceData(b)}
	var out windows.DataBlob
	if err := windows.CryptProtectData(&in, nil, nil, 0, nil, windows.CRYPTPROTECT_UI_FORBIDDEN, &out); err != nil {
		return nil, fmt.Errorf("DPAPI: %w", err)
	}
	defer windows.LocalFree(windows.Handle(unsafe.Pointer(out.Data)))
	return bytes.Clone(unsafe.Slice(out.Data, out.Size)), nil
}

// unprotectDPAPI decrypts what protectDPAPI returned, for the same user.
func unprotectDPAPI(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("empty")
	}
	in := windows.DataBlob{Size: uint32(len(b)), Data: unsafe.SliceData(b)}
	var out windows.DataBlob
	if err := windows.CryptUnprotectData(&in, nil, nil, 0, nil, windows.CRYPTPROTECT_UI_FORBIDDEN, &out); err != nil {
		return nil, fmt.Errorf("DPAPI: %w", err)
	}
	defer windows.LocalFree(windows.Handle(unsafe.Pointer(out.Data)))
	return bytes.Clone(unsafe.Slice(out.Data, out.Size)), nil
}
