package sink

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestLinkViaProc links unnamed files through /proc/self/fd, the way
// taken without CAP_DAC_READ_SEARCH (tests usually run as root, where
// AT_EMPTY_PATH works).
func TestLinkViaProc(t *testing.T) {
	old := emptyPathLink.Load()
	emptyPathLink.Store(false)
	t.Cleanup(func() { emptyPathLink.Store(old) })
	setNamedTemp(t, false)
	dir := t.TempDir()
	b := NewBatch()
	when := time.Date(1999, 12, 31, 23, 59, 58, 0, time.UTC)
	for _, content := range []string{"one", "two"} { // create, then replace
		err := writeAtomic(b, filepath.Join(dir, "f.eml"), when, func(w io.Writer) error {
			_, err := w.Write([]byte(content))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(filepath.Join(dir, "f.eml"))
	st, _ := os.Stat(filepath.Join(dir, "f.eml"))
	if err != nil || string(got) != "two" || !st.ModTime().Equal(when) {
		t.Fatalf("content %q, %v, mtime %v", got, err, st.ModTime())
	}
	if files := listFiles(t, dir); len(files) != 1 {
		t.Errorf("files = %q", files)
	}
}
