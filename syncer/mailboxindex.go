package syncer

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"

	"github.com/pstsync/pstsync/internal/jsonscan"
)

// The mailbox index of 10,000 items is about 1 MB of JSON, read by every
// sync: encoding/json took about a twentieth of a no-change sync's CPU.
// parseIndexFast reads the index's own shape (what encode writes, as
// json.MarshalIndent of mailboxIndex does: version, user, rev, files in
// that order, strings without escapes) directly; at anything else —
// another key or order, an escape, null, a number that is not a plain
// integer, bad syntax — it gives up and parseIndex decodes with
// encoding/json, so an index either way means exactly what encoding/json
// makes of it (FuzzIndexParsers checks the two agree).

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

// parseIndexFast reads an index of the shape the mailbox writes; ok is
// false when the input is anything else (parseIndex then falls back).
func parseIndexFast(data []byte) (*mailboxIndex, bool) {
	p := jsonscan.New(data)
	idx := &mailboxIndex{}
	if !p.Tok('{') || !p.Key("version") {
		return nil, false
	}
	v, ok := p.Int()
	if !ok || v != int64(int(v)) || !p.Tok(',') || !p.Key("user") {
		return nil, false
	}
	idx.Version = int(v)
	if idx.User, ok = p.Str(); !ok || !p.Tok(',') || !p.Key("rev") {
		return nil, false
	}
	if idx.Rev, ok = p.Int(); !ok || !p.Tok(',') || !p.Key("files") || !p.Tok('{') {
		return nil, false
	}
	// One entry a line as MarshalIndent writes them: a size hint.
	idx.Files = make(map[string]string, bytes.Count(data, []byte{'\n'}))
	if !p.Tok('}') {
		for {
			k, ok := p.Str()
			if !ok || !p.Tok(':') {
				return nil, false
			}
			v, ok := p.Str()
			if !ok {
				return nil, false
			}
			idx.Files[k] = v
			if p.Tok(',') {
				continue
			}
			if !p.Tok('}') {
				return nil, false
			}
			break
		}
	}
	if !p.Tok('}') {
		return nil, false
	}
	return idx, p.End()
}

// encode writes the index as a json.Encoder with SetEscapeHTML(false) and
// SetIndent("", " ") does (keys sorted, a newline at the end), without
// reflection: the index of 10,000 items is written by a first sync.
func (idx *mailboxIndex) encode() []byte {
	keys := slices.Sorted(maps.Keys(idx.Files))
	n := 100 + len(idx.User)
	for _, k := range keys {
		n += 10 + len(k) + len(idx.Files[k])
	}
	b := make([]byte, 0, n)
	b = append(b, "{\n \"version\": "...)
	b = strconv.AppendInt(b, int64(idx.Version), 10)
	b = append(b, ",\n \"user\": "...)
	b = jsonscan.AppendString(b, idx.User)
	b = append(b, ",\n \"rev\": "...)
	b = strconv.AppendInt(b, idx.Rev, 10)
	b = append(b, ",\n \"files\": "...)
	switch {
	case idx.Files == nil:
		b = append(b, "null"...)
	case len(keys) == 0:
		b = append(b, "{}"...)
	default:
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n  "...)
			b = jsonscan.AppendString(b, k)
			b = append(b, ": "...)
			b = jsonscan.AppendString(b, idx.Files[k])
		}
		b = append(b, "\n }"...)
	}
	return append(b, "\n}\n"...)
}
