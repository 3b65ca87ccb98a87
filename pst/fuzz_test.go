package pst_test

import (
	"bytes"
	"context"
	"math/rand"
	"os"
	"strings"
	"testing"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/pst"
)

// exercise opens data as a PST (strictly, then recovering what it can)
// and reads everything reachable. It fails
// the test when a panic was recovered anywhere (reported as an internal
// error): damaged input must give ordinary errors.
func exercise(t testing.TB, data []byte) {
	if _, err := pst.NewFile(bytes.NewReader(data), int64(len(data))); err != nil && strings.Contains(err.Error(), "internal error") {
		t.Fatalf("strict open panicked: %v", err)
	}
	f, err := pst.NewFileRecover(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if strings.Contains(err.Error(), "internal error") {
			t.Fatalf("open panicked: %v", err)
		}
		return
	}
	for _, err := range f.Damage() {
		if strings.Contains(err.Error(), "internal error") {
			t.Fatalf("open panicked: %v", err)
		}
	}
	items := 0
	_ = f.Walk(context.Background(), func(fo *pst.Folder) error {
		refs, _ := fo.Items()
		for _, r := range refs {
			if items > 2000 {
				return nil
			}
			items++
			if _, err := f.Message(r.NID); err != nil && strings.Contains(err.Error(), "internal error") {
				t.Fatalf("message %#x panicked: %v", r.NID, err)
			}
			if m, err := f.Salvage(r.NID); err != nil && strings.Contains(err.Error(), "internal error") {
				t.Fatalf("salvaging message %#x panicked: %v", r.NID, err)
			} else if err == nil {
				for _, x := range m.Missing {
					if strings.Contains(x, "internal error") {
						t.Fatalf("message %#x: a part panicked: %s", r.NID, x)
					}
				}
			}
		}
		return nil
	})
	_, _ = f.Summarize(context.Background(), "fuzz")
}

// The seed is the smallest sample (64 KiB, ANSI); larger seeds make each
// fuzz execution slow without reaching new code.
var fuzzSeeds = []string{"go-pst__32-bit.pst"}

func FuzzOpen(f *testing.F) {
	for _, name := range fuzzSeeds {
		b, err := os.ReadFile(testutil.Sample(f, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		exercise(t, data)
	})
}

// recoverSeeds are the samples FuzzRecover damages: one ANSI, one Unicode.
var recoverSeeds = []string{"go-pst__32-bit.pst", "java-libpst__dist-list.pst"}

// FuzzRecover damages a real sample where its structures lie (the B-tree
// pages, heaps and tables past the header) and reads everything back: the
// recovery paths (a B-tree page skipped, the page scan, folders and items
// found through parent ids, the Recovered folder, salvaged items) must
// give errors, never panics. The fuzzer varies where and how: a run of
// bytes overwritten with val at off, and the file cut at cut.
func FuzzRecover(f *testing.F) {
	var samples [][]byte
	for _, name := range recoverSeeds {
		b, err := os.ReadFile(testutil.Sample(f, name))
		if err != nil {
			f.Fatal(err)
		}
		samples = append(samples, b)
	}
	// the damaged set's kinds: a root page zeroed, a page zeroed, a bit
	// flipped, a cut
	f.Add(uint8(0), uint32(0x7000-0x4400), uint16(512), byte(0), uint32(0))
	f.Add(uint8(1), uint32(0x3c00), uint16(512), byte(0), uint32(0))
	f.Add(uint8(1), uint32(0x1234), uint16(1), byte(0x10), uint32(0))
	f.Add(uint8(1), uint32(0), uint16(0), byte(0), uint32(150000))
	f.Add(uint8(0), uint32(0x800), uint16(4096), byte(0xFF), uint32(40000))
	f.Fuzz(func(t *testing.T, which uint8, off uint32, n uint16, val byte, cut uint32) {
		orig := samples[int(which)%len(samples)]
		data := append([]byte(nil), orig...)
		start := 0x4400 + int(off)%(len(data)-0x4400)
		for i := start; i < start+int(n) && i < len(data); i++ {
			if n == 1 {
				data[i] ^= val | 1 // a flip, never a no-op
			} else {
				data[i] = val
			}
		}
		if cut > 0 {
			data = data[:0x4400+int(cut)%(len(data)-0x4400)]
		}
		exercise(t, data)
	})
}

// TestDamagedSamples flips bytes in every sample, many times over, with a
// fixed seed: no panic may escape, and every failure is an ordinary error.
func TestDamagedSamples(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	rounds := 40
	if testing.Short() {
		rounds = 5
	}
	for _, path := range testutil.AllSamples(t) {
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < rounds; i++ {
			data := append([]byte(nil), orig...)
			// keep the header intact half of the time so damage reaches
			// the deeper structures
			lo := 0
			if i%2 == 0 {
				lo = 1024
			}
			for j := 0; j < 1+rng.Intn(64); j++ {
				data[lo+rng.Intn(len(data)-lo)] = byte(rng.Intn(256))
			}
			if i%7 == 0 {
				data = data[:lo+rng.Intn(len(data)-lo)]
			}
			exercise(t, data)
		}
	}
}
