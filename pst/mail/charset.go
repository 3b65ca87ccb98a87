package mail

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
)

// codePages maps Windows code page numbers (as found in
// PidTagInternetCodepage / PidTagMessageCodepage) to decoders.
var codePages = map[int64]encoding.Encoding{
	37:    charmap.CodePage037,
	437:   charmap.CodePage437,
	850:   charmap.CodePage850,
	852:   charmap.CodePage852,
	855:   charmap.CodePage855,
	858:   charmap.CodePage858,
	860:   charmap.CodePage860,
	862:   charmap.CodePage862,
	863:   charmap.CodePage863,
	865:   charmap.CodePage865,
	866:   charmap.CodePage866,
	874:   charmap.Windows874,
	932:   japanese.ShiftJIS,
	936:   simplifiedchinese.GBK,
	949:   korean.EUCKR,
	950:   traditionalchinese.Big5,
	1047:  charmap.CodePage1047,
	1140:  charmap.CodePage1140,
	1200:  unicode.UTF16(unicode.LittleEndian, unicode.UseBOM),
	1201:  unicode.UTF16(unicode.BigEndian, unicode.UseBOM),
	1250:  charmap.Windows1250,
	1251:  charmap.Windows1251,
	1252:  charmap.Windows1252,
	1253:  charmap.Windows1253,
	1254:  charmap.Windows1254,
	1255:  charmap.Windows1255,
	1256:  charmap.Windows1256,
	1257:  charmap.Windows1257,
	1258:  charmap.Windows1258,
	10000: charmap.Macintosh,
	10007: charmap.MacintoshCyrillic,
	20127: charmap.Windows1252, // US-ASCII: a superset decodes it identically
	20866: charmap.KOI8R,
	21866: charmap.KOI8U,
	28591: charmap.ISO8859_1,
	28592: charmap.ISO8859_2,
	28593: charmap.ISO8859_3,
	28594: charmap.ISO8859_4,
	28595: charmap.ISO8859_5,
	28596: charmap.ISO8859_6,
	28597: charmap.ISO8859_7,
	28598: charmap.ISO8859_8,
	28599: charmap.ISO8859_9,
	28603: charmap.ISO8859_13,
	28605: charmap.ISO8859_15,
	38598: charmap.ISO8859_8,
	50220: japanese.ISO2022JP,
	50221: japanese.ISO2022JP,
	50222: japanese.ISO2022JP,
	51932: japanese.EUCJP,
	51936: simplifiedchinese.GBK,
	51949: korean.EUCKR,
	52936: simplifiedchinese.HZGB2312,
	54936: simplifiedchinese.GB18030,
	65001: unicode.UTF8,
}

// codePageEncoding returns the decoder for a Windows code page, or nil.
func codePageEncoding(cp int64) encoding.Encoding {
	return codePages[cp]
}

var metaCharsetRE = regexp.MustCompile(`(?i)<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)`)

// decodeBytes converts b to UTF-8. Priority: a byte order mark, the
// primary code page when known, a <meta charset> in the document when html
// is set, valid UTF-8 as is, the first known fallback code page, then
// windows-1252.
func decodeBytes(b []byte, html bool, primary int64, fallbacks ...int64) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return strings.ToValidUTF8(string(b[3:]), "\uFFFD")
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return decodeWith(unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM), b)
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return decodeWith(unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM), b)
	}
	if enc := codePageEncoding(primary); enc != nil {
		return decodeWith(enc, b)
	}
	if html {
		head := b
		if len(head) > 4096 {
			head = head[:4096]
		}
		if m := metaCharsetRE.FindSubmatch(head); m != nil {
			if enc, err := htmlindex.Get(string(m[1])); err == nil && enc != nil {
				return decodeWith(enc, b)
			}
		}
	}
	if utf8.Valid(b) {
		return string(b)
	}
	for _, cp := range fallbacks {
		if enc := codePageEncoding(cp); enc != nil {
			return decodeWith(enc, b)
		}
	}
	return decodeWith(charmap.Windows1252, b)
}

func decodeWith(enc encoding.Encoding, b []byte) string {
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		// Decoders replace invalid sequences; an error here is unusual.
		// Fall back to a lossless-as-possible Latin-1 style reading.
		out, _ = charmap.Windows1252.NewDecoder().Bytes(b)
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

// relabelHTMLCharset rewrites charset declarations in <meta> tags to utf-8
// since the HTML is re-encoded as UTF-8.
func relabelHTMLCharset(h string) string {
	return metaCharsetRE.ReplaceAllStringFunc(h, func(m string) string {
		sub := metaCharsetRE.FindStringSubmatchIndex(m)
		if sub == nil || sub[2] < 0 {
			return m
		}
		return m[:sub[2]] + "utf-8" + m[sub[3]:]
	})
}
