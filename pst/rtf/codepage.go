package rtf

import (
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

const (
	cpDefault = 1252  // \ansi and the fallback for unknown code pages
	cpUTF8    = 65001 // decoded without x/text
)

// encodingFor returns the decoder for a Windows code page number, or nil when
// the code page is not supported (callers then fall back to cp1252).
func encodingFor(cp int) encoding.Encoding {
	switch cp {
	case 437:
		return charmap.CodePage437
	case 850:
		return charmap.CodePage850
	case 852:
		return charmap.CodePage852
	case 855:
		return charmap.CodePage855
	case 858:
		return charmap.CodePage858
	case 860:
		return charmap.CodePage860
	case 862:
		return charmap.CodePage862
	case 863:
		return charmap.CodePage863
	case 865:
		return charmap.CodePage865
	case 866:
		return charmap.CodePage866
	case 874:
		return charmap.Windows874
	case 932:
		return japanese.ShiftJIS
	case 936:
		return simplifiedchinese.GBK
	case 949:
		return korean.EUCKR
	case 950:
		return traditionalchinese.Big5
	case 1250:
		return charmap.Windows1250
	case 1251:
		return charmap.Windows1251
	case 1252:
		return charmap.Windows1252
	case 1253:
		return charmap.Windows1253
	case 1254:
		return charmap.Windows1254
	case 1255:
		return charmap.Windows1255
	case 1256:
		return charmap.Windows1256
	case 1257:
		return charmap.Windows1257
	case 1258:
		return charmap.Windows1258
	case 10000:
		return charmap.Macintosh
	case 10007:
		return charmap.MacintoshCyrillic
	case 20866:
		return charmap.KOI8R
	case 21866:
		return charmap.KOI8U
	case 20932, 51932:
		return japanese.EUCJP
	case 50220, 50221, 50222:
		return japanese.ISO2022JP
	case 51949:
		return korean.EUCKR
	case 54936:
		return simplifiedchinese.GB18030
	case 28591:
		return charmap.ISO8859_1
	case 28592:
		return charmap.ISO8859_2
	case 28593:
		return charmap.ISO8859_3
	case 28594:
		return charmap.ISO8859_4
	case 28595:
		return charmap.ISO8859_5
	case 28596:
		return charmap.ISO8859_6
	case 28597:
		return charmap.ISO8859_7
	case 28598:
		return charmap.ISO8859_8
	case 28599:
		return charmap.ISO8859_9
	case 28603:
		return charmap.ISO8859_13
	case 28605:
		return charmap.ISO8859_15
	}
	return nil
}

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
