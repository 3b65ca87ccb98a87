//go:build !windows

// Mode bits mean nothing on Windows: this test is built elsewhere only.

package config

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"
)

func TestReadableSecretWarns(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)

	path := writeFile(t, "[s3]\naccess_key = \"a\"\nsecret_key = \"b\"\n")
	if _, _, err := Load(path, nil); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("0600 file warned: %s", buf.String())
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(path, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "chmod 600") {
		t.Errorf("0644 file with a secret did not warn: %q", buf.String())
	}
	buf.Reset()
	noSecret := writeFile(t, "user = \"a\"\n")
	_ = os.Chmod(noSecret, 0o644)
	if _, _, err := Load(noSecret, nil); err != nil || buf.Len() != 0 {
		t.Errorf("file without secrets: err %v, log %q", err, buf.String())
	}
}
