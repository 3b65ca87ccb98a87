package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"mime/quotedprintable"
	"strings"
)

// part is a MIME entity: its Content-* header fields and its encoded
// body (CRLF line ends; no trailing CRLF is required).
type part struct {
	header header
	body   []byte
}

func (p *part) bytes() []byte {
	var b bytes.Buffer
	b.Grow(len(p.body) + 512)
	p.header.writeTo(&b)
	b.WriteString("\r\n")
	b.Write(p.body)
	return b.Bytes()
}

// textPart makes a text/<subtype> part in UTF-8 with the most suitable
// transfer encoding: 7bit for short-lined ASCII, base64 for text with
// control characters or mostly non-ASCII, quoted-printable otherwise.
func textPart(subtype, text string) *part {
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = normalizeNewlines(text)
	p := &part{}
	p.header.add("Content-Type", mediaType("text/"+subtype, "charset", "utf-8"))
	switch encodingFor(text) {
	case "7bit":
		p.header.add("Content-Transfer-Encoding", "7bit")
		p.body = []byte(strings.ReplaceAll(text, "\n", "\r\n"))
	case "base64":
		p.header.add("Content-Transfer-Encoding", "base64")
		p.body = base64Lines([]byte(strings.ReplaceAll(text, "\n", "\r\n")))
	default:
		p.header.add("Content-Transfer-Encoding", "quoted-printable")
		var b bytes.Buffer
		b.Grow(len(text) + len(text)/8 + 64)
		w := quotedprintable.NewWriter(&b)
		_, _ = w.Write([]byte(text)) // writes to a bytes.Buffer cannot fail
		_ = w.Close()
		p.body = b.Bytes()
	}
	return p
}

// normalizeNewlines turns CRLF and lone CR into LF.
func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// encodingFor picks the transfer encoding of LF-terminated UTF-8 text.
func encodingFor(text string) string {
	nonASCII, runes, ctl := 0, 0, false
	line, long := 0, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\n':
			line = 0
			continue
		case c >= 0xC0:
			nonASCII++
		case c < 0x20 && c != '\t' && c != '\f' || c == 0x7f:
			ctl = true
		}
		if c < 0x80 || c >= 0xC0 {
			runes++
		}
		line++
		if line > 76 {
			long = true
		}
	}
	switch {
	case ctl:
		return "base64"
	case nonASCII == 0 && !long && isASCII(text) && !hasTrailingSpace(text):
		return "7bit"
	case nonASCII*10 > runes*3:
		return "base64"
	}
	return "quoted-printable"
}

func hasTrailingSpace(text string) bool {
	for _, l := range strings.Split(text, "\n") {
		if l != "" && isWSP(l[len(l)-1]) {
			return true
		}
	}
	return false
}

// base64Lines encodes b in base64 with 76-character CRLF-separated lines.
func base64Lines(b []byte) []byte {
	n := base64.StdEncoding.EncodedLen(len(b))
	out := make([]byte, 0, n+n/76*2+2)
	for len(b) > 57 { // 57 bytes make one 76-character line
		out = base64.StdEncoding.AppendEncode(out, b[:57])
		out = append(out, '\r', '\n')
		b = b[57:]
	}
	return base64.StdEncoding.AppendEncode(out, b)
}

// multipartOf builds a multipart/<subtype> entity from children. The
// boundary is derived from a hash of the children's bytes, so output is
// stable; it is checked not to occur in the content.
func multipartOf(subtype string, children []*part, params ...string) *part {
	encoded := make([][]byte, len(children))
	h := sha256.New()
	h.Write([]byte(subtype))
	for i, c := range children {
		encoded[i] = c.bytes()
		h.Write(encoded[i])
	}
	sum := h.Sum(nil)
	var boundary string
	for n := 0; ; n++ {
		boundary = "=_" + hex.EncodeToString(sum[:12])
		clash := false
		for _, e := range encoded {
			if bytes.Contains(e, []byte("--"+boundary)) {
				clash = true
				break
			}
		}
		if !clash {
			break
		}
		s := sha256.Sum256(append(sum, byte(n)))
		sum = s[:]
	}
	var b bytes.Buffer
	size := 0
	for _, e := range encoded {
		size += len(e) + len(boundary) + 8
	}
	b.Grow(size + len(boundary) + 8)
	for _, e := range encoded {
		b.WriteString("--")
		b.WriteString(boundary)
		b.WriteString("\r\n")
		b.Write(e)
		b.WriteString("\r\n")
	}
	b.WriteString("--")
	b.WriteString(boundary)
	b.WriteString("--\r\n")
	p := &part{body: b.Bytes()}
	params = append(params, "boundary", boundary)
	p.header.add("Content-Type", mediaType("multipart/"+subtype, params...))
	return p
}
