package snapshot

import (
	"strconv"
	"time"

	"github.com/pstsync/pstsync/internal/jsonscan"
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
	dst = jsonscan.AppendString(dst, st.User)
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
		dst = jsonscan.AppendString(dst, st.Machine)
	}
	if len(st.Delivered) > 0 {
		dst = append(dst, `,"delivered":[`...)
		for i, d := range st.Delivered {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"collection":`...)
			dst = jsonscan.AppendString(dst, d.Collection)
			dst = append(dst, `,"uid":`...)
			dst = jsonscan.AppendString(dst, d.UID)
			dst = append(dst, `,"hash":`...)
			dst = jsonscan.AppendString(dst, d.Hash)
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
	dst = jsonscan.AppendString(dst, l.Key)
	dst = append(dst, `,"uid":`...)
	dst = jsonscan.AppendString(dst, l.UID)
	dst = append(dst, `,"collection":`...)
	dst = jsonscan.AppendString(dst, l.Collection)
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
		dst = jsonscan.AppendString(dst, m.ChangeKey)
		sep = true
	}
	if m.Hash != "" {
		if sep {
			dst = append(dst, ',')
		}
		dst = append(dst, `"hash":`...)
		dst = jsonscan.AppendString(dst, m.Hash)
	}
	dst = append(dst, '}')
	if l.Source != "" {
		dst = append(dst, `,"source":`...)
		dst = jsonscan.AppendString(dst, l.Source)
	}
	if l.Private {
		dst = append(dst, `,"private":true`...)
	}
	if l.Copy {
		dst = append(dst, `,"copy":true`...)
	}
	if l.Rewrites != "" {
		dst = append(dst, `,"rewrites":`...)
		dst = jsonscan.AppendString(dst, l.Rewrites)
	}
	return append(dst, '}'), true
}

func appendSourceJSON(dst []byte, s *Source) []byte {
	dst = append(dst, `{"key":`...)
	dst = jsonscan.AppendString(dst, s.Key)
	dst = append(dst, `,"clean":`...)
	dst = strconv.AppendBool(dst, s.Clean)
	if s.Hash != "" {
		dst = append(dst, `,"hash":`...)
		dst = jsonscan.AppendString(dst, s.Hash)
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
