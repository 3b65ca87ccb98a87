package jsonscan

import (
	"slices"
	"testing"
)

// TestSkipPlain8: skipPlain8 tells a run of eight plain bytes from one holding any
// byte that needs care, wherever it is and whatever is next to it.
func TestSkipPlain8(t *testing.T) {
	plain := func(b byte) bool { return b >= 0x20 && b < 0x80 && b != '"' && b != '\\' }
	base := []byte("aZ09 ~\x7f/")
	for i := range 8 {
		for b := range 256 {
			s := slices.Clone(base)
			s[i] = byte(b)
			if got := skipPlain8(string(s), 0) == 8; got != plain(byte(b)) {
				t.Fatalf("skipPlain8(%q, 0) == 8 is %v", s, got)
			}
			for j := i + 1; j < 8; j++ {
				for c := range 256 {
					s[j] = byte(c)
					if got := skipPlain8(string(s), 0) == 8; got != (plain(byte(b)) && plain(byte(c))) {
						t.Fatalf("skipPlain8(%q, 0) == 8 is %v", s, got)
					}
				}
				s[j] = base[j]
			}
		}
	}
}
