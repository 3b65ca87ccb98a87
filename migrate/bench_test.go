package migrate_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pstsync/pstsync/migrate"
)

// enron finds data/enron.pst in the go-pst module zip (module proxy).
func enron(b *testing.B) string {
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/mooijtech/go-pst/v6@v6.0.2").Output()
	if err != nil {
		b.Skipf("go-pst module not available: %v", err)
	}
	i := bytes.Index(out, []byte(`"Dir": "`))
	rest := out[i+8:]
	return filepath.Join(string(rest[:bytes.IndexByte(rest, '"')]), "data", "enron.pst")
}

// BenchmarkExportEnron exports enron.pst (2,178 messages) as EML; with
// PSTSYNC_BENCH_DIR on a tmpfs it measures conversion rather than the disk.
func BenchmarkExportEnron(b *testing.B) {
	src := enron(b)
	base := os.Getenv("PSTSYNC_BENCH_DIR")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		dir, err := os.MkdirTemp(base, "bench-")
		if err != nil {
			b.Fatal(err)
		}
		rep, err := migrate.Export(context.Background(), []string{src}, migrate.Options{Out: dir})
		if err != nil || rep.Totals.Written != 2178 {
			b.Fatalf("export: %v, %+v", err, rep.Totals)
		}
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
}
