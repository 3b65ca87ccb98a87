package sink

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
