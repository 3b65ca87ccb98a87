package merge

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// This file is the lenient content-line reader shared by the vCard and
// iCalendar decoders (RFC 5545 section 3.1, RFC 6350 section 3.2, vCard
// 2.1): physical lines (CRLF, LF or CR), unfolding, vCard 2.1
// quoted-printable soft line breaks, group, name, parameters and value.
// It never fails on a whole stream: a line it cannot read is returned with
// Err set, and the caller decides what that line spoils.

// contentLine is one unfolded content line.
type contentLine struct {
	Group  string  // vCard group ("item1"), as written
	Name   string  // upper case
	Params []param // in the order written; empty parameters are dropped
	Value  string  // raw (escaped) value; bytes as in the file
	Num    int     // 1-based number of its first physical line
	Err    error   // not a content line (no ':' or an invalid name)
}

// param is one parameter. Name is upper case, or "" for a vCard 2.1 bare
// parameter ("TEL;HOME;VOICE:"), whose token is then the only value.
// Values are split at unquoted commas and unquoted; RFC 6868 caret escapes
// are left for the caller.
type param struct {
	Name   string
	Values []string
}

// errNotContentLine is the Err of a line that is no content line.
var errNotContentLine = errors.New("not a content line")

// splitContentLines returns the unfolded content lines of data. Empty
// lines are skipped. A logical line holding a QUOTED-PRINTABLE parameter
// whose value ends in '=' continues on the next physical line (vCard 2.1
// soft line break), whether or not that line starts with white space.
//
// data is copied once; a logical line that is one physical line (most
// are) and its parts are substrings of the copy.
func splitContentLines(data []byte) []contentLine {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // UTF-8 BOM
	phys := physicalLines(string(data))
	out := make([]contentLine, 0, len(phys))
	var scratch []byte // a logical line of several physical ones, while it is joined
	for i := 0; i < len(phys); {
		start := i
		line := phys[i] // the logical line, unless joined
		joined := false
		buf := scratch[:0]
		// join appends more to the logical line, dropping its last drop
		// bytes first.
		join := func(drop int, more string) {
			if !joined {
				buf = append(buf, line...)
				joined = true
			}
			buf = append(buf[:len(buf)-drop], more...)
		}
		cur := func() string {
			if joined {
				return string(buf)
			}
			return line
		}
		length := func() int {
			if joined {
				return len(buf)
			}
			return len(line)
		}
		last := func(n int) string { // the last n bytes (fewer when shorter)
			if joined {
				return string(buf[max(len(buf)-n, 0):])
			}
			return line[max(len(line)-n, 0):]
		}
		i++
		qp := -1 // whether the line names quoted-printable: unknown until its ':' is read
		scanned := 0
		for i < len(phys) {
			p := phys[i]
			if qp < 0 {
				var colon bool
				if joined {
					colon = bytes.IndexByte(buf[scanned:], ':') >= 0
				} else {
					colon = strings.IndexByte(line[scanned:], ':') >= 0
				}
				if colon {
					qp = 0
					if isQPLine(cur()) {
						qp = 1
					}
				}
			}
			scanned = length()
			if qp == 1 && last(1) == "=" {
				// A soft line break: the '=' and the line break go; the
				// next line is content, leading white space included.
				join(1, p)
				i++
				continue
			}
			if p != "" && (p[0] == ' ' || p[0] == '\t') {
				join(0, p[1:])
				i++
				continue
			}
			if p == "" {
				// Empty lines between a line and its continuation
				// (iOS writes CR CR LF) do not end the line.
				j := i
				for j < len(phys) && phys[j] == "" {
					j++
				}
				if j < len(phys) && (phys[j][0] == ' ' || phys[j][0] == '\t') {
					i = j
					continue
				}
			}
			if last(1) == `\` && last(2) != `\\` &&
				p != "" && valueStart(p) < 0 && qp >= 0 {
				// Android's vCard 2.1 writer continues a value after an
				// escaping backslash on the next line (no ':' in it): a
				// line break in the value.
				join(0, "n"+p)
				i++
				continue
			}
			break
		}
		s := cur()
		if joined {
			scratch = buf // reused: s is a copy
		}
		if strings.TrimSpace(s) == "" {
			continue
		}
		out = append(out, parseContentLine(s, start+1))
	}
	return out
}

// physicalLines splits text at CRLF, LF or CR; the lines are substrings
// of text.
func physicalLines(text string) []string {
	n := 0
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' || text[i] == '\r' {
			n++
		}
	}
	out := make([]string, 0, n+1)
	start := 0
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '\n':
			out = append(out, text[start:i])
			start = i + 1
		case '\r':
			out = append(out, text[start:i])
			if i+1 < len(text) && text[i+1] == '\n' {
				i++
			}
			start = i + 1
		}
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// isQPLine reports whether the parameters of the logical line s (the part
// before its first unquoted ':') name quoted-printable encoding.
func isQPLine(s string) bool {
	end := valueStart(s)
	if end < 0 {
		return false
	}
	return strings.Contains(strings.ToUpper(s[:end]), "QUOTED-PRINTABLE")
}

// valueStart returns the index of the first ':' of s outside double
// quotes, or -1.
func valueStart(s string) int {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ':':
			if !quoted {
				return i
			}
		}
	}
	// An unbalanced quote: take the first colon after all.
	return strings.IndexByte(s, ':')
}

func parseContentLine(s string, num int) contentLine {
	l := contentLine{Num: num}
	colon := valueStart(s)
	if colon < 0 {
		l.Err = fmt.Errorf("line %d: %w", num, errNotContentLine)
		l.Value = s
		return l
	}
	head, value := s[:colon], s[colon+1:]
	l.Value = value
	var room [8]string
	parts := appendSplitOutsideQuotes(room[:0], head, ';')
	name := strings.TrimSpace(parts[0])
	if dot := strings.LastIndexByte(name, '.'); dot >= 0 {
		l.Group, name = name[:dot], name[dot+1:]
	}
	l.Name = strings.ToUpper(name)
	if !isName(l.Name) || (l.Group != "" && !isName(strings.ReplaceAll(l.Group, ".", "-"))) {
		l.Err = fmt.Errorf("line %d: invalid property name %q", num, parts[0])
		return l
	}
	for _, p := range parts[1:] {
		if strings.TrimSpace(p) == "" {
			continue // "DTSTART;;VALUE=DATE": an empty parameter
		}
		k, v, ok := cutOutsideQuotes(p, '=')
		if !ok {
			l.Params = append(l.Params, param{Values: []string{unquote(strings.TrimSpace(p))}})
			continue
		}
		pr := param{Name: strings.ToUpper(strings.TrimSpace(k))}
		for _, x := range splitOutsideQuotes(v, ',') {
			pr.Values = append(pr.Values, unquote(x))
		}
		l.Params = append(l.Params, pr)
	}
	return l
}

// isName reports whether s is a non-empty iana-token or x-name.
func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func splitOutsideQuotes(s string, sep byte) []string {
	return appendSplitOutsideQuotes(nil, s, sep)
}

// appendSplitOutsideQuotes appends the parts of s split at sep outside
// double quotes to out.
func appendSplitOutsideQuotes(out []string, s string, sep byte) []string {
	quoted := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case sep:
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func cutOutsideQuotes(s string, sep byte) (before, after string, ok bool) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case sep:
			if !quoted {
				return s[:i], s[i+1:], true
			}
		}
	}
	return s, "", false
}

// unquote removes the double quotes of a quoted parameter value (only
// where they enclose it; a stray quote is kept).
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// legacyText returns s as UTF-8: valid UTF-8 stays as it is, and each
// byte that is not part of a UTF-8 sequence is read as Windows-1252 (a
// superset of the printable Latin-1), the charset older clients write
// without saying so. No byte becomes U+FFFD.
func legacyText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s) + len(s)/2)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			sb.WriteString(decodeCharmap(charmap.Windows1252, []byte{s[i]}))
		} else {
			sb.WriteString(s[i : i+n])
		}
		i += n
	}
	return sb.String()
}

func decodeCharmap(cm *charmap.Charmap, b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for _, c := range b {
		if c < utf8.RuneSelf {
			sb.WriteByte(c)
			continue
		}
		r := cm.DecodeByte(c)
		if r == utf8.RuneError {
			// Windows-1252 leaves five bytes undefined; read them as
			// Latin-1 (C1 controls) rather than replacing them.
			r = rune(c)
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// decodeLineText makes the name, parameters and value of l valid UTF-8
// (legacyText).
func (l *contentLine) decodeLineText() {
	l.Value = legacyText(l.Value)
	for i := range l.Params {
		for j, v := range l.Params[i].Values {
			l.Params[i].Values[j] = legacyText(v)
		}
	}
}
