package snapshot

import (
	"encoding/json"
	"errors"

	"github.com/pstsync/pstsync/internal/jsonscan"
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

// jsonScan reads the state's own objects with jsonscan's plain forms.
type jsonScan struct{ *jsonscan.Scanner }

// parseStateFast parses data as ParseState's JSON, or returns errNotFast.
func parseStateFast(data []byte) (*UserState, error) {
	p := jsonScan{jsonscan.New(data)}
	var st UserState
	ok := p.Object(func(k string) (uint32, bool) {
		var ok bool
		var n int64
		switch k {
		case "version":
			n, ok = p.Int()
			st.Version = int(n)
			return 1 << 0, ok && int64(st.Version) == n
		case "user":
			st.User, ok = p.Str()
			return 1 << 1, ok
		case "base_rev":
			st.BaseRev, ok = p.Int()
			return 1 << 2, ok
		case "links":
			st.Links, ok = jsonscan.Array(p.Scanner, p.link)
			return 1 << 3, ok
		case "machine":
			st.Machine, ok = p.Str()
			return 1 << 4, ok
		case "delivered":
			st.Delivered, ok = jsonscan.Array(p.Scanner, p.delivered)
			return 1 << 5, ok
		case "sources":
			st.Sources, ok = jsonscan.Array(p.Scanner, p.source)
			return 1 << 6, ok
		case "updated":
			st.Updated, ok = p.Time()
			return 1 << 7, ok
		}
		return 0, false
	})
	if !ok {
		return nil, errNotFast
	}
	if !p.End() {
		return nil, errNotFast
	}
	return &st, nil
}

// coll returns a collection name, sharing the common ones' strings.
func (p jsonScan) coll() (string, bool) {
	s, ok := p.Str()
	switch s {
	case "calendar":
		return "calendar", ok
	case "contacts":
		return "contacts", ok
	}
	return s, ok
}

func (p jsonScan) link(l *Link) bool {
	return p.Object(func(k string) (uint32, bool) {
		var ok bool
		switch k {
		case "key":
			l.Key, ok = p.Str()
			return 1 << 0, ok
		case "uid":
			l.UID, ok = p.Str()
			return 1 << 1, ok
		case "collection":
			l.Collection, ok = p.coll()
			return 1 << 2, ok
		case "marker":
			return 1 << 3, p.marker(&l.Marker)
		case "source":
			l.Source, ok = p.Str()
			return 1 << 4, ok
		case "private":
			l.Private, ok = p.Bool()
			return 1 << 5, ok
		case "copy":
			l.Copy, ok = p.Bool()
			return 1 << 6, ok
		case "rewrites":
			// Lines separated by "\n" (an escape): such a state is read
			// the slow way, correctly.
			l.Rewrites, ok = p.Str()
			return 1 << 7, ok
		}
		return 0, false
	})
}

func (p jsonScan) marker(m *Marker) bool {
	return p.Object(func(k string) (uint32, bool) {
		var ok bool
		switch k {
		case "last_modified":
			m.LastModified, ok = p.Time()
			return 1 << 0, ok
		case "change_key":
			m.ChangeKey, ok = p.Str()
			return 1 << 1, ok
		case "hash":
			m.Hash, ok = p.Str()
			return 1 << 2, ok
		}
		return 0, false
	})
}

func (p jsonScan) delivered(d *Delivered) bool {
	return p.Object(func(k string) (uint32, bool) {
		var ok bool
		switch k {
		case "collection":
			d.Collection, ok = p.coll()
			return 1 << 0, ok
		case "uid":
			d.UID, ok = p.Str()
			return 1 << 1, ok
		case "hash":
			d.Hash, ok = p.Str()
			return 1 << 2, ok
		}
		return 0, false
	})
}

func (p jsonScan) source(s *Source) bool {
	return p.Object(func(k string) (uint32, bool) {
		var ok bool
		var n int64
		switch k {
		case "key":
			s.Key, ok = p.Str()
			return 1 << 0, ok
		case "clean":
			s.Clean, ok = p.Bool()
			return 1 << 1, ok
		case "hash":
			s.Hash, ok = p.Str()
			return 1 << 2, ok
		case "items":
			n, ok = p.Int()
			s.Items = int(n)
			return 1 << 3, ok && int64(s.Items) == n
		case "stat":
			return 1 << 4, p.fileStat(&s.Stat)
		}
		return 0, false
	})
}

func (p jsonScan) fileStat(f *FileStat) bool {
	return p.Object(func(k string) (uint32, bool) {
		var ok bool
		var n int64
		switch k {
		case "size":
			f.Size, ok = p.Int()
			return 1 << 0, ok
		case "mtime":
			f.MTime, ok = p.Int()
			return 1 << 1, ok
		case "ctime":
			f.CTime, ok = p.Int()
			return 1 << 2, ok
		case "ino":
			n, ok = p.Int()
			f.Inode = uint64(n)
			return 1 << 3, ok && n >= 0
		case "dev":
			n, ok = p.Int()
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
