// Package testutil finds the sample PST files and the tools tests use.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
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

// RepoSamplesDir returns testdata/pst-samples: the samples whose licence
// lets them live in the repository (testdata/NOTICE), there on every clone.
func RepoSamplesDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(Root(t), "testdata", "pst-samples")
}

// SharedSamplesDir returns ../shared/pst-samples beside the project root
// (PSTSYNC_SAMPLES overrides it), or "" when it is absent. It holds every
// sample, including those that may not be copied into the repository.
// Under CI=true it must be there: the test fails without it.
func SharedSamplesDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("PSTSYNC_SAMPLES")
	if dir == "" {
		dir = filepath.Join(Root(t), "..", "shared", "pst-samples")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if os.Getenv("CI") == "true" {
			t.Fatalf("sample PST files not found at %s (CI=true requires them)", dir)
		}
		return ""
	}
	return dir
}

// Sample returns the path of one sample file by name: from the
// repository's testdata when it is there, else from the shared samples.
// A sample found in neither skips the test when the shared samples are
// absent (fails under CI=true), and fails it when they are present.
func Sample(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(RepoSamplesDir(t), name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	shared := SharedSamplesDir(t)
	if shared == "" {
		t.Skipf("sample %s is not in testdata/pst-samples and ../shared/pst-samples is absent; set PSTSYNC_SAMPLES or check out ../shared", name)
	}
	p = filepath.Join(shared, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("sample %s missing: %v", name, err)
	}
	return p
}

// AllSamples returns every .pst/.ost of the repository's testdata and of
// the shared samples (when present), one per file name, sorted by name.
func AllSamples(t testing.TB) []string {
	t.Helper()
	byName := map[string]string{}
	for _, dir := range []string{RepoSamplesDir(t), SharedSamplesDir(t)} {
		if dir == "" {
			continue
		}
		for _, pat := range []string{"*.pst", "*.ost"} {
			m, _ := filepath.Glob(filepath.Join(dir, pat))
			for _, p := range m {
				if _, ok := byName[filepath.Base(p)]; !ok {
					byName[filepath.Base(p)] = p
				}
			}
		}
	}
	if len(byName) == 0 {
		t.Fatalf("no PST files in %s", RepoSamplesDir(t))
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = byName[n]
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

// NeedICALJS returns node and the scripts/js directory holding ical.js:
// skipped without them, failed under CI=true.
func NeedICALJS(t testing.TB) (node, jsDir string) {
	t.Helper()
	node = NeedTool(t, "node")
	jsDir = filepath.Join(Root(t), "scripts", "js")
	if _, err := os.Stat(filepath.Join(jsDir, "node_modules", "ical.js")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ical.js not installed (CI=true requires it): run npm ci --prefix %s", jsDir)
		}
		t.Skipf("ical.js not installed: run npm ci --prefix %s", jsDir)
	}
	return node, jsDir
}
