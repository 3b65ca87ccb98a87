package testutil

import (
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
)

// TempDir is t.TempDir, except on Windows: under Wine (scripts/windows-test)
// the cleanup of t.TempDir fails because Wine 8 lacks the
// FileDispositionInformationEx that Go's os.RemoveAll uses, so there the
// folder is removed file by file with os.Remove, best effort.
func TempDir(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "windows" {
		return t.TempDir()
	}
	d, err := os.MkdirTemp("", "pstsync-test-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var paths []string
		_ = filepath.Walk(d, func(p string, _ os.FileInfo, _ error) error {
			paths = append(paths, p)
			return nil
		})
		sort.Sort(sort.Reverse(sort.StringSlice(paths))) // children before parents
		for _, p := range paths {
			_ = os.Remove(p)
		}
	})
	return d
}
