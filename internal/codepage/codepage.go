// Package codepage maps Windows code page identifiers, as PST files and
// RTF documents name them, to text decoders.
package codepage

import (
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
)

var pages = map[int]encoding.Encoding{
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
	936:   simplifiedchinese.GB18030, // a superset of GBK
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
	10001: japanese.ShiftJIS, // Mac Japanese: Shift JIS with a few Mac extensions
	10007: charmap.MacintoshCyrillic,
	20127: charmap.Windows1252, // US-ASCII: a superset decodes it identically
	20866: charmap.KOI8R,
	20932: japanese.EUCJP,
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

// Encoding returns the decoder for Windows code page cp, or nil when the
// code page is unknown.
func Encoding(cp int) encoding.Encoding { return pages[cp] }
