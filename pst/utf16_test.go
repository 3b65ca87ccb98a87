package pst

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"unicode/utf16"
)

func TestUTF16LE(t *testing.T) {
	enc := func(s string, extra ...uint16) []byte {
		u := append(utf16.Encode([]rune(s)), extra...)
		b := make([]byte, 2*len(u))
		for i, x := range u {
			binary.LittleEndian.PutUint16(b[2*i:], x)
		}
		return b
	}
	cases := []struct {
		in   []byte
		want string
	}{
		{enc("hello"), "hello"},
		{enc("hello", 0, 0), "hello"},
		{enc("Délétéd €"), "Délétéd €"},
		{enc("テスト 😀 x"), "テスト 😀 x"},
		{enc("a", 0xD800), "a\uFFFD"},       // lone high surrogate at the end
		{enc("a", 0xDC00, 'b'), "a\uFFFDb"}, // lone low surrogate
		{append(enc("ab"), 'c'), "ab"},      // odd length
		{nil, ""},
	}
	for _, tc := range cases {
		if got := utf16le(tc.in); got != tc.want {
			t.Errorf("utf16le(% x) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestUTF16LEMatchesStdlib compares utf16le with unicode/utf16 on random
// mixes of ASCII runs (the four-units-at-a-time path), other BMP text,
// pairs and lone surrogates, at every alignment.
func TestUTF16LEMatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	units := []uint16{'a', 'Z', ' ', '\n', 0x7f, 0x80, 0xe9, 0x20ac, 0x3042, 0xD83D, 0xDE00, 0xDC00, 0xD800, 0x100, 0xff}
	for n := 0; n < 2000; n++ {
		var u []uint16
		for k := r.IntN(40); k > 0; k-- {
			if r.IntN(3) == 0 {
				for j := r.IntN(9); j > 0; j-- {
					u = append(u, uint16('a'+r.IntN(26)))
				}
				continue
			}
			u = append(u, units[r.IntN(len(units))])
		}
		for len(u) > 0 && u[len(u)-1] == 0 {
			u = u[:len(u)-1]
		}
		b := make([]byte, 2*len(u))
		for i, x := range u {
			binary.LittleEndian.PutUint16(b[2*i:], x)
		}
		if got, want := utf16le(b), string(utf16.Decode(u)); got != want {
			t.Fatalf("utf16le(%04x) = %q, want %q", u, got, want)
		}
	}
}
