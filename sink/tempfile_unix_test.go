//go:build unix

package sink

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func setNamedTemp(t *testing.T, named bool) {
	old := namedTemp
	namedTemp = named
	t.Cleanup(func() { namedTemp = old })
}

// tempKinds: unnamed files (O_TMPFILE where the system has it, else named
// ones) and named ones; Linux adds linking through /proc.
var tempKinds = []tempKind{
	{"unnamed", func(t *testing.T) { setNamedTemp(t, false) }},
	{"named", func(t *testing.T) { setNamedTemp(t, true) }},
}

// TestBatchReplacesAndKeepsMtime writes new files and replaces existing
// ones through a batch, with every kind of temporary file: contents are
// replaced whole, the modification time is the one asked for, and no
// temporary file is left behind.
func TestBatchReplacesAndKeepsMtime(t *testing.T) {
	eachTempKind(t, func(t *testing.T) {
		dir := t.TempDir()
		b := NewBatch()
		when := time.Date(2001, 5, 4, 3, 2, 1, 0, time.UTC)
		for round, content := range []string{"first version", "second"} {
			for i := range 20 {
				p := filepath.Join(dir, "d", string(rune('a'+i))+".eml")
				err := writeAtomic(b, p, when, func(w io.Writer) error {
					_, err := w.Write([]byte(content))
					return err
				})
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
		}
		if err := b.Sync(); err != nil {
			t.Fatal(err)
		}
		files := listFiles(t, dir)
		if len(files) != 20 {
			t.Fatalf("files = %q, want 20", files)
		}
		for _, f := range files {
			p := filepath.Join(dir, f)
			got, err := os.ReadFile(p)
			if err != nil || string(got) != "second" {
				t.Errorf("%s = %q, %v", f, got, err)
			}
			st, _ := os.Stat(p)
			if !st.ModTime().Equal(when) || st.Mode().Perm() != FileMode {
				t.Errorf("%s: mtime %v mode %v", f, st.ModTime(), st.Mode().Perm())
			}
		}
		assertNoTemp(t, dir)
	})
}
