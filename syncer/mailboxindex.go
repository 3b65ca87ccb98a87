package syncer

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// The mailbox index of 10,000 items is about 1 MB of JSON, read by every
// sync: encoding/json took about a twentieth of a no-change sync's CPU.
// parseIndexFast reads the index's own shape (what json.MarshalIndent of
// mailboxIndex writes: version, user, rev, files in that order, strings
// without escapes) directly; at anything else — another key or order, an
// escape, null, a number that is not a plain integer, bad syntax — it
// gives up and parseIndex decodes with encoding/json, so an index either
// way means exactly what encoding/json makes of it (FuzzIndexParsers
// checks the two agree).

// parseIndex decodes a mailbox index.
func parseIndex(data []byte) (*mailboxIndex, error) {
	if idx, ok := parseIndexFast(data); ok {
		return idx, nil
	}
	var idx mailboxIndex
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, err
	}
	return &idx, nil
}

// indexScan reads JSON from s; the strings it returns are substrings of s.
type indexScan struct {
	s string
	i int
}

func (p *indexScan) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// tok consumes byte c after optional white space.
func (p *indexScan) tok(c byte) bool {
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string without escapes, of valid UTF-8.
func (p *indexScan) str() (string, bool) {
	if !p.tok('"') {
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

// key reads `"name":`.
func (p *indexScan) key(name string) bool {
	k, ok := p.str()
	return ok && k == name && p.tok(':')
}

// int reads a plain JSON integer: -?(0|[1-9][0-9]*), fitting an int64.
func (p *indexScan) int() (int64, bool) {
	p.ws()
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

// parseIndexFast reads an index of the shape the mailbox writes; ok is
// false when the input is anything else (parseIndex then falls back).
func parseIndexFast(data []byte) (*mailboxIndex, bool) {
	p := &indexScan{s: string(data)}
	idx := &mailboxIndex{}
	if !p.tok('{') || !p.key("version") {
		return nil, false
	}
	v, ok := p.int()
	if !ok || v != int64(int(v)) || !p.tok(',') || !p.key("user") {
		return nil, false
	}
	idx.Version = int(v)
	if idx.User, ok = p.str(); !ok || !p.tok(',') || !p.key("rev") {
		return nil, false
	}
	if idx.Rev, ok = p.int(); !ok || !p.tok(',') || !p.key("files") || !p.tok('{') {
		return nil, false
	}
	// One entry a line as MarshalIndent writes them: a size hint.
	idx.Files = make(map[string]string, bytes.Count(data, []byte{'\n'}))
	if !p.tok('}') {
		for {
			k, ok := p.str()
			if !ok || !p.tok(':') {
				return nil, false
			}
			v, ok := p.str()
			if !ok {
				return nil, false
			}
			idx.Files[k] = v
			if p.tok(',') {
				continue
			}
			if !p.tok('}') {
				return nil, false
			}
			break
		}
	}
	if !p.tok('}') {
		return nil, false
	}
	p.ws()
	return idx, p.i == len(p.s)
}
