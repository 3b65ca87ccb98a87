package cryptstore

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/sink/memstore"
)

// BenchmarkPutNew10k: what encryption adds to a first sync's object
// writes: 10,000 items of 600 bytes written with PutNew (as
// snapshot.PutObjects does) into a store that only keeps the slices,
// clear and encrypted: the difference is sealing and naming alone. It
// runs on one core (GOMAXPROCS 1), so ns/op is CPU time.
func BenchmarkPutNew10k(b *testing.B) {
	items := make([]sink.Item, 10000)
	for i := range items {
		data := fmt.Appendf(nil, "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:E%d\r\nSUMMARY:Event %d\r\n%0500d\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", i, i, i)
		k, _ := objKey(data)
		items[i] = sink.Item{Key: k, Data: data}
	}
	ctx := context.Background()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, enc := range []bool{false, true} {
		b.Run(fmt.Sprintf("encrypted=%v", enc), func(b *testing.B) {
			for b.Loop() {
				keep := &keeper{Store: memstore.New()}
				var st sink.BatchPutter = keep
				if enc {
					st = newStoreForBench(b, keep)
				}
				if err := st.PutNew(ctx, items); err != nil {
					b.Fatal(err)
				}
				if len(keep.items) != len(items) {
					b.Fatalf("%d items kept", len(keep.items))
				}
			}
		})
	}
}

// keeper is a store whose PutNew only keeps the items.
type keeper struct {
	sink.Store
	items []sink.Item
}

func (k *keeper) PutNew(_ context.Context, items []sink.Item) error {
	k.items = items
	return nil
}

// newStoreForBench is an encrypted store over inner with a fixed master
// key (no key file, no KDF).
func newStoreForBench(b *testing.B, inner sink.Store) *Store {
	s, err := newStore(inner, make([]byte, masterKeyBytes), "bench")
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkOpenDefaultKDF: the once-per-run cost of opening an encrypted
// store whose key file has the default KDF (BenchmarkDerive compares the
// KDFs alone).
func BenchmarkOpenDefaultKDF(b *testing.B) {
	ctx := context.Background()
	mem := memstore.New()
	if _, err := Init(ctx, mem, "p", KeyInfo{}, DefaultKDF); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Open(ctx, mem, "p"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenAsyncDefaultKDF: opening in the background with the default
// KDF; blocked-us/op is what the caller waits before it
// goes on (listing and reading the key files), ns/op includes the
// derivation (Ready).
func BenchmarkOpenAsyncDefaultKDF(b *testing.B) {
	ctx := context.Background()
	mem := memstore.New()
	if _, err := Init(ctx, mem, "p", KeyInfo{}, DefaultKDF); err != nil {
		b.Fatal(err)
	}
	var blocked time.Duration
	for b.Loop() {
		t0 := time.Now()
		s, err := OpenAsAsync(ctx, mem, "p", "")
		blocked += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Ready(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(blocked.Microseconds())/float64(b.N), "blocked-us/op")
}

// BenchmarkPermute: naming one object.
func BenchmarkPermute(b *testing.B) {
	s := newEnc(b, memstore.New())
	_, h := objKey([]byte("x"))
	for b.Loop() {
		s.permute(h, false)
	}
}
