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

// exercise opens data as a PST and reads everything reachable. It fails
// the test when a panic was recovered anywhere (reported as an internal
// error): damaged input must give ordinary errors.
func exercise(t testing.TB, data []byte) {
	f, err := pst.NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if strings.Contains(err.Error(), "internal error") {
			t.Fatalf("open panicked: %v", err)
		}
		return
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
