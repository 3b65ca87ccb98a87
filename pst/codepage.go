package pst

import (
	"strings"
	"unicode/utf8"

	"github.com/pstsync/pstsync/internal/codepage"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
)

// DefaultCodePage is used for 8-bit strings when an object names none.
const DefaultCodePage = 1252

// CodePageEncoding returns the text encoding of a Windows code page
// identifier, or nil when unknown.
func CodePageEncoding(cp int) encoding.Encoding { return codepage.Encoding(cp) }

// DecodeCodePage decodes b from Windows code page cp into UTF-8. ASCII and
// UTF-8 (65001) pass through; an unknown code page falls back to 1252, and
// invalid sequences become U+FFFD rather than failing.
func DecodeCodePage(b []byte, cp int) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	if cp == 65001 || cp == 20127 && utf8.Valid(b) {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	enc := CodePageEncoding(cp)
	if enc == nil {
		enc = charmap.Windows1252
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(out)
}
