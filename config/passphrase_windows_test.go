//go:build windows

package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pstsync/pstsync/internal/testutil"
)

// TestDPAPIPassphraseRoundTrip runs DPAPI for real (on Windows, and under
// Wine by scripts/windows-test): a passphrase protected for this user is
// written to a config file, holds no trace of the passphrase, and reads
// back through Load and StorePassphrase; a changed blob is refused with
// ErrInvalid.
func TestDPAPIPassphraseRoundTrip(t *testing.T) {
	const pass = "dpapi round trip ÄÖ 7"
	v, err := ProtectPassphrase(pass)
	if err != nil {
		t.Fatalf("ProtectPassphrase: %v", err)
	}
	if !strings.HasPrefix(v, dpapiPrefix) || strings.Contains(v, "round trip") {
		t.Fatalf("protected value %q", v)
	}
	dir := testutil.TempDir(t)
	path := filepath.Join(dir, "pstsync.toml")
	if err := os.WriteFile(path, []byte("user = \"anna\"\nstore = \"store\"\npassphrase = \""+v+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	got, err := cfg.StorePassphrase()
	if err != nil || got != pass {
		t.Fatalf("StorePassphrase = %q, %v; want %q", got, err, pass)
	}
	// one changed byte of the protected blob: refused, never a wrong passphrase
	b := []byte(v)
	i := len(b) - 8
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	cfg.Passphrase = string(b)
	if got, err := cfg.StorePassphrase(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a changed blob: %q, %v; want ErrInvalid", got, err)
	}
}
