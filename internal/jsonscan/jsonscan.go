// Package jsonscan reads JSON of a known, simple shape without reflection,
// for the files every sync reads (the user's state, the mailbox index),
// and writes its strings (AppendString) for the encoders of those files.
// It reads only the plain forms: strings without escapes, integers without
// fraction or exponent, true and false. At anything else a method returns
// false, and its caller falls back to encoding/json, so that what is read
// means exactly what encoding/json makes of it.
package jsonscan

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Scanner reads JSON from a string. The strings it returns are substrings
// of it (no copy per value).
type Scanner struct {
	s string
	i int
}

// New returns a Scanner of data (copied once into a string).
func New(data []byte) *Scanner { return &Scanner{s: string(data)} }

// WS skips white space.
func (p *Scanner) WS() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// Tok consumes byte c after optional white space.
func (p *Scanner) Tok(c byte) bool {
	p.WS()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// End reports whether only white space is left.
func (p *Scanner) End() bool {
	p.WS()
	return p.i == len(p.s)
}

// Str reads a string without escapes, of valid UTF-8.
func (p *Scanner) Str() (string, bool) {
	if !p.Tok('"') {
		return "", false
	}
	start := p.i
	ascii := true
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			v := p.s[start:p.i]
			p.i++
			if !ascii && !utf8.ValidString(v) {
				return "", false
			}
			return v, true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= 0x80:
			ascii = false
		}
		p.i++
	}
	return "", false
}

// Key reads `"name":`.
func (p *Scanner) Key(name string) bool {
	k, ok := p.Str()
	return ok && k == name && p.Tok(':')
}

// Int reads a plain JSON integer: -?(0|[1-9][0-9]*), fitting an int64.
func (p *Scanner) Int() (int64, bool) {
	p.WS()
	start := p.i
	if p.i < len(p.s) && p.s[p.i] == '-' {
		p.i++
	}
	digits := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	n := p.i - digits
	if n == 0 || (n > 1 && p.s[digits] == '0') {
		return 0, false
	}
	if p.i < len(p.s) {
		switch p.s[p.i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	v, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
	return v, err == nil
}

// Bool reads true or false.
func (p *Scanner) Bool() (bool, bool) {
	p.WS()
	switch {
	case len(p.s)-p.i >= 4 && p.s[p.i:p.i+4] == "true":
		p.i += 4
		return true, p.delim()
	case len(p.s)-p.i >= 5 && p.s[p.i:p.i+5] == "false":
		p.i += 5
		return false, p.delim()
	}
	return false, false
}

// delim reports whether a literal ends here (as the JSON grammar wants:
// "truex" is no literal).
func (p *Scanner) delim() bool {
	if p.i >= len(p.s) {
		return true
	}
	switch p.s[p.i] {
	case ' ', '\t', '\n', '\r', ',', '}', ']':
		return true
	}
	return false
}

// Time reads a string as time.Time's UnmarshalJSON does.
func (p *Scanner) Time() (time.Time, bool) {
	p.WS()
	start := p.i
	if _, ok := p.Str(); !ok {
		return time.Time{}, false
	}
	var t time.Time
	if t.UnmarshalJSON([]byte(p.s[start:p.i])) != nil {
		return time.Time{}, false
	}
	return t, true
}

// Object reads an object, calling field for each key with the scanner at
// its value; field returns false when it cannot read it. The keys given are
// tracked by the bit field returns for each, so that a key given twice
// gives false (encoding/json merges such values).
func (p *Scanner) Object(field func(key string) (bit uint32, ok bool)) bool {
	if !p.Tok('{') {
		return false
	}
	if p.Tok('}') {
		return true
	}
	var seen uint32
	for {
		k, ok := p.Str()
		if !ok || !p.Tok(':') {
			return false
		}
		bit, ok := field(k)
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		if p.Tok(',') {
			continue
		}
		return p.Tok('}')
	}
}

// Array reads an array, calling elem for each element. An empty array
// gives a non-nil empty slice, as encoding/json does.
func Array[T any](p *Scanner, elem func(*T) bool) ([]T, bool) {
	if !p.Tok('[') {
		return nil, false
	}
	out := make([]T, 0, 16)
	if p.Tok(']') {
		return out, true
	}
	for {
		out = append(out, *new(T))
		if !elem(&out[len(out)-1]) {
			return nil, false
		}
		if p.Tok(',') {
			continue
		}
		return out, p.Tok(']')
	}
}
