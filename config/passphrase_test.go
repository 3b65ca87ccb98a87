package config

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/pstsync/pstsync/internal/testutil"
)

func TestStorePassphrase(t *testing.T) {
	dir := testutil.TempDir(t)
	file := filepath.Join(dir, "pass")
	if err := os.WriteFile(file, []byte("from file\r\nsecond line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		pass, file string
		want       string
		bad        bool
	}{
		{"none", "", "", "", false},
		{"option", "p1", "", "p1", false},
		{"option wins", "p1", file, "p1", false},
		{"file", "", file, "from file", false},
		{"missing file", "", filepath.Join(dir, "nope"), "", true},
		{"dpapi elsewhere", "dpapi:AAAA", "", "", runtime.GOOS != "windows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Passphrase, c.PassphraseFile = tc.pass, tc.file
			got, err := c.StorePassphrase()
			if tc.bad {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				return
			}
			if runtime.GOOS == "windows" && tc.name == "dpapi elsewhere" {
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("= %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := ProtectPassphrase("x"); (err == nil) != DPAPIAvailable {
		t.Errorf("ProtectPassphrase: %v with DPAPIAvailable %v", err, DPAPIAvailable)
	}
}
