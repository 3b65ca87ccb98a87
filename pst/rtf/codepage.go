package rtf

import (
	"unicode/utf8"

	"github.com/pstsync/pstsync/internal/codepage"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
)

const (
	cpDefault = 1252  // \ansi and the fallback for unknown code pages
	cpUTF8    = 65001 // decoded without x/text
)

// encodingFor returns the decoder for a Windows code page number, or nil when
// the code page is not supported (callers then fall back to cp1252).
func encodingFor(cp int) encoding.Encoding { return codepage.Encoding(cp) }

// charsetCodePage maps an RTF \fcharsetN value to a code page. It returns 0
// for charsets that mean "use the document default" (ANSI, DEFAULT, SYMBOL)
// and for unknown values.
func charsetCodePage(charset int) int {
	switch charset {
	case 77:
		return 10000
	case 128:
		return 932
	case 129:
		return 949
	case 134:
		return 936
	case 136:
		return 950
	case 161:
		return 1253
	case 162:
		return 1254
	case 163:
		return 1258
	case 177:
		return 1255
	case 178:
		return 1256
	case 186:
		return 1257
	case 204:
		return 1251
	case 222:
		return 874
	case 238:
		return 1250
	case 254:
		return 437
	case 255:
		return 850
	}
	return 0
}

// decoderCache keeps one decoder per code page for a parse run (decoders are
// stateful and not safe for concurrent use, so the cache is per parser).
type decoderCache map[int]*encoding.Decoder

// appendDecoded appends the UTF-8 form of text, encoded in code page cp, to
// dst. ASCII runs are copied as is.
func (c decoderCache) appendDecoded(dst []byte, text []byte, cp int) []byte {
	ascii := true
	for _, b := range text {
		if b >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return append(dst, text...)
	}
	if cp == cpUTF8 {
		for len(text) > 0 {
			r, n := utf8.DecodeRune(text)
			dst = utf8.AppendRune(dst, r) // invalid bytes become U+FFFD
			text = text[n:]
		}
		return dst
	}
	enc := encodingFor(cp)
	if enc == nil {
		cp, enc = cpDefault, charmap.Windows1252
	}
	dec, ok := c[cp]
	if !ok {
		dec = enc.NewDecoder()
		c[cp] = dec
	}
	dec.Reset()
	out, err := dec.Bytes(text)
	if err != nil {
		// x/text decoders replace invalid input rather than failing; keep a
		// safe fallback anyway: one replacement-free Latin-1 rune per byte.
		for _, b := range text {
			dst = utf8.AppendRune(dst, rune(b))
		}
		return dst
	}
	return append(dst, out...)
}
