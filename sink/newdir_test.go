package sink

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// TestNewDir: a new folder appears whole with its files; one made
// meanwhile is not replaced; leftovers of an interrupted run are cleaned.
func TestNewDir(t *testing.T) {
	root := t.TempDir()
	names := func(dir string) []string {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var ns []string
		for _, e := range ents {
			ns = append(ns, e.Name())
		}
		return ns
	}
	t.Run("published", func(t *testing.T) {
		target := filepath.Join(root, "a", "calendar")
		d, err := StartNewDir(target)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Go(func() {
				if err := d.WriteFile(string(rune('a'+i%26))+string(rune('a'+i/26))+".ics", []byte{byte(i)}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if err := d.WriteFile("aa.ics", []byte("again")); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(target); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("the folder is there before it is published: %v", err)
		}
		if err := d.Publish(); err != nil {
			t.Fatal(err)
		}
		d.Discard() // nothing left to discard
		if got := names(target); len(got) != 50 {
			t.Fatalf("%d files, want 50", len(got))
		}
		if data, err := os.ReadFile(filepath.Join(target, "aa.ics")); err != nil || string(data) != "again" {
			t.Fatalf("replaced file: %q %v", data, err)
		}
		if st, err := os.Stat(filepath.Join(target, "ba.ics")); err != nil || st.Mode().Perm()&^0o022 != FileMode&^0o022 {
			t.Fatalf("file mode: %v %v", st, err)
		}
		if got := names(filepath.Dir(target)); !slices.Equal(got, []string{"calendar"}) {
			t.Fatalf("parent holds %v", got)
		}
	})
	t.Run("made meanwhile", func(t *testing.T) {
		target := filepath.Join(root, "b", "calendar")
		d, err := StartNewDir(target)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.WriteFile("x.ics", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(target, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(target, "theirs.ics"), []byte("theirs"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := d.Publish(); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("publish over a folder made meanwhile: %v", err)
		}
		d.Discard()
		if got := names(target); !slices.Equal(got, []string{"theirs.ics"}) {
			t.Fatalf("the folder made meanwhile holds %v", got)
		}
		if got := names(filepath.Dir(target)); !slices.Equal(got, []string{"calendar"}) {
			t.Fatalf("parent holds %v after Discard", got)
		}
		if _, err := StartNewDir(target); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("start on an existing folder: %v", err)
		}
	})
	t.Run("bad names", func(t *testing.T) {
		d, err := StartNewDir(filepath.Join(root, "c", "calendar"))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Discard()
		for _, n := range []string{"", ".", "..", "a/b", `a\b`} {
			if err := d.WriteFile(n, nil); err == nil {
				t.Errorf("name %q accepted", n)
			}
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		parent := filepath.Join(root, "d")
		d, err := StartNewDir(filepath.Join(parent, "calendar"))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.WriteFile("x.ics", []byte("x")); err != nil {
			t.Fatal(err)
		}
		// the run stops here; the next one cleans up
		if err := os.WriteFile(filepath.Join(parent, ".other"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := CleanNewDirs(parent); err != nil {
			t.Fatal(err)
		}
		if got := names(parent); !slices.Equal(got, []string{".other"}) {
			t.Fatalf("after cleaning: %v", got)
		}
		if err := CleanNewDirs(filepath.Join(root, "missing")); err != nil {
			t.Fatal(err)
		}
	})
}
