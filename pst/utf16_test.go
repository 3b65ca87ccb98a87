package pst

import (
	"encoding/binary"
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
