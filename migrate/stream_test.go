package migrate_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/migrate"
	"github.com/pstsync/pstsync/pst"
	"github.com/pstsync/pstsync/pst/mail"
)

// TestStreamedMessages: enron.pst has a message of several megabytes,
// which export writes to its EML file as it encodes it instead of
// rendering it in memory. The file holds exactly what mail.Build renders.
func TestStreamedMessages(t *testing.T) {
	src := testutil.Enron(t)
	out := t.TempDir()
	rep, err := migrate.Export(context.Background(), []string{src}, migrate.Options{Out: out})
	if err != nil || !rep.Complete {
		t.Fatalf("export: %v, %+v", err, rep.Totals)
	}
	files := map[int64][]string{} // size -> paths
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".eml" {
			if st, err := d.Info(); err == nil {
				files[st.Size()] = append(files[st.Size()], p)
			}
		}
		return err
	})

	f, err := pst.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	large := 0
	err = f.Walk(context.Background(), func(fo *pst.Folder) error {
		refs, err := fo.Items()
		for _, r := range refs {
			m, err := f.Message(r.NID)
			if err != nil {
				return err
			}
			if p, err := mail.Prepare(m, mail.Options{}); err != nil || p.Size() <= 1<<20 {
				m.Release()
				continue
			}
			large++
			want, err := mail.Build(m, mail.Options{})
			m.Release()
			if err != nil {
				return err
			}
			found := false
			for _, path := range files[int64(len(want))] {
				if got, err := os.ReadFile(path); err == nil && bytes.Equal(got, want) {
					found = true
				}
			}
			if !found {
				t.Errorf("message %#x (%d bytes): no exported file holds what mail.Build renders", r.NID, len(want))
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if large == 0 {
		t.Fatal("no message above 1 MiB in enron.pst: the streamed path went untested")
	}
}
