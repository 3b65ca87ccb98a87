package syncer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/pstsync/pstsync/snapshot"
)

// BenchmarkSyncNoChange: a user's sync when nothing changed, on a snapshot
// of PSTSYNC_BENCH_ITEMS (default 10,000) items, half events and half
// contacts, from a fresh Repo as a new process would. It must commit
// nothing, write nothing and decode nothing (reported as decodes/op).
func BenchmarkSyncNoChange(b *testing.B) {
	for _, tc := range stores {
		b.Run(tc.name, func(b *testing.B) {
			n := 10000
			if v := os.Getenv("PSTSYNC_BENCH_ITEMS"); v != "" {
				n, _ = strconv.Atoi(v)
			}
			ctx := context.Background()
			store := tc.store(b)
			dir := b.TempDir()
			src := filepath.Join(dir, "src")
			for i := range n {
				if i%2 == 0 {
					put(b, src, fmt.Sprintf("e%d.ics", i), icsEvent(fmt.Sprintf("E%d", i), fmt.Sprintf("Event %d", i), "LOCATION:Room "+strconv.Itoa(i%17)))
				} else {
					put(b, src, fmt.Sprintf("c%d.vcf", i), vcfCard(fmt.Sprintf("C%d", i), fmt.Sprintf("Person %d", i), fmt.Sprintf("EMAIL:p%d@example.com", i)))
				}
			}
			opts := func() Options {
				repo, err := snapshot.Open(ctx, store)
				if err != nil {
					b.Fatal(err)
				}
				return Options{User: "alice", Source: src, Repo: repo, Mailbox: filepath.Join(dir, "mb"), Now: tick}
			}
			if _, err := Sync(ctx, opts()); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			decodes := 0
			for b.Loop() {
				res, err := Sync(ctx, opts())
				if err != nil {
					b.Fatal(err)
				}
				if res.Committed || len(res.Files) > 0 {
					b.Fatalf("no-change sync committed %v, wrote %v", res.Committed, res.Files)
				}
				decodes += res.Decoded
			}
			b.ReportMetric(float64(decodes)/float64(b.N), "decodes/op")
		})
	}
}

// BenchmarkSyncFirst: a user's first sync of PSTSYNC_BENCH_ITEMS (default
// 10,000) one-event .ics files into a new local store and mailbox, as
// scripts/bench-sync runs it; for profiling the per-item work.
func BenchmarkSyncFirst(b *testing.B) {
	n := 10000
	if v := os.Getenv("PSTSYNC_BENCH_ITEMS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	ctx := context.Background()
	src := filepath.Join(b.TempDir(), "src")
	for i := range n {
		put(b, src, fmt.Sprintf("e%06d.ics", i), icsEvent(fmt.Sprintf("E%d", i), fmt.Sprintf("Event %d", i), "LOCATION:Room "+strconv.Itoa(i%17)))
	}
	b.ResetTimer()
	for b.Loop() {
		dir := b.TempDir()
		repo, err := snapshot.Open(ctx, localStore(b))
		if err != nil {
			b.Fatal(err)
		}
		res, err := Sync(ctx, Options{User: "alice", Source: src, Repo: repo, Mailbox: filepath.Join(dir, "mb"), Now: tick})
		if err != nil {
			b.Fatal(err)
		}
		if !res.Committed || res.Added != n {
			b.Fatalf("first sync committed %v, added %d of %d", res.Committed, res.Added, n)
		}
	}
}
