package pst

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestDecodePermute checks decodePermuteTo against the table itself, for
// every length up to a few vectors, at unaligned offsets, in place and
// into another buffer: the vector loop (where the CPU has it) and the
// byte loop for the tail must agree with mpbbI byte for byte.
func TestDecodePermute(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]byte, 4096+3)
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	for i := range 256 { // every byte value, in a vector of its own
		src[1+i] = byte(i)
	}
	has := permuteVBMI
	defer func() { permuteVBMI = has }()
	for _, vector := range []bool{false, true} {
		if vector && !has {
			// Not a skip: the byte loop, which is what runs on this
			// CPU, was checked in full.
			t.Log("the CPU has no AVX-512 VBMI: only the byte loop was checked")
			continue
		}
		permuteVBMI = vector
		for _, off := range []int{0, 1, 3} {
			for n := 0; n <= 300; n++ {
				checkPermute(t, src[off:off+n])
			}
			checkPermute(t, src[off:off+4096])
		}
	}
}

// checkPermute checks decodePermuteTo on src, into another buffer and in
// place, against mpbbI, and the round trip through encodePermute.
func checkPermute(t *testing.T, src []byte) {
	t.Helper()
	want := make([]byte, len(src))
	for i, c := range src {
		want[i] = mpbbI[c]
	}
	got := make([]byte, len(src)+1)
	got[len(src)] = 0xA5
	decodePermuteTo(got, src)
	if !bytes.Equal(got[:len(src)], want) || got[len(src)] != 0xA5 {
		t.Fatalf("decodePermuteTo of %d bytes: wrong output", len(src))
	}
	inPlace := append([]byte(nil), src...)
	decodePermuteTo(inPlace, inPlace)
	if !bytes.Equal(inPlace, want) {
		t.Fatalf("decodePermuteTo of %d bytes in place: wrong output", len(src))
	}
	// Round trip through the encoder.
	encodePermute(inPlace)
	if !bytes.Equal(inPlace, src) {
		t.Fatalf("encodePermute(decodePermuteTo(x)) != x for %d bytes", len(src))
	}
}

func BenchmarkDecodePermute(b *testing.B) {
	buf := make([]byte, 8192)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	for _, c := range []struct {
		name string
		f    func(dst, src []byte)
	}{{"bytes", decodePermuteGeneric}, {"best", decodePermuteTo}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				c.f(buf, buf)
			}
		})
	}
}
