package sink

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestBatch(t *testing.T) {
	dir := t.TempDir()
	b := NewBatch()
	paths := []string{"a/x.ics", "a/y.ics", "b/c/z.vcf"}
	for i, p := range paths {
		if err := b.WriteFile(filepath.Join(dir, p), []byte(strings.Repeat("v", i+1))); err != nil {
			t.Fatal(err)
		}
	}
	// a rewrite replaces the file
	if err := b.WriteFile(filepath.Join(dir, paths[0]), []byte("new")); err != nil {
		t.Fatal(err)
	}
	eml, err := NewEMLWriter(filepath.Join(dir, "mail"))
	if err != nil {
		t.Fatal(err)
	}
	eml.UseBatch(b)
	if err := eml.Add(context.Background(), []string{"Inbox"}, MailItem{Raw: []byte("Subject: x\r\n\r\nhi\r\n"), Name: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := eml.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, paths[0])); !bytes.Equal(got, []byte("new")) {
		t.Errorf("rewritten file holds %q", got)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, paths[2])); string(got) != "vvv" {
		t.Errorf("file holds %q", got)
	}
	var temps []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, tempSuffix) {
			temps = append(temps, p)
		}
		return nil
	})
	if len(temps) != 0 {
		t.Errorf("temporary files left: %v", temps)
	}
	if n, _ := filepath.Glob(filepath.Join(dir, "mail", "Inbox", "*.eml")); len(n) != 1 {
		t.Errorf("eml files %v", n)
	}
	if err := b.Sync(); err != nil { // nothing pending
		t.Fatal(err)
	}
}

// TestBatchFlush: with background flushing, every file is written and
// Sync returns, also when it comes right after Flush (a flusher that had
// not started yet once waited forever) and when more files are written
// than one flush covers.
func TestBatchFlush(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 500; i++ {
			b := NewBatch()
			b.Flush()
			if err := b.Sync(); err != nil {
				t.Error(err)
				return
			}
		}
		old := flushEvery
		flushEvery = 3
		defer func() { flushEvery = old }()
		dir := t.TempDir()
		b := NewBatch()
		b.Flush()
		for i := 0; i < 50; i++ {
			if err := b.WriteFile(filepath.Join(dir, "d", strconv.Itoa(i)+".eml"), []byte("x")); err != nil {
				t.Error(err)
				return
			}
		}
		if err := b.Sync(); err != nil {
			t.Error(err)
		}
		if n := len(listFiles(t, dir)); n != 50 {
			t.Errorf("%d files, want 50", n)
		}
		if n := b.flushes.Load(); canSyncFS && n == 0 {
			t.Error("no background flush over 50 files")
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Batch.Sync did not return: the background flusher hangs")
	}
}
