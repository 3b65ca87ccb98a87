package mail

import (
	"bytes"
	"mime"
	"strings"
	"unicode/utf8"
)

const (
	// foldAt is the preferred maximum line length (RFC 5322 2.1.1).
	foldAt = 78
	// hardLimit is the absolute maximum line length without CRLF, kept a
	// little below RFC 5322's 998 for safety.
	hardLimit = 990
)

// field is one header field. When raw is set it holds the original
// (already folded, CRLF-separated, without trailing CRLF) text of the
// whole field and is written verbatim; otherwise name and value are
// written with folding.
type field struct {
	name  string
	value string
	raw   string
}

type header []field

func (h *header) add(name, value string) {
	*h = append(*h, field{name: name, value: value})
}

func (h header) has(name string) bool {
	for _, f := range h {
		if strings.EqualFold(f.name, name) {
			return true
		}
	}
	return false
}

// size estimates the rendered size of h from above (folding and encoded
// words add to the values).
func (h header) size() int {
	n := 64 * (len(h) + 1)
	for _, f := range h {
		n += len(f.name) + len(f.value) + len(f.raw)
	}
	return n
}

func (h header) writeTo(b *bytes.Buffer) {
	for _, f := range h {
		if f.raw != "" {
			b.WriteString(f.raw)
			b.WriteString("\r\n")
			continue
		}
		writeFolded(b, f.name, f.value)
	}
}

// writeFolded writes "name: value" CRLF, folding at whitespace so that
// lines stay within foldAt characters where possible and never exceed
// hardLimit (a run without whitespace longer than that is split, which
// inserts a space on unfolding: the lesser evil compared with an invalid
// message).
func writeFolded(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(":")
	cur := len(name) + 1
	if value != "" {
		b.WriteByte(' ')
		cur++
	}
	first := true
	for _, w := range splitWords(value) {
		if !first && cur+len(w) > foldAt && strings.TrimLeft(w, " \t") != "" {
			b.WriteString("\r\n")
			cur = 0
		}
		first = false
		for cur+len(w) > hardLimit {
			n := hardLimit - cur
			if n < 1 {
				b.WriteString("\r\n ")
				cur = 1
				continue
			}
			for n > 0 && !utf8.RuneStart(w[n]) {
				n--
			}
			if n == 0 {
				n = hardLimit - cur // cannot happen with valid UTF-8
			}
			b.WriteString(w[:n])
			b.WriteString("\r\n ")
			cur = 1
			w = w[n:]
		}
		b.WriteString(w)
		cur += len(w)
	}
	b.WriteString("\r\n")
}

// splitWords splits s into chunks that each start with the whitespace that
// precedes a run of non-whitespace (the first chunk may have none).
func splitWords(s string) []string {
	var out []string
	start := 0
	for i := 1; i < len(s); i++ {
		if isWSP(s[i]) && !isWSP(s[i-1]) {
			out = append(out, s[start:i])
			start = i
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// cleanText makes s safe for a header: valid UTF-8, control characters
// (CR, LF, TAB, ...) turned into spaces, runs of spaces collapsed and the
// result trimmed.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			r = ' '
		}
		if r == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// encodeText returns s as unstructured header text, RFC 2047 encoded when
// it is not plain ASCII.
func encodeText(s string) string {
	s = cleanText(s)
	if isASCII(s) {
		return s
	}
	return encodeWords(s, false)
}

// encodeWords RFC 2047 encodes s as UTF-8 encoded-words of at most
// maxWord characters each, so that a folded line holding one stays within
// 78 characters. B is used for mostly non-ASCII text and, when phrase is
// set, for text with characters a Q encoded-word may not carry in a
// phrase (RFC 2047 5(3)); Q otherwise.
func encodeWords(s string, phrase bool) string {
	const maxWord = 60
	enc := mime.QEncoding
	runes, non := 0, 0
	for _, r := range s {
		runes++
		if r >= 0x80 {
			non++
		}
	}
	if non*10 > runes*3 || phrase && strings.ContainsAny(s, "\"#$%&'(),.:;<>@[]^`{|}~") {
		enc = mime.BEncoding
	}
	var words []string
	for s != "" {
		// Grow the chunk rune by rune while its encoding fits.
		n, best := 0, ""
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			w := encodeChunk(enc, s[:n+size])
			if len(w) > maxWord && n > 0 {
				break
			}
			n += size
			best = w
		}
		words = append(words, best)
		s = s[n:]
	}
	return strings.Join(words, " ")
}

// encodeChunk encodes s as one encoded-word. The mime encoders leave pure
// ASCII alone; such chunks are Q-encoded here so that adjacent words join
// without a space on decoding.
func encodeChunk(enc mime.WordEncoder, s string) string {
	if w := enc.Encode("utf-8", s); strings.HasPrefix(w, "=?") {
		return w
	}
	return "=?utf-8?q?" + qEscape(s) + "?="
}

// qEscape Q-encodes ASCII text conservatively (letters and digits only
// stay literal).
func qEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('_')
		default:
			b.WriteByte('=')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// isTokenChar reports whether c may appear in an RFC 2045 token.
func isTokenChar(c byte) bool {
	return c > 0x20 && c < 0x7f && !strings.ContainsRune(`()<>@,;:\"/[]?=`, rune(c))
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// quoteParam returns v as a token or a quoted-string.
func quoteParam(v string) string {
	if isToken(v) {
		return v
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String()
}

// mediaType formats "type/subtype; k=v; ..." with simple parameters.
func mediaType(t string, params ...string) string {
	var b strings.Builder
	b.WriteString(t)
	for i := 0; i+1 < len(params); i += 2 {
		b.WriteString("; ")
		b.WriteString(params[i])
		b.WriteByte('=')
		b.WriteString(quoteParam(params[i+1]))
	}
	return b.String()
}

// maxPlainName is the longest file name written as a plain parameter, so
// that a folded line " filename=\"...\";" stays within 78 characters.
const maxPlainName = 64

// fileParam formats a file name parameter (key "filename" or "name"),
// beginning with "; ". Plain printable ASCII names that are not too long
// are written as one quoted parameter. Anything else gets an ASCII
// fallback plus the RFC 2231 extended form (UTF-8, percent-encoded, split
// into continuations so no line gets long).
func fileParam(key, name string) string {
	if name == "" {
		return ""
	}
	if isPrintableASCII(name) && len(name) <= maxPlainName {
		return "; " + key + "=" + quoteParam(name)
	}
	var b strings.Builder
	b.WriteString("; ")
	b.WriteString(key)
	b.WriteByte('=')
	b.WriteString(quoteParam(asciiFallback(name)))
	enc := pctEncode(name)
	const piece = 50
	if len(enc) <= piece {
		b.WriteString("; ")
		b.WriteString(key)
		b.WriteString("*=UTF-8''")
		b.WriteString(enc)
		return b.String()
	}
	for i, n := 0, 0; i < len(enc); n++ {
		j := i + piece
		if j > len(enc) {
			j = len(enc)
		}
		// Do not split a %XX escape.
		if k := strings.LastIndexByte(enc[i:j], '%'); k >= 0 && i+k+3 > j && j < len(enc) {
			j = i + k
		}
		b.WriteString("; ")
		b.WriteString(key)
		b.WriteByte('*')
		b.WriteString(itoa(n))
		b.WriteByte('*')
		b.WriteByte('=')
		if n == 0 {
			b.WriteString("UTF-8''")
		}
		b.WriteString(enc[i:j])
		i = j
	}
	return b.String()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var d [20]byte
	i := len(d)
	for n > 0 {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return string(d[i:])
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// pctEncode percent-encodes s for an RFC 2231 extended value.
func pctEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isTokenChar(c) && c != '*' && c != '\'' && c != '%' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// asciiFallback replaces what cannot go into a plain quoted parameter with
// '_' and keeps the result short, preserving the extension.
func asciiFallback(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r < 0x20 || r >= 0x7f {
			b.WriteByte('_')
			continue
		}
		b.WriteRune(r)
	}
	s := b.String()
	if len(s) > maxPlainName {
		ext := ""
		if i := strings.LastIndexByte(s, '.'); i >= 0 && len(s)-i <= 10 {
			ext = s[i:]
		}
		s = s[:maxPlainName-len(ext)] + ext
	}
	return s
}
