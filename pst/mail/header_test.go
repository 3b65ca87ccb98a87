package mail

import (
	"bytes"
	"mime"
	"strings"
	"testing"

	gomessage "github.com/emersion/go-message"

	"github.com/pstsync/pstsync/pst"
)

func TestFileParamRoundTrip(t *testing.T) {
	names := []string{
		"plain.txt",
		"with space and (parens).pdf",
		`quote " and back\slash.txt`,
		"semi;colon=equals.doc",
		"café.txt",
		"日本語.xlsx",
		strings.Repeat("a", 300) + ".txt",
		strings.Repeat("é", 200) + ".bin",
		"tab\tname",
	}
	for _, n := range names {
		t.Run(n[:min(len(n), 20)], func(t *testing.T) {
			v := "attachment" + fileParam("filename", n)
			var b bytes.Buffer
			writeFolded(&b, "Content-Disposition", v)
			for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\r\n"), "\r\n") {
				if len(l) > 78 {
					t.Errorf("line of %d characters: %q", len(l), l)
				}
			}
			unfolded := strings.ReplaceAll(strings.TrimSuffix(b.String(), "\r\n"), "\r\n", "")
			_, p, err := mime.ParseMediaType(strings.TrimPrefix(unfolded, "Content-Disposition: "))
			if err != nil || p["filename"] != n {
				t.Errorf("mime: %q, %v", p["filename"], err)
			}
			h := gomessage.Header{}
			h.Set("Content-Disposition", strings.TrimPrefix(unfolded, "Content-Disposition: "))
			if _, p, err := h.ContentDisposition(); err != nil || p["filename"] != n {
				t.Errorf("go-message: %q, %v", p["filename"], err)
			}
		})
	}
}

func TestEncodeWords(t *testing.T) {
	for _, s := range []string{"é", "Grüße aus Köln, sagt er", strings.Repeat("日本語", 50), "a" + strings.Repeat("é", 100), `"quoted", name`} {
		for _, phrase := range []bool{false, true} {
			enc := encodeWords(s, phrase)
			for _, w := range strings.Fields(enc) {
				if len(w) > 75 || !strings.HasPrefix(w, "=?utf-8?") {
					t.Errorf("bad encoded-word %q", w)
				}
			}
			if got, err := new(mime.WordDecoder).DecodeHeader(enc); err != nil || got != s {
				t.Errorf("round trip %q -> %q -> %q (%v)", s, enc, got, err)
			}
		}
	}
}

func TestAttachType(t *testing.T) {
	tests := []struct {
		name   string
		props  []pst.Property
		method int32
		want   string
	}{
		{"a.pdf", nil, 1, "application/pdf"},
		{"A.DOCX", nil, 1, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"x.bin", []pst.Property{pstr(pst.TagAttachMimeTag, "image/png")}, 1, "image/png"},
		{"x.eml", []pst.Property{pstr(pst.TagAttachMimeTag, "message/rfc822")}, 1, "application/octet-stream"},
		{"x", []pst.Property{pstr(pst.TagAttachMimeTag, "garbage")}, 1, "application/octet-stream"},
		{"x", []pst.Property{pstr(pst.TagAttachExtension, ".jpg")}, 1, "image/jpeg"},
		{"x.html", nil, 1, "text/html"},
		{"x.png", nil, 6, "application/octet-stream"},
		{"noext", nil, 1, "application/octet-stream"},
	}
	for _, tc := range tests {
		a := &pst.Attachment{Props: props(append(tc.props, pint(pst.TagAttachMethod, tc.method))...)}
		if got := attachType(a, tc.name); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestWriteFolded(t *testing.T) {
	tests := []struct{ name, value string }{
		{"Subject", ""},
		{"Subject", "short"},
		{"To", strings.Repeat("word ", 60)},
		{"X-Long", strings.Repeat("x", 2500)},
		{"X-Mixed", strings.Repeat("é", 600) + " tail"},
	}
	for _, tc := range tests {
		var b bytes.Buffer
		writeFolded(&b, tc.name, tc.value)
		out := b.String()
		if !strings.HasSuffix(out, "\r\n") {
			t.Fatalf("no CRLF")
		}
		lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
		for i, l := range lines {
			if len(l) > 998 {
				t.Errorf("%s: line %d has %d characters", tc.name, i, len(l))
			}
			if i > 0 && (l == "" || !isWSP(l[0]) || strings.TrimSpace(l) == "") {
				t.Errorf("%s: bad continuation %q", tc.name, l)
			}
		}
		// Unfolding (removing CRLF) gives back the value, except for the
		// spaces inserted by forced breaks of overlong words.
		got := strings.TrimPrefix(strings.ReplaceAll(strings.TrimSuffix(out, "\r\n"), "\r\n", ""), tc.name+":")
		got = strings.TrimPrefix(got, " ")
		if strings.ReplaceAll(got, " ", "") != strings.ReplaceAll(tc.value, " ", "") {
			t.Errorf("%s: value changed", tc.name)
		}
	}
}
