package cryptstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/sink/memstore"
)

// BenchmarkPutNew10k: what encryption adds to a first sync's object
// writes: 10,000 items of 600 bytes into a memory store, clear and
// encrypted (sealing and naming only; no disk).
func BenchmarkPutNew10k(b *testing.B) {
	items := make([]sink.Item, 10000)
	for i := range items {
		data := fmt.Appendf(nil, "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:E%d\r\nSUMMARY:Event %d\r\n%0500d\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", i, i, i)
		k, _ := objKey(data)
		items[i] = sink.Item{Key: k, Data: data}
	}
	ctx := context.Background()
	for _, enc := range []bool{false, true} {
		b.Run(fmt.Sprintf("encrypted=%v", enc), func(b *testing.B) {
			for b.Loop() {
				var st sink.Store = memstore.New()
				if enc {
					st = newEnc(b, st)
				}
				if err := sink.PutNewParallel(ctx, st, items, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpenDefaultKDF: the once-per-run cost of opening an encrypted
// store with the default scrypt parameters.
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

// BenchmarkPermute: naming one object.
func BenchmarkPermute(b *testing.B) {
	s := newEnc(b, memstore.New())
	_, h := objKey([]byte("x"))
	for b.Loop() {
		s.permute(h, false)
	}
}
