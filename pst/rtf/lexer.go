package rtf

// tokKind is the kind of an RTF token.
type tokKind uint8

const (
	tokEOF        tokKind = iota
	tokGroupStart         // {
	tokGroupEnd           // }
	tokWord               // control word: name, param, hasParam
	tokSymbol             // control symbol: b (e.g. '~', '*', '{')
	tokHex                // \'hh: b
	tokText               // run of literal text bytes: data
	tokBin                // \binN payload: data
)

// token is one lexical RTF token. name and data alias the input.
type token struct {
	kind     tokKind
	name     []byte
	param    int
	hasParam bool
	b        byte
	data     []byte
}

// maxParam bounds numeric parameters so that arithmetic on them cannot
// overflow; RTF parameters are 16- or 32-bit in practice.
const maxParam = 1 << 30

// lexer splits RTF into tokens. It never fails: malformed input degrades to
// text or ignorable symbols.
type lexer struct {
	src []byte
	pos int
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// next stores the next token in t.
func (l *lexer) next(t *token) {
	src := l.src
	for l.pos < len(src) {
		c := src[l.pos]
		switch c {
		case '{':
			l.pos++
			t.kind = tokGroupStart
			return
		case '}':
			l.pos++
			t.kind = tokGroupEnd
			return
		case '\r', '\n', 0:
			// Line breaks in RTF source are not content; NULs show up as
			// padding after decompression.
			l.pos++
			continue
		case '\\':
			l.control(t)
			return
		}
		start := l.pos
		for l.pos < len(src) {
			c := src[l.pos]
			if c == '{' || c == '}' || c == '\\' || c == '\r' || c == '\n' || c == 0 {
				break
			}
			l.pos++
		}
		t.kind = tokText
		t.data = src[start:l.pos]
		return
	}
	t.kind = tokEOF
}

// control lexes a token starting at a backslash.
func (l *lexer) control(t *token) {
	src := l.src
	l.pos++ // the backslash
	if l.pos >= len(src) {
		t.kind = tokEOF
		return
	}
	c := src[l.pos]
	if isLetter(c) {
		start := l.pos
		for l.pos < len(src) && isLetter(src[l.pos]) {
			l.pos++
		}
		t.kind = tokWord
		t.name = src[start:l.pos]
		t.param = 0
		t.hasParam = false
		neg := false
		if l.pos+1 < len(src) && src[l.pos] == '-' && isDigit(src[l.pos+1]) {
			neg = true
			l.pos++
		}
		for l.pos < len(src) && isDigit(src[l.pos]) {
			if t.param < maxParam {
				t.param = t.param*10 + int(src[l.pos]-'0')
			}
			t.hasParam = true
			l.pos++
		}
		t.param = min(t.param, maxParam)
		if neg {
			t.param = -t.param
		}
		if l.pos < len(src) && src[l.pos] == ' ' {
			l.pos++ // delimiter, part of the control word
		}
		if t.hasParam && t.param > 0 && string(t.name) == "bin" {
			n := min(t.param, len(src)-l.pos)
			t.kind = tokBin
			t.data = src[l.pos : l.pos+n]
			l.pos += n
		}
		return
	}
	if c == '\'' {
		if l.pos+2 < len(src) {
			hi, ok1 := hexVal(src[l.pos+1])
			lo, ok2 := hexVal(src[l.pos+2])
			if ok1 && ok2 {
				l.pos += 3
				t.kind = tokHex
				t.b = hi<<4 | lo
				return
			}
		}
		// Malformed escape: drop the "\'" and carry on.
		l.pos++
		t.kind = tokSymbol
		t.b = '\''
		return
	}
	l.pos++
	t.kind = tokSymbol
	t.b = c
}
