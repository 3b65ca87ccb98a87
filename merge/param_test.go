package merge

import (
	"strings"
	"testing"
)

func TestParamText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Europe/Paris", "Europe/Paris"},
		{"\x02\x00rope/Paris", "rope/Paris"},
		{"a\r\nb\rc\nd\te\x7f", "a\nb\nc\nd\te"},
	}
	for _, tt := range tests {
		if got := paramText(tt.in); got != tt.want {
			t.Errorf("paramText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestVCardParamText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"000000\xc2,000000", "000000\uFFFD,000000"},
		{"\xff\xfe", "\uFFFD"},
		{`DOMAIN\user`, `DOMAIN\user`},               // backslashes are no escapes
		{`DOMAIN\user, Sales`, `DOMAIN\user, Sales`}, // quoted or not
		{`a\\\\b`, `a\\\\b`},
		{`a\\nb`, `a\\nb`},
		{"x\x01y", "xy"},
	}
	for _, tt := range tests {
		if got := vcardParamText(tt.in); got != tt.want {
			t.Errorf("vcardParamText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSplitUnescaped(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{`a,b`, []string{"a", "b"}},
		{`a\,b,c`, []string{`a\,b`, "c"}},
		{`a\\,b`, []string{`a\\`, "b"}},
		{`a\\\,b`, []string{`a\\\,b`}},
		{`x\`, []string{"x"}},     // dangling escape dropped
		{`x\\\`, []string{`x\\`}}, // odd run: one dropped
		{`a\ \`, []string{"a"}},   // trimming exposes another
		{` a , b `, []string{"a", "b"}},
	}
	for _, tc := range cases {
		got := splitUnescaped(tc.in, ',')
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("splitUnescaped(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
