package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// part is a MIME entity: its Content-* header fields and its body. The
// body is encoded only when the whole message is rendered, straight into
// the output buffer: a message is assembled with one copy of each body,
// not one per nesting level.
type part struct {
	header header

	// A leaf holds text or data and how to encode it.
	enc  leafEnc
	text string
	data []byte

	// A multipart holds children, separated by boundary.
	subtype  string
	params   []string
	children []*part
	boundary string

	// digest identifies the content (header and body); boundaries are
	// derived from it, so output is stable.
	digest [32]byte
}

// leafEnc is how a leaf's content becomes its body.
type leafEnc uint8

const (
	encRaw        leafEnc = iota // data is the body as is
	encCRLF                      // text with LF line ends turned into CRLF (7bit)
	encBase64Text                // text with CRLF line ends, in base64
	encQP                        // text in quoted-printable
	encBase64                    // data in base64
)

// leaf makes a leaf part and computes its digest.
func leaf(h header, enc leafEnc, text string, data []byte) *part {
	p := &part{header: h, enc: enc, text: text, data: data}
	d := sha256.New()
	for _, f := range h {
		for _, s := range [...]string{f.name, f.value, f.raw} {
			d.Write(readOnlyBytes(s))
			d.Write([]byte{0})
		}
	}
	// The content enters through its length and the CRC-32C of its first
	// and last 4 KiB: boundaries need stability, not secrecy, and
	// checkBoundaries catches the content that happens to hold one.
	var sum [13]byte
	sum[0] = byte(enc)
	binary.LittleEndian.PutUint64(sum[1:], uint64(len(text)+len(data)))
	c := crc32.Update(edgesCRC(data), castagnoli, readOnlyBytes(edges(text)))
	binary.LittleEndian.PutUint32(sum[9:], c)
	d.Write(sum[:])
	d.Sum(p.digest[:0])
	return p
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

const edgeBytes = 4096

// edgesCRC is the CRC-32C of the first and last edgeBytes of b.
func edgesCRC(b []byte) uint32 {
	if len(b) <= 2*edgeBytes {
		return crc32.Checksum(b, castagnoli)
	}
	return crc32.Update(crc32.Checksum(b[:edgeBytes], castagnoli), castagnoli, b[len(b)-edgeBytes:])
}

// edges is the first and last edgeBytes of s (all of s when short).
func edges(s string) string {
	if len(s) <= 2*edgeBytes {
		return s
	}
	return s[:edgeBytes] + s[len(s)-edgeBytes:]
}

// readOnlyBytes views s as bytes without copying it, for functions that
// only read their argument (hashes, writers that copy).
func readOnlyBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// render appends the part's header, a blank line and its body to b. With
// hs not nil, base64 bodies of hs.min bytes or more are left out and
// noted in hs, to be encoded as the message is written.
func (p *part) render(b *bytes.Buffer, hs *holes) {
	p.header.writeTo(b)
	b.WriteString("\r\n")
	p.renderBody(b, hs)
}

// holes are the large base64 bodies a rendering left out: data goes at
// offset at of the rendered bytes. Base64 never contains "--", so leaving
// them out changes no boundary check.
type holes struct {
	min  int
	list []hole
}

type hole struct {
	at   int
	data []byte
}

// renderBody appends the part's body to b (see render for hs).
func (p *part) renderBody(b *bytes.Buffer, hs *holes) {
	if p.children != nil {
		for _, c := range p.children {
			b.WriteString("--")
			b.WriteString(p.boundary)
			b.WriteString("\r\n")
			c.render(b, hs)
			b.WriteString("\r\n")
		}
		b.WriteString("--")
		b.WriteString(p.boundary)
		b.WriteString("--\r\n")
		return
	}
	switch p.enc {
	case encRaw:
		b.Write(p.data)
	case encCRLF:
		writeCRLF(b, p.text)
	case encBase64Text:
		var crlf bytes.Buffer
		crlf.Grow(len(p.text) + len(p.text)/16)
		writeCRLF(&crlf, p.text)
		writeBase64Lines(b, crlf.Bytes())
	case encQP:
		b.Grow(len(p.text) + len(p.text)/8 + 16)
		out := appendQP(b.AvailableBuffer(), p.text)
		b.Write(out) // out is b's own free space: no copy beyond growth
	case encBase64:
		if hs != nil && len(p.data) >= hs.min {
			hs.list = append(hs.list, hole{at: b.Len(), data: p.data})
			return
		}
		writeBase64Lines(b, p.data)
	}
}

// size estimates the rendered size, to size the output buffer once;
// base64 bodies of skip bytes or more are not counted (skip 0: all are).
func (p *part) size(skip int) int {
	n := p.header.size()
	if p.children != nil {
		for _, c := range p.children {
			n += c.size(skip) + len(p.boundary) + 8
		}
		return n + len(p.boundary) + 8
	}
	switch p.enc {
	case encRaw:
		n += len(p.data)
	case encCRLF:
		n += len(p.text) + len(p.text)/32
	case encQP:
		n += len(p.text) + len(p.text)/8
	case encBase64Text:
		n += base64Size(len(p.text) + len(p.text)/32)
	case encBase64:
		if skip == 0 || len(p.data) < skip {
			n += base64Size(len(p.data))
		}
	}
	return n
}

func base64Size(n int) int {
	e := base64.StdEncoding.EncodedLen(n)
	return e + e/76*2 + 2
}

// writeCRLF writes text with each LF turned into CRLF.
func writeCRLF(b *bytes.Buffer, text string) {
	for {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			b.WriteString(text)
			return
		}
		b.WriteString(text[:i])
		b.WriteString("\r\n")
		text = text[i+1:]
	}
}

// textPart makes a text/<subtype> part in UTF-8 with the most suitable
// transfer encoding: 7bit for short-lined ASCII, base64 for text with
// control characters or mostly non-ASCII, quoted-printable otherwise.
func textPart(subtype, text string) *part {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	text = normalizeNewlines(text)
	cte := encodingFor(text)
	enc := encQP
	switch cte {
	case "7bit":
		enc = encCRLF
	case "base64":
		enc = encBase64Text
	}
	var h header
	h.add("Content-Type", mediaType("text/"+subtype, "charset", "utf-8"))
	h.add("Content-Transfer-Encoding", cte)
	return leaf(h, enc, text, nil)
}

// normalizeNewlines turns CRLF and lone CR into LF.
func normalizeNewlines(s string) string {
	i := strings.IndexByte(s, '\r')
	if i < 0 {
		return s
	}
	out := make([]byte, 0, len(s))
	for i >= 0 {
		out = append(out, s[:i]...)
		if i+1 < len(s) && s[i+1] == '\n' {
			s = s[i+1:] // CRLF: the LF starts the next run
		} else {
			out = append(out, '\n')
			s = s[i+1:]
		}
		i = strings.IndexByte(s, '\r')
	}
	out = append(out, s...)
	return unsafe.String(unsafe.SliceData(out), len(out))
}

// appendQP appends text, which has LF line ends, in quoted-printable with
// CRLF line ends to b. The output is byte for byte what
// mime/quotedprintable writes (76-character lines, soft breaks, trailing
// blanks encoded), without its per-byte call overhead.
func appendQP(b []byte, text string) []byte {
	const max = 76
	const hex = "0123456789ABCDEF"
	i := 0 // length of the current output line
	enc := func(c byte) {
		if max-1-i < 3 {
			b = append(b, '=', '\r', '\n')
			i = 0
		}
		b = append(b, '=', hex[c>>4], hex[c&15])
		i += 3
	}
	trailing := func() { // a blank at the end of a line is encoded
		if i > 0 {
			if c := b[len(b)-1]; c == ' ' || c == '\t' {
				b = b[:len(b)-1]
				i--
				enc(c)
			}
		}
	}
	for k := 0; k < len(text); {
		switch c := text[k]; {
		case c == '\n':
			trailing()
			b = append(b, '\r', '\n')
			i = 0
			k++
		case qpLiteral[c]:
			// A run of literal bytes is copied whole, up to the line's
			// limit (75, then a soft break).
			if i == max-1 {
				b = append(b, '=', '\r', '\n')
				i = 0
			}
			j, end := k+1, min(len(text), k+max-1-i)
			for j < end && qpLiteral[text[j]] {
				j++
			}
			b = append(b, text[k:j]...)
			i += j - k
			k = j
		default:
			enc(c)
			k++
		}
	}
	trailing()
	return b
}

// qpLiteral tells the bytes quoted-printable writes as themselves: printable
// ASCII but '=', and blanks (encoded only at a line's end).
var qpLiteral = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = c != '='
	}
	t[' '], t['\t'] = true, true
	return t
}()

// encodingFor picks the transfer encoding of LF-terminated UTF-8 text.
func encodingFor(text string) string {
	nonASCII, runes, ctl := 0, 0, false
	line, long, trailing := 0, false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\n':
			if line > 0 && isWSP(text[i-1]) {
				trailing = true
			}
			line = 0
			continue
		case c >= 0x80:
			if c >= 0xC0 {
				nonASCII++
			}
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
	if line > 0 && isWSP(text[len(text)-1]) {
		trailing = true
	}
	switch {
	case ctl:
		return "base64"
	case nonASCII == 0 && !long && isASCII(text) && !trailing:
		return "7bit"
	case nonASCII*10 > runes*3:
		return "base64"
	}
	return "quoted-printable"
}

// writeBase64Lines writes data in base64 with 76-character CRLF-separated
// lines (the last one without CRLF).
func writeBase64Lines(b *bytes.Buffer, data []byte) {
	b.Grow(base64Size(len(data)))
	b.Write(appendBase64Lines(b.AvailableBuffer(), data)) // b's own free space
}

// b64Pairs maps 12 bits to their two base64 characters, the first in the
// low byte: a line is encoded six input bytes (eight characters) at a time.
var b64Pairs = func() (t [4096]uint16) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range t {
		t[i] = uint16(alphabet[i>>6]) | uint16(alphabet[i&63])<<8
	}
	return t
}()

// appendBase64Lines appends what writeBase64Lines writes, byte for byte
// what encoding/base64 gives for each 57-byte line.
func appendBase64Lines(dst, data []byte) []byte {
	dst = slices.Grow(dst, base64Size(len(data)))
	for len(data) > 57 { // 57 bytes make one 76-character line
		n := len(dst)
		dst = dst[:n+78]
		out := dst[n : n+78]
		src := data[:57]
		// Nine groups of six bytes, read as the top 48 bits of a
		// big-endian word (the word's last two bytes belong to the next
		// group, still inside the line), then one group of three.
		for g := 0; g < 9; g++ {
			x := binary.BigEndian.Uint64(src[6*g:])
			binary.LittleEndian.PutUint64(out[8*g:],
				uint64(b64Pairs[x>>52])|uint64(b64Pairs[x>>40&0xFFF])<<16|
					uint64(b64Pairs[x>>28&0xFFF])<<32|uint64(b64Pairs[x>>16&0xFFF])<<48)
		}
		x := uint32(src[54])<<16 | uint32(src[55])<<8 | uint32(src[56])
		binary.LittleEndian.PutUint32(out[72:], uint32(b64Pairs[x>>12])|uint32(b64Pairs[x&0xFFF])<<16)
		out[76], out[77] = '\r', '\n'
		data = data[57:]
	}
	n := base64.StdEncoding.EncodedLen(len(data))
	m := len(dst)
	dst = dst[:m+n]
	base64.StdEncoding.Encode(dst[m:], data)
	return dst
}

// multipartOf builds a multipart/<subtype> entity from children. The
// boundary is derived from the children's digests, so output is stable;
// checkBoundaries makes sure it does not occur in the content.
func multipartOf(subtype string, children []*part, params ...string) *part {
	p := &part{subtype: subtype, params: params, children: children}
	d := sha256.New()
	d.Write([]byte(subtype))
	for _, c := range children {
		d.Write(c.digest[:])
	}
	d.Sum(p.digest[:0])
	p.setBoundary(0)
	return p
}

// setBoundary derives the boundary from the digest and a salt (0 first;
// another when the boundary clashed with the content) and sets the
// Content-Type field.
func (p *part) setBoundary(salt uint32) {
	sum := p.digest
	if salt != 0 {
		var s [36]byte
		copy(s[:], sum[:])
		binary.LittleEndian.PutUint32(s[32:], salt)
		sum = sha256.Sum256(s[:])
	}
	p.boundary = "=_" + hex.EncodeToString(sum[:12])
	p.header = p.header[:0]
	p.header.add("Content-Type", mediaType("multipart/"+p.subtype, append(p.params[:len(p.params):len(p.params)], "boundary", p.boundary)...))
}

// checkBoundaries reports whether every multipart boundary under p occurs
// in out only as its own delimiters. Each one that clashes with content
// gets a new salt, and false is returned: the message must be rendered
// again. A clash takes a content that contains a 96-bit hash of itself.
func (p *part) checkBoundaries(out []byte, salt uint32) bool {
	if p.children == nil {
		return true
	}
	ok := true
	if bytes.Count(out, []byte("--"+p.boundary)) != len(p.children)+1 {
		p.setBoundary(salt)
		ok = false
	}
	for _, c := range p.children {
		if !c.checkBoundaries(out, salt) {
			ok = false
		}
	}
	return ok
}
