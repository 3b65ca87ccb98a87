// Package testutil finds the shared sample files for tests.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Root returns the project root (the directory holding go.mod).
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testutil: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// SamplesDir returns ../shared/pst-samples relative to the project root
// (PSTSYNC_SAMPLES overrides it). When the directory is absent the test is
// skipped, or fails under CI=true.
func SamplesDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("PSTSYNC_SAMPLES")
	if dir == "" {
		dir = filepath.Join(Root(t), "..", "shared", "pst-samples")
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("sample PST files not found at %s (CI=true requires them)", dir)
		}
		t.Skipf("sample PST files not found at %s; set PSTSYNC_SAMPLES or check out ../shared", dir)
	}
	return dir
}

// Sample returns the path of one sample file by name.
func Sample(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(SamplesDir(t), name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("sample %s missing: %v", name, err)
	}
	return p
}

// AllSamples returns every .pst/.ost in the samples directory.
func AllSamples(t testing.TB) []string {
	t.Helper()
	dir := SamplesDir(t)
	var out []string
	for _, pat := range []string{"*.pst", "*.ost"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		out = append(out, m...)
	}
	if len(out) == 0 {
		t.Fatalf("no PST files in %s", dir)
	}
	return out
}

// NeedTool returns the path of a program the test drives (a real client
// such as khal, notmuch or node). Without it the test is skipped, or fails
// under CI=true, where scripts/test has installed every one.
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed (CI=true requires it; scripts/test installs it)", name)
		}
		t.Skipf("%s not installed; scripts/test installs it", name)
	}
	return p
}
