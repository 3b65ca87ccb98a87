package jsonscan

import "unicode/utf8"

// AppendString appends s quoted as encoding/json's appendString does
// with escapeHTML false: \" \\ \b \f \n \r \t, other control bytes as
// \u00XX, each byte of invalid UTF-8 as \ufffd, U+2028 and U+2029 as
// \u2028 and \u2029, everything else as it is.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		i = skipPlain8(s, i)
		if i >= len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonPlain[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// skipPlain8 returns the index in s, from i on, of the first run of eight
// bytes that is not all plain, or of the last, shorter run: keys, UIDs and
// hashes pass eight bytes at a time. A byte is plain when it stands for
// itself in a JSON string and needs no UTF-8 check: no control byte, no
// quote, no backslash, none above 0x7f.
func skipPlain8(s string, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		c := s[i : i+8]
		_ = c[7] // one bounds check
		x := uint64(c[0]) | uint64(c[1])<<8 | uint64(c[2])<<16 | uint64(c[3])<<24 |
			uint64(c[4])<<32 | uint64(c[5])<<40 | uint64(c[6])<<48 | uint64(c[7])<<56
		// A byte's high bit is set in one of the terms when the byte is
		// above 0x7f, below 0x20, or (the term where it is XORed to
		// zero) the quote or the backslash; for a byte that is none of
		// these, in none (a borrow runs only above such a byte).
		quote, backslash := x^(ones*'"'), x^(ones*'\\')
		if (x|(x-ones*0x20)|(quote-ones)|(backslash-ones))&highs != 0 {
			break
		}
	}
	return i
}

// jsonPlain[b] says ASCII byte b stands for itself in a JSON string as
// encoding/json writes it without HTML escaping: everything from space up,
// DEL included, but the quote and the backslash.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for b := ' '; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"
