package snapshot

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// checkStateEncode fails t unless appendStateJSON writes st exactly as
// encoding/json does, or gives up where encoding/json fails.
func checkStateEncode(t *testing.T, st *UserState) {
	t.Helper()
	want, werr := encodeStateSlow(st)
	got, ok := appendStateJSON(nil, st)
	switch {
	case werr != nil && ok:
		t.Fatalf("appendStateJSON wrote what encoding/json refuses (%v):\n%s", werr, got)
	case werr == nil && !ok:
		t.Fatalf("appendStateJSON gave up on what encoding/json writes:\n%s", want)
	case ok && !bytes.Equal(got, want):
		t.Fatalf("appendStateJSON differs from encoding/json:\n got %q\nwant %q", got, want)
	}
	// Encode (when st is valid) writes the sorted state the same way.
	enc, err := st.Encode()
	if err != nil {
		return
	}
	c := st.sorted()
	if want, err := encodeStateSlow(&c); err != nil || !bytes.Equal(enc, want) {
		t.Fatalf("Encode differs from encoding/json (%v):\n got %q\nwant %q", err, enc, want)
	}
}

// TestStateEncodeEdges: the hand-written encoder writes what encoding/json
// writes, byte for byte, at the edges of every field.
func TestStateEncodeEdges(t *testing.T) {
	h := HashOf([]byte("x"))
	nasty := "q\"b\\s/<>&\x00\x01\b\f\n\r\t\x1f\x7f é✓😀\u2028\u2029\xff\xc3(\xe2\x80\xa8\xed\xa0\x80\xf4\x90\x80\x80end"
	tz := func(sec int) *time.Location { return time.FixedZone("Z", sec) }
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EST", -5*3600)
	}
	times := map[string]time.Time{
		"zero":              {},
		"zero in a zone":    time.Time{}.In(tz(3600)),
		"unix epoch":        time.Unix(0, 0).UTC(),
		"nanoseconds":       time.Date(2025, 3, 1, 8, 0, 0, 123456789, time.UTC),
		"trailing zeros":    time.Date(2025, 3, 1, 8, 0, 0, 120000000, time.UTC),
		"one nanosecond":    time.Date(2025, 3, 1, 8, 0, 0, 1, time.UTC),
		"plus offset":       time.Date(2025, 3, 1, 8, 0, 0, 0, tz(3600)),
		"minus offset":      time.Date(2025, 3, 1, 8, 0, 0, 5, tz(-9*3600-30*60)),
		"offset seconds":    time.Date(2025, 3, 1, 8, 0, 0, 0, tz(3600+59)),
		"named zone":        time.Date(2025, 7, 1, 8, 0, 0, 0, ny),
		"local monotonic":   time.Now(),
		"year 0":            time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		"year 9999":         time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		"year 10000":        time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		"year -1":           time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		"offset 24 hours":   time.Date(2025, 3, 1, 8, 0, 0, 0, tz(24*3600)),
		"offset -23:59":     time.Date(2025, 3, 1, 8, 0, 0, 0, tz(-23*3600-59*60)),
		"offset 100 hours":  time.Date(2025, 3, 1, 8, 0, 0, 0, tz(100*3600)),
		"year 9999 in zone": time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC).In(tz(3600)),
	}
	cases := map[string]*UserState{
		"empty":          {},
		"nil links":      {User: "a", Links: nil, Delivered: nil, Sources: nil},
		"empty links":    {User: "a", Links: []Link{}, Delivered: []Delivered{}, Sources: []Source{}},
		"sample":         sampleState(),
		"rich":           richState(),
		"negative":       {Version: -3, BaseRev: -1 << 63, Links: []Link{}},
		"large":          {Version: 1<<31 - 1, BaseRev: 1<<63 - 1},
		"empty marker":   {User: "a", Links: []Link{{Key: "k", UID: "u", Collection: "c"}}},
		"change key":     {User: "a", Links: []Link{{Key: "k", UID: "u", Collection: "c", Marker: Marker{ChangeKey: "ck"}}}},
		"hash only":      {User: "a", Links: []Link{{Key: "k", UID: "u", Collection: "c", Marker: Marker{Hash: h}}}},
		"time and hash":  {User: "a", Links: []Link{{Key: "k", UID: "u", Collection: "c", Marker: Marker{LastModified: t0, Hash: h}}}},
		"all link flags": {User: "a", Links: []Link{{Key: "k", UID: "u", Collection: "c", Source: "s", Private: true, Copy: true, Rewrites: "a b organizer\n- c picture\n"}}},
		"copy only":      {User: "a", Links: []Link{{Key: "k", UID: "u", Collection: "c", Copy: true}, {Key: "k2", UID: "u", Collection: "c", Private: true}}},
		"unsorted": {User: "a", Links: []Link{{Key: "b", UID: "u", Collection: "c"}, {Key: "a", UID: "u", Collection: "c"}, {Key: "a", UID: "u", Collection: "b"}},
			Delivered: []Delivered{{Collection: "c", UID: "2", Hash: h}, {Collection: "c", UID: "1", Hash: h}},
			Sources:   []Source{{Key: "z"}, {Key: "a", Clean: true}}},
		"sources": {User: "a", Sources: []Source{{Key: "no stat"}, {Key: "stat", Stat: FileStat{Size: 1}},
			{Key: "dev", Stat: FileStat{Dev: 1}}, {Key: "max", Clean: true, Hash: h, Items: -1,
				Stat: FileStat{Size: -1 << 63, MTime: 1<<63 - 1, CTime: -1, Inode: 1<<64 - 1, Dev: 1<<64 - 1}}}},
		"nasty strings": {User: nasty, Machine: nasty, Links: []Link{{Key: nasty, UID: nasty, Collection: nasty, Source: nasty, Rewrites: nasty,
			Marker: Marker{ChangeKey: nasty, Hash: nasty}}}, Delivered: []Delivered{{Collection: nasty, UID: nasty, Hash: nasty}},
			Sources: []Source{{Key: nasty, Hash: nasty}}},
	}
	for i := range 0x100 {
		// Every byte alone, and every rune of interest, in a valid state.
		s := string([]byte{'a', byte(i), 'z'})
		long := strings.Repeat("0123456789abcdef", 2)
		for _, at := range []int{0, 5, 7, 8, 13, 31} {
			// At every place in a run of eight (jsonscan.AppendString reads eight bytes at a time).
			s += " " + long[:at] + string([]byte{byte(i)}) + long[at:]
		}
		cases[fmt.Sprintf("byte %#02x", i)] = &UserState{User: "a", Machine: s, Links: []Link{{Key: s, UID: "u", Collection: "c"}}}
	}
	for _, r := range []rune{0x80, 0x7ff, 0x800, 0x2027, 0x2028, 0x2029, 0x202a, 0xfffd, 0xffff, 0x10000, 0x10ffff} {
		s := "a" + string(r) + "z 0123456" + string(r) + "789abcdef" + string(r)
		cases[fmt.Sprintf("rune %U", r)] = &UserState{User: "a", Machine: s, Links: []Link{{Key: s, UID: "u", Collection: "c"}}}
	}
	for name, tm := range times {
		cases["updated "+name] = &UserState{User: "a", Updated: tm}
		cases["marker "+name] = &UserState{User: "a", Links: []Link{{Key: "k", UID: "u", Collection: "c", Marker: Marker{LastModified: tm, ChangeKey: "x"}}}}
	}
	for name, st := range cases {
		t.Run(name, func(t *testing.T) { checkStateEncode(t, st) })
	}
}

// TestStateEncodeKnowsEveryField: appendStateJSON writes each field of the
// state's types by hand; a field added to one of them fails here until it
// is written there (and its tests set it).
func TestStateEncodeKnowsEveryField(t *testing.T) {
	for typ, n := range map[reflect.Type]int{
		reflect.TypeFor[UserState](): 8, reflect.TypeFor[Link](): 8, reflect.TypeFor[Marker](): 3,
		reflect.TypeFor[Delivered](): 3, reflect.TypeFor[Source](): 5, reflect.TypeFor[FileStat](): 5,
	} {
		if typ.NumField() != n {
			t.Errorf("%s has %d fields, appendStateJSON writes %d: write the new one in stateenc.go", typ, typ.NumField(), n)
		}
	}
}

// FuzzStateEncode: for any state (read from the fuzz input by
// encoding/json, then given strings, numbers and times from the other
// inputs, invalid UTF-8 included), the hand-written encoder writes what
// encoding/json writes.
func FuzzStateEncode(f *testing.F) {
	for _, st := range []*UserState{sampleState(), richState()} {
		data, err := st.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "k\x00u\x00c", int64(1764750000), int64(5), int32(3600), uint8(0))
	}
	f.Add([]byte(`{"version":1,"user":"a","base_rev":0,"links":[],"updated":"0001-01-01T00:00:00Z"}`), "", int64(0), int64(0), int32(0), uint8(0xff))
	f.Add([]byte(`{"version":-0,"links":[{"key":"k","marker":{"last_modified":"2026-01-01T00:00:00+01:00"}}],"sources":[{"stat":{"ino":1}}]}`),
		"q\"\\\n\xff\u2028", int64(-62135596800), int64(999999999), int32(-86400), uint8(0x5a))
	f.Fuzz(func(t *testing.T, data []byte, s string, sec, nsec int64, off int32, flags uint8) {
		st, err := parseStateSlow(data)
		if err != nil {
			st = &UserState{}
		}
		p := strings.Split(s, "\x00")
		part := func(i int) string { return p[i%len(p)] }
		tm := time.Unix(sec, nsec).In(time.FixedZone("", int(off)))
		if flags&1 != 0 {
			st.Updated = tm
		}
		if flags&2 != 0 {
			st.User, st.Machine = part(0), part(1)
		}
		if flags&4 != 0 {
			st.Links = append(st.Links, Link{Key: part(0), UID: part(1), Collection: part(2), Source: part(3),
				Private: flags&8 != 0, Copy: flags&16 != 0, Rewrites: part(4),
				Marker: Marker{LastModified: tm, ChangeKey: part(5), Hash: part(6)}})
		}
		if flags&32 != 0 {
			st.Delivered = append(st.Delivered, Delivered{Collection: part(0), UID: part(1), Hash: part(2)})
		}
		if flags&64 != 0 {
			st.Sources = append(st.Sources, Source{Key: part(0), Clean: flags&8 != 0, Hash: part(1), Items: int(off),
				Stat: FileStat{Size: sec, MTime: nsec, CTime: int64(off), Inode: uint64(sec), Dev: uint64(nsec)}})
		}
		if flags&128 != 0 {
			st.Version, st.BaseRev = int(off), sec
		}
		checkStateEncode(t, st)
	})
}

// benchState is the state of a user with n one-event files, as a first
// sync of n events writes it.
func benchState(n int) *UserState {
	st := &UserState{User: "bench", BaseRev: 1, Machine: "m", Updated: t0}
	for i := range n {
		f := fmt.Sprintf("ev-%06d.ics", i)
		uid := fmt.Sprintf("ev-%06d@bench", i)
		h := HashOf([]byte(uid))
		st.Links = append(st.Links, Link{Key: f + "#" + uid, UID: uid, Collection: "calendar",
			Marker: Marker{LastModified: t0.Add(-1234567 * 1e3), Hash: h}, Source: f})
		st.Delivered = append(st.Delivered, Delivered{Collection: "calendar", UID: uid, Hash: h})
		st.Sources = append(st.Sources, Source{Key: f, Clean: true, Hash: HashOf([]byte(f)), Items: 1,
			Stat: FileStat{Size: 310, MTime: 1764750000123456789, CTime: 1764750000123456789, Inode: uint64(100000 + i)}})
	}
	return st
}

// BenchmarkStateEncode: the state of a user with 10,000 one-event files.
func BenchmarkStateEncode(b *testing.B) {
	st := benchState(10000)
	data, err := st.Encode()
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range []struct {
		name   string
		encode func(*UserState) ([]byte, error)
	}{{"direct", (*UserState).Encode}, {"encoding-json", func(st *UserState) ([]byte, error) {
		// Encode as it was: validation and sorting, then encoding/json.
		if err := st.validate(); err != nil {
			return nil, err
		}
		c := st.sorted()
		return encodeStateSlow(&c)
	}}} {
		b.Run(e.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.encode(st); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
