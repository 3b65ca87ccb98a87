//go:build unix

package pst_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/pst"
)

// TestMappedFileTruncated: a PST another program truncates while pstsync
// reads it (mapped into memory, its pages beyond the new end fault) costs
// the items read afterwards, each with an error, and not the process.
func TestMappedFileTruncated(t *testing.T) {
	src, err := os.Open(testutil.Sample(t, "aspose__Outlook.pst"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), "shrinking.pst")
	dst, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()

	f, err := pst.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !f.Mapped() {
		t.Skip("this platform reads the file instead of mapping it")
	}
	var nids []uint32
	err = f.Walk(t.Context(), func(fo *pst.Folder) error {
		items, err := fo.Items()
		for _, it := range items {
			nids = append(nids, it.NID)
		}
		return err
	})
	if err != nil || len(nids) < 10 {
		t.Fatalf("walk: %d items, %v", len(nids), err)
	}
	// Before: every item reads.
	for _, nid := range nids {
		m, err := f.Message(nid)
		if err != nil {
			t.Fatalf("message %#x before truncation: %v", nid, err)
		}
		m.Release()
	}
	if err := os.Truncate(path, 4096); err != nil {
		t.Fatal(err)
	}
	faults := 0
	for _, nid := range nids {
		m, err := f.Message(nid)
		if err == nil {
			m.Release()
			continue
		}
		if strings.Contains(err.Error(), "the file changed while it was read") {
			faults++
		}
	}
	t.Logf("%d of %d items reported the truncated file", faults, len(nids))
	if faults == 0 {
		t.Errorf("no item of %d reported the truncated file", len(nids))
	}
}
