package jsonscan

import "testing"

func TestPlainForms(t *testing.T) {
	tests := []struct {
		in   string
		read func(p *Scanner) (any, bool)
		want any
		ok   bool
	}{
		{`"abc"`, func(p *Scanner) (any, bool) { return p.Str() }, "abc", true},
		{` "é" `, func(p *Scanner) (any, bool) { return p.Str() }, "é", true},
		{`"a\"b"`, func(p *Scanner) (any, bool) { return p.Str() }, "", false},
		{"\"a\x01\"", func(p *Scanner) (any, bool) { return p.Str() }, "", false},
		{"\"\xff\"", func(p *Scanner) (any, bool) { return p.Str() }, "", false},
		{`"abc`, func(p *Scanner) (any, bool) { return p.Str() }, "", false},
		{`-12`, func(p *Scanner) (any, bool) { return p.Int() }, int64(-12), true},
		{`0`, func(p *Scanner) (any, bool) { return p.Int() }, int64(0), true},
		{`01`, func(p *Scanner) (any, bool) { return p.Int() }, int64(0), false},
		{`1.5`, func(p *Scanner) (any, bool) { return p.Int() }, int64(0), false},
		{`1e3`, func(p *Scanner) (any, bool) { return p.Int() }, int64(0), false},
		{`99999999999999999999`, func(p *Scanner) (any, bool) { return p.Int() }, int64(0), false},
		{`true,`, func(p *Scanner) (any, bool) { return p.Bool() }, true, true},
		{`false}`, func(p *Scanner) (any, bool) { return p.Bool() }, false, true},
		{`truex`, func(p *Scanner) (any, bool) { return p.Bool() }, true, false},
		{`null`, func(p *Scanner) (any, bool) { return p.Bool() }, false, false},
	}
	for _, tt := range tests {
		got, ok := tt.read(New([]byte(tt.in)))
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("%q: got %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestObjectRepeatedKey(t *testing.T) {
	read := func(in string) bool {
		p := New([]byte(in))
		return p.Object(func(k string) (uint32, bool) {
			_, ok := p.Int()
			return map[string]uint32{"a": 1, "b": 2}[k], ok
		}) && p.End()
	}
	if !read(`{"a": 1, "b": 2}`) || !read(`{}`) {
		t.Error("plain object refused")
	}
	if read(`{"a": 1, "a": 2}`) {
		t.Error("repeated key read (encoding/json merges those: must fall back)")
	}
	if read(`{"a": 1} x`) {
		t.Error("trailing text read")
	}
}
