package snapshot

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"
)

// The state of a user with 10,000 items is about 4 MB of JSON, read at the
// start of every sync: encoding/json took a fifth of a no-change sync's
// CPU. parseStateFast reads the state's own shape directly; it gives up
// (errNotFast) at anything it does not know — a key it has no case for, a
// key given twice, an escaped string, null, a number that is not a plain
// integer, bad syntax — and ParseState then decodes with encoding/json, so
// a state either way means exactly what encoding/json makes of it
// (FuzzStateParsers checks the two agree).
//
// Adding a field to UserState, Link, Marker, Delivered, Source or FileStat:
// give it its JSON tag as usual, write it in stateenc.go (a test fails
// until it is), and add a case for the key to the matching parse function
// below, or states holding it are read the slow way.

var errNotFast = errors.New("not for the fast state parser")

// jsonScan reads JSON from s. Strings it returns are substrings of s (no
// copy per field: s is one string made of the whole input).
type jsonScan struct {
	s string
	i int
}

func (p *jsonScan) ws() {
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
func (p *jsonScan) tok(c byte) bool {
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string without escapes, of valid UTF-8.
func (p *jsonScan) str() (string, bool) {
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

// int reads a plain JSON integer (no fraction or exponent).
func (p *jsonScan) int() (int64, bool) {
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
	if n == 0 || n > 1 && p.s[digits] == '0' {
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

func (p *jsonScan) bool() (bool, bool) {
	p.ws()
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
func (p *jsonScan) delim() bool {
	if p.i >= len(p.s) {
		return true
	}
	switch p.s[p.i] {
	case ' ', '\t', '\n', '\r', ',', '}', ']':
		return true
	}
	return false
}

func (p *jsonScan) time() (time.Time, bool) {
	p.ws()
	start := p.i
	if _, ok := p.str(); !ok {
		return time.Time{}, false
	}
	var t time.Time
	if t.UnmarshalJSON([]byte(p.s[start:p.i])) != nil {
		return time.Time{}, false
	}
	return t, true
}

// object reads an object, calling field for each key with the scanner at
// its value; field returns false when it cannot read it. seen tracks the
// keys given (field returns the bit of its key), so that a key given twice
// falls back (encoding/json merges such values).
func (p *jsonScan) object(field func(key string) (bit uint32, ok bool)) bool {
	if !p.tok('{') {
		return false
	}
	if p.tok('}') {
		return true
	}
	var seen uint32
	for {
		k, ok := p.str()
		if !ok || !p.tok(':') {
			return false
		}
		bit, ok := field(k)
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		if p.tok(',') {
			continue
		}
		return p.tok('}')
	}
}

// array reads an array, calling elem for each element. An empty array
// gives a non-nil empty slice, as encoding/json does.
func array[T any](p *jsonScan, elem func(*T) bool) ([]T, bool) {
	if !p.tok('[') {
		return nil, false
	}
	out := make([]T, 0, 16)
	if p.tok(']') {
		return out, true
	}
	for {
		out = append(out, *new(T))
		if !elem(&out[len(out)-1]) {
			return nil, false
		}
		if p.tok(',') {
			continue
		}
		return out, p.tok(']')
	}
}

// parseStateFast parses data as ParseState's JSON, or returns errNotFast.
func parseStateFast(data []byte) (*UserState, error) {
	p := &jsonScan{s: string(data)}
	var st UserState
	ok := p.object(func(k string) (uint32, bool) {
		var ok bool
		var n int64
		switch k {
		case "version":
			n, ok = p.int()
			st.Version = int(n)
			return 1 << 0, ok && int64(st.Version) == n
		case "user":
			st.User, ok = p.str()
			return 1 << 1, ok
		case "base_rev":
			st.BaseRev, ok = p.int()
			return 1 << 2, ok
		case "links":
			st.Links, ok = array(p, p.link)
			return 1 << 3, ok
		case "machine":
			st.Machine, ok = p.str()
			return 1 << 4, ok
		case "delivered":
			st.Delivered, ok = array(p, p.delivered)
			return 1 << 5, ok
		case "sources":
			st.Sources, ok = array(p, p.source)
			return 1 << 6, ok
		case "updated":
			st.Updated, ok = p.time()
			return 1 << 7, ok
		}
		return 0, false
	})
	if !ok {
		return nil, errNotFast
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, errNotFast
	}
	return &st, nil
}

// coll returns a collection name, sharing the common ones' strings.
func (p *jsonScan) coll() (string, bool) {
	s, ok := p.str()
	switch s {
	case "calendar":
		return "calendar", ok
	case "contacts":
		return "contacts", ok
	}
	return s, ok
}

func (p *jsonScan) link(l *Link) bool {
	return p.object(func(k string) (uint32, bool) {
		var ok bool
		switch k {
		case "key":
			l.Key, ok = p.str()
			return 1 << 0, ok
		case "uid":
			l.UID, ok = p.str()
			return 1 << 1, ok
		case "collection":
			l.Collection, ok = p.coll()
			return 1 << 2, ok
		case "marker":
			return 1 << 3, p.marker(&l.Marker)
		case "source":
			l.Source, ok = p.str()
			return 1 << 4, ok
		case "private":
			l.Private, ok = p.bool()
			return 1 << 5, ok
		case "copy":
			l.Copy, ok = p.bool()
			return 1 << 6, ok
		case "rewrites":
			// Lines separated by "\n" (an escape): such a state is read
			// the slow way, correctly.
			l.Rewrites, ok = p.str()
			return 1 << 7, ok
		}
		return 0, false
	})
}

func (p *jsonScan) marker(m *Marker) bool {
	return p.object(func(k string) (uint32, bool) {
		var ok bool
		switch k {
		case "last_modified":
			m.LastModified, ok = p.time()
			return 1 << 0, ok
		case "change_key":
			m.ChangeKey, ok = p.str()
			return 1 << 1, ok
		case "hash":
			m.Hash, ok = p.str()
			return 1 << 2, ok
		}
		return 0, false
	})
}

func (p *jsonScan) delivered(d *Delivered) bool {
	return p.object(func(k string) (uint32, bool) {
		var ok bool
		switch k {
		case "collection":
			d.Collection, ok = p.coll()
			return 1 << 0, ok
		case "uid":
			d.UID, ok = p.str()
			return 1 << 1, ok
		case "hash":
			d.Hash, ok = p.str()
			return 1 << 2, ok
		}
		return 0, false
	})
}

func (p *jsonScan) source(s *Source) bool {
	return p.object(func(k string) (uint32, bool) {
		var ok bool
		var n int64
		switch k {
		case "key":
			s.Key, ok = p.str()
			return 1 << 0, ok
		case "clean":
			s.Clean, ok = p.bool()
			return 1 << 1, ok
		case "hash":
			s.Hash, ok = p.str()
			return 1 << 2, ok
		case "items":
			n, ok = p.int()
			s.Items = int(n)
			return 1 << 3, ok && int64(s.Items) == n
		case "stat":
			return 1 << 4, p.fileStat(&s.Stat)
		}
		return 0, false
	})
}

func (p *jsonScan) fileStat(f *FileStat) bool {
	return p.object(func(k string) (uint32, bool) {
		var ok bool
		var n int64
		switch k {
		case "size":
			f.Size, ok = p.int()
			return 1 << 0, ok
		case "mtime":
			f.MTime, ok = p.int()
			return 1 << 1, ok
		case "ctime":
			f.CTime, ok = p.int()
			return 1 << 2, ok
		case "ino":
			n, ok = p.int()
			f.Inode = uint64(n)
			return 1 << 3, ok && n >= 0
		case "dev":
			n, ok = p.int()
			f.Dev = uint64(n)
			return 1 << 4, ok && n >= 0
		}
		return 0, false
	})
}

// parseStateSlow is encoding/json's reading of a state.
func parseStateSlow(data []byte) (*UserState, error) {
	var st UserState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, err
	}
	return &st, nil
}
