package sink

import (
	"bytes"
	"unicode/utf8"
)

// maxLineOctets is the maximum length of a content line, excluding the line
// break, from RFC 5545 section 3.1 and RFC 6350 section 3.2.
const maxLineOctets = 75

// writeFolded appends line to buf as one or more physical lines terminated by
// CRLF. Each physical line is at most maxLineOctets octets long (the leading
// space of a continuation line counts), and a fold never splits a UTF-8
// sequence. Bytes that are not part of valid UTF-8 are cut anywhere. The
// line may be held in a string or a byte slice.
func writeFolded[T string | []byte](buf *bytes.Buffer, line T) {
	// Room for the line and every fold's CRLF and space, so that the
	// appends below never reallocate.
	buf.Grow(len(line) + 3*(len(line)/(maxLineOctets-1)) + 2)
	limit := maxLineOctets
	for len(line) > limit {
		cut := limit
		// Back up to the first byte of the UTF-8 sequence that straddles
		// the limit, so that the whole sequence moves to the next line.
		for i := 0; i < utf8.UTFMax-1 && !utf8.RuneStart(line[cut]); i++ {
			cut--
		}
		if !utf8.RuneStart(line[cut]) {
			cut = limit // invalid UTF-8: any cut will do
		}
		buf.Write(append(buf.AvailableBuffer(), line[:cut]...))
		buf.WriteString("\r\n ")
		line = line[cut:]
		limit = maxLineOctets - 1
	}
	buf.Write(append(buf.AvailableBuffer(), line...))
	buf.WriteString("\r\n")
}
