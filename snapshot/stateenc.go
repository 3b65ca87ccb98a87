package snapshot

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Every sync writes the user's state (about 4 MB of JSON for 10,000
// items): encoding/json, by reflection, took about 6% of a first sync's
// CPU. appendStateJSON writes the state's own shape directly, byte for
// byte what encoding/json writes (json.Encoder with SetEscapeHTML(false):
// fields in declaration order, omitempty and omitzero as tagged, strings
// escaped alike, times as time.Time.MarshalJSON writes them, a newline at
// the end). It reports false at anything it cannot write that way (a time
// MarshalJSON refuses) and Encode then uses encoding/json, which also
// names the error. TestStateEncodeEdges and FuzzStateEncode check the two
// agree.
//
// Adding a field to UserState, Link, Marker, Delivered, Source or FileStat:
// write it here in its place (TestStateEncodeKnowsEveryField fails until
// it is; set it in richState for the tests), and add it to the parser in
// statejson.go.

// appendStateJSON appends the JSON of st and a newline to dst.
func appendStateJSON(dst []byte, st *UserState) ([]byte, bool) {
	ok := true
	dst = append(dst, `{"version":`...)
	dst = strconv.AppendInt(dst, int64(st.Version), 10)
	dst = append(dst, `,"user":`...)
	dst = appendJSONString(dst, st.User)
	dst = append(dst, `,"base_rev":`...)
	dst = strconv.AppendInt(dst, st.BaseRev, 10)
	dst = append(dst, `,"links":`...)
	if st.Links == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i := range st.Links {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, ok = appendLinkJSON(dst, &st.Links[i]); !ok {
				return nil, false
			}
		}
		dst = append(dst, ']')
	}
	if st.Machine != "" {
		dst = append(dst, `,"machine":`...)
		dst = appendJSONString(dst, st.Machine)
	}
	if len(st.Delivered) > 0 {
		dst = append(dst, `,"delivered":[`...)
		for i, d := range st.Delivered {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"collection":`...)
			dst = appendJSONString(dst, d.Collection)
			dst = append(dst, `,"uid":`...)
			dst = appendJSONString(dst, d.UID)
			dst = append(dst, `,"hash":`...)
			dst = appendJSONString(dst, d.Hash)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if len(st.Sources) > 0 {
		dst = append(dst, `,"sources":[`...)
		for i := range st.Sources {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendSourceJSON(dst, &st.Sources[i])
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"updated":`...)
	if dst, ok = appendTimeJSON(dst, st.Updated); !ok {
		return nil, false
	}
	return append(dst, '}', '\n'), true
}

func appendLinkJSON(dst []byte, l *Link) ([]byte, bool) {
	dst = append(dst, `{"key":`...)
	dst = appendJSONString(dst, l.Key)
	dst = append(dst, `,"uid":`...)
	dst = appendJSONString(dst, l.UID)
	dst = append(dst, `,"collection":`...)
	dst = appendJSONString(dst, l.Collection)
	dst = append(dst, `,"marker":{`...)
	m := &l.Marker
	sep := false
	if !m.LastModified.IsZero() {
		dst = append(dst, `"last_modified":`...)
		var ok bool
		if dst, ok = appendTimeJSON(dst, m.LastModified); !ok {
			return nil, false
		}
		sep = true
	}
	if m.ChangeKey != "" {
		if sep {
			dst = append(dst, ',')
		}
		dst = append(dst, `"change_key":`...)
		dst = appendJSONString(dst, m.ChangeKey)
		sep = true
	}
	if m.Hash != "" {
		if sep {
			dst = append(dst, ',')
		}
		dst = append(dst, `"hash":`...)
		dst = appendJSONString(dst, m.Hash)
	}
	dst = append(dst, '}')
	if l.Source != "" {
		dst = append(dst, `,"source":`...)
		dst = appendJSONString(dst, l.Source)
	}
	if l.Private {
		dst = append(dst, `,"private":true`...)
	}
	if l.Copy {
		dst = append(dst, `,"copy":true`...)
	}
	if l.Rewrites != "" {
		dst = append(dst, `,"rewrites":`...)
		dst = appendJSONString(dst, l.Rewrites)
	}
	return append(dst, '}'), true
}

func appendSourceJSON(dst []byte, s *Source) []byte {
	dst = append(dst, `{"key":`...)
	dst = appendJSONString(dst, s.Key)
	dst = append(dst, `,"clean":`...)
	dst = strconv.AppendBool(dst, s.Clean)
	if s.Hash != "" {
		dst = append(dst, `,"hash":`...)
		dst = appendJSONString(dst, s.Hash)
	}
	dst = append(dst, `,"items":`...)
	dst = strconv.AppendInt(dst, int64(s.Items), 10)
	if !s.Stat.IsZero() {
		f := &s.Stat
		dst = append(dst, `,"stat":{"size":`...)
		dst = strconv.AppendInt(dst, f.Size, 10)
		dst = append(dst, `,"mtime":`...)
		dst = strconv.AppendInt(dst, f.MTime, 10)
		dst = append(dst, `,"ctime":`...)
		dst = strconv.AppendInt(dst, f.CTime, 10)
		dst = append(dst, `,"ino":`...)
		dst = strconv.AppendUint(dst, f.Inode, 10)
		if f.Dev != 0 {
			dst = append(dst, `,"dev":`...)
			dst = strconv.AppendUint(dst, f.Dev, 10)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// appendTimeJSON appends t as time.Time.MarshalJSON writes it (RFC 3339
// with nanoseconds, trailing zeros dropped); false when MarshalJSON would
// refuse t (a year outside 0–9999, an offset of 24 hours or more).
func appendTimeJSON(dst []byte, t time.Time) ([]byte, bool) {
	dst = append(dst, '"')
	dst, err := t.AppendText(dst)
	if err != nil {
		return nil, false
	}
	return append(dst, '"'), true
}

// jsonPlain[b] says ASCII byte b stands for itself in a JSON string as
// encoding/json writes it without HTML escaping: everything from space up,
// DEL included, but the quote and the backslash.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for b := ' '; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json's appendString does
// with escapeHTML false: \" \\ \b \f \n \r \t, other control bytes as
// \u00XX, each byte of invalid UTF-8 as \ufffd, U+2028 and U+2029 as
// \u2028 and \u2029, everything else as it is.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		i = skipPlain8(s, i)
		if i >= len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonPlain[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// skipPlain8 returns the index in s, from i on, of the first run of eight
// bytes that is not all plain, or of the last, shorter run: keys, UIDs and
// hashes pass eight bytes at a time. A byte is plain when it stands for
// itself in a JSON string and needs no UTF-8 check: no control byte, no
// quote, no backslash, none above 0x7f.
func skipPlain8(s string, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		c := s[i : i+8]
		_ = c[7] // one bounds check
		x := uint64(c[0]) | uint64(c[1])<<8 | uint64(c[2])<<16 | uint64(c[3])<<24 |
			uint64(c[4])<<32 | uint64(c[5])<<40 | uint64(c[6])<<48 | uint64(c[7])<<56
		// A byte's high bit is set in one of the terms when the byte is
		// above 0x7f, below 0x20, or (the term where it is XORed to
		// zero) the quote or the backslash; for a byte that is none of
		// these, in none (a borrow runs only above such a byte).
		quote, backslash := x^(ones*'"'), x^(ones*'\\')
		if (x|(x-ones*0x20)|(quote-ones)|(backslash-ones))&highs != 0 {
			break
		}
	}
	return i
}

// stateJSONSize is about the length of st's JSON (exact when no string
// needs an escape and times are in UTC), for one allocation.
func stateJSONSize(st *UserState) int {
	n := 200 + len(st.User) + len(st.Machine)
	for i := range st.Links {
		l := &st.Links[i]
		n += 150 + len(l.Key) + len(l.UID) + len(l.Collection) + len(l.Source) + len(l.Rewrites) +
			len(l.Marker.ChangeKey) + len(l.Marker.Hash)
	}
	for _, d := range st.Delivered {
		n += 40 + len(d.Collection) + len(d.UID) + len(d.Hash)
	}
	for _, s := range st.Sources {
		n += 150 + len(s.Key) + len(s.Hash)
	}
	return n
}
