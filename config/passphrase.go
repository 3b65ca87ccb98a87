package config

import (
	"encoding/base64"
	"fmt"
	"os"
	"strings"
)

// dpapiPrefix marks a passphrase protected for one Windows user with
// DPAPI (ProtectPassphrase): "dpapi:" and the base64 of the protected
// bytes. Only that user on that machine can read it.
const dpapiPrefix = "dpapi:"

// ProtectPassphrase returns the value of the passphrase option that holds
// p protected with DPAPI for the current Windows user (an error elsewhere).
func ProtectPassphrase(p string) (string, error) {
	b, err := protectDPAPI([]byte(p))
	if err != nil {
		return "", err
	}
	return dpapiPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// unprotectPassphrase turns a "dpapi:" value back into the passphrase.
func unprotectPassphrase(v string) (string, error) {
	b64, ok := strings.CutPrefix(v, dpapiPrefix)
	if !ok {
		return v, nil
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err == nil {
		b, err = unprotectDPAPI(b)
	}
	if err != nil {
		return "", fmt.Errorf("passphrase: the DPAPI-protected value cannot be read (%v); only the Windows user who stored it can, on that machine: run pstsync config init --protect-passphrase again: %w", err, ErrInvalid)
	}
	return string(b), nil
}

// StorePassphrase returns the passphrase of an encrypted store: the
// passphrase option, else the first line of passphrase_file; "" when
// neither is set.
func (c *Config) StorePassphrase() (string, error) {
	if c.Passphrase != "" || c.PassphraseFile == "" {
		return unprotectPassphrase(c.Passphrase)
	}
	data, err := os.ReadFile(c.PassphraseFile)
	if err != nil {
		return "", fmt.Errorf("passphrase_file %s: %v: %w", c.PassphraseFile, err, ErrInvalid)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	return strings.TrimRight(line, "\r"), nil
}
