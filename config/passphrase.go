package config

import (
	"fmt"
	"os"
	"strings"
)

// StorePassphrase returns the passphrase of an encrypted store: the
// passphrase option, else the first line of passphrase_file; "" when
// neither is set.
func (c *Config) StorePassphrase() (string, error) {
	if c.Passphrase != "" || c.PassphraseFile == "" {
		return c.Passphrase, nil
	}
	data, err := os.ReadFile(c.PassphraseFile)
	if err != nil {
		return "", fmt.Errorf("passphrase_file %s: %v: %w", c.PassphraseFile, err, ErrInvalid)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	return strings.TrimRight(line, "\r"), nil
}
