package pst_test

import (
	"context"
	"os"
	"sync/atomic"
	"testing"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/pst"
)

// countingReader counts the reads that reach the file.
type countingReader struct {
	r     *os.File
	reads atomic.Int64
	bytes atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.reads.Add(1)
	c.bytes.Add(int64(len(p)))
	return c.r.ReadAt(p, off)
}

// decodeAll decodes every property of m, its recipients and attachments
// (values are decoded when first read).
func decodeAll(m *pst.Message) {
	m.Props.All()
	for _, r := range m.Recipients {
		r.All()
	}
	for _, a := range m.Attachments {
		a.Props.All()
		if a.Embedded != nil {
			decodeAll(a.Embedded)
		}
	}
}

// readEverything reads every item of f with all its properties.
func readEverything(tb testing.TB, f *pst.File) (items int) {
	err := f.Walk(context.Background(), func(fo *pst.Folder) error {
		refs, err := fo.Items()
		if err != nil {
			return err
		}
		for _, r := range refs {
			m, err := f.Message(r.NID)
			if err != nil {
				tb.Fatalf("message %#x: %v", r.NID, err)
			}
			decodeAll(m)
			m.Release()
			items++
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return items
}

// TestPageCache: reading every item of enron.pst reaches the file in a
// few large reads, each byte about once, instead of the hundreds of tiny
// reads per message the format's structure implies. Opening reads each
// B-tree page once, directly (they lie scattered over the file; pulling
// a 64 KiB chunk for each cost 10 MB of reads).
func TestPageCache(t *testing.T) {
	fh, err := os.Open(testutil.Enron(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	st, _ := fh.Stat()
	cr := &countingReader{r: fh}
	f, err := pst.NewFile(cr, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	// enron.pst: its two B-trees have < 1,000 pages of 512 bytes.
	if n, b := cr.reads.Load(), cr.bytes.Load(); n > 1000 || b > 1<<20 {
		t.Errorf("opening: %d reads of %d bytes", n, b)
	}
	cr.reads.Store(0)
	cr.bytes.Store(0)
	items := readEverything(t, f)
	if items != 2178 {
		t.Errorf("%d items, want 2178", items)
	}
	if n := cr.reads.Load(); n > st.Size()/(64<<10)+16 {
		t.Errorf("%d reads reached the file for %d items", n, items)
	}
	if b := cr.bytes.Load(); b > st.Size()+(1<<20) {
		t.Errorf("%d bytes read from a %d-byte file", b, st.Size())
	}
}

// BenchmarkReadEnron opens enron.pst and reads every item with its
// recipients and attachments.
func BenchmarkReadEnron(b *testing.B) {
	path := testutil.Enron(b)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f, err := pst.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if n := readEverything(b, f); n != 2178 {
			b.Fatalf("%d items", n)
		}
		f.Close()
	}
}

// BenchmarkOpen measures opening a file: header and both B-trees.
func BenchmarkOpen(b *testing.B) {
	path := testutil.Enron(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f, err := pst.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// BenchmarkExerciseSample reads a small sample end to end (the fuzz
// target's work).
func BenchmarkExerciseSample(b *testing.B) {
	data, err := os.ReadFile(testutil.Sample(b, "java-libpst__dist-list.pst"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		exercise(b, data)
	}
}
