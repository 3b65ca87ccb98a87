//go:build !windows

package config

import "errors"

// DPAPIAvailable reports whether passphrases can be protected with DPAPI.
const DPAPIAvailable = false

var errNoDPAPI = errors.New("DPAPI exists on Windows only")

func protectDPAPI([]byte) ([]byte, error)   { return nil, errNoDPAPI }
func unprotectDPAPI([]byte) ([]byte, error) { return nil, errNoDPAPI }
