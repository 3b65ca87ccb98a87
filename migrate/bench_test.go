package migrate_test

import (
	"context"
	"os"
	"testing"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/migrate"
)

// BenchmarkExportEnron exports enron.pst (2,178 messages) as EML; with
// PSTSYNC_BENCH_DIR on a tmpfs it measures conversion rather than the disk.
func BenchmarkExportEnron(b *testing.B) {
	src := testutil.Enron(b)
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
