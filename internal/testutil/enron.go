package testutil

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Enron returns the path of data/enron.pst (29 MB, 2,178 messages) inside
// the go-pst v6.0.2 module zip, fetched through the Go module proxy; the
// benchmark file. The test is skipped when the module cannot be had.
func Enron(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/mooijtech/go-pst/v6@v6.0.2").Output()
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("go-pst module not available (CI=true requires it): %v", err)
		}
		tb.Skipf("go-pst module not available: %v", err)
	}
	i := bytes.Index(out, []byte(`"Dir": "`))
	if i < 0 {
		tb.Fatalf("no Dir in go mod download output: %s", out)
	}
	rest := out[i+len(`"Dir": "`):]
	return filepath.Join(string(rest[:bytes.IndexByte(rest, '"')]), "data", "enron.pst")
}
