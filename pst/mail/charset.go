package mail

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/pstsync/pstsync/internal/codepage"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
)

// codePageEncoding returns the decoder for a Windows code page, or nil.
func codePageEncoding(cp int64) encoding.Encoding {
	return codepage.Encoding(int(cp))
}

var metaCharsetRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)`)
})

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
		if m := metaCharsetRE().FindSubmatch(head); m != nil {
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
	return metaCharsetRE().ReplaceAllStringFunc(h, func(m string) string {
		sub := metaCharsetRE().FindStringSubmatchIndex(m)
		if sub == nil || sub[2] < 0 {
			return m
		}
		return m[:sub[2]] + "utf-8" + m[sub[3]:]
	})
}
