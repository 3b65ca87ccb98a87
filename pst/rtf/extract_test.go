package rtf

import (
	"fmt"
	"strings"
	"testing"
)

// htmlHeader is a typical Outlook \fromhtml1 header.
const htmlHeader = "{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0{\\fonttbl\r\n" +
	"{\\f0\\fswiss\\fcharset0 Arial;}\r\n{\\f1\\fmodern Courier New;}\r\n" +
	"{\\f2\\fnil\\fcharset2 Symbol;}\r\n{\\f3\\froman\\fcharset204 Times New Roman Cyr;}}\r\n" +
	"{\\colortbl\\red0\\green0\\blue0;\\red0\\green0\\blue255;}\r\n" +
	"\\uc1\\pard\\plain\\deftab360 \\f0\\fs24 \r\n"

func TestExtractHTML(t *testing.T) {
	tests := []struct {
		name string
		rtf  string
		want string
	}{
		{
			name: "document with htmltag groups, suppressed RTF and entities",
			rtf: htmlHeader +
				"{\\*\\htmltag19 <html>}\r\n{\\*\\htmltag34 <head>}\r\n{\\*\\htmltag1 \\par }\r\n" +
				"{\\*\\htmltag241 <style>p \\{ margin: 0 \\}</style>}\r\n{\\*\\htmltag41 </head>}\r\n" +
				"{\\*\\htmltag50 <body>}\\htmlrtf \\lang1033 \\ltrch \\htmlrtf0 \r\n" +
				"{\\*\\htmltag64 <p>}\\htmlrtf {\\htmlrtf0 Hello{\\*\\htmltag84 &nbsp;}\\htmlrtf \\'a0\\htmlrtf0 world" +
				"{\\*\\htmltag84 &lt;}\\htmlrtf <\\htmlrtf0 x{\\*\\htmltag84 &amp;}\\htmlrtf &\\htmlrtf0 y\r\n" +
				"{\\*\\htmltag72 </p>}\\htmlrtf \\par }\\htmlrtf0 \r\n" +
				"{\\*\\htmltag58 </body>}\r\n{\\*\\htmltag27 </html>}}\r\n",
			want: "<html><head>\r\n<style>p { margin: 0 }</style></head><body><p>Hello&nbsp;world&lt;x&amp;y</p></body></html>",
		},
		{
			name: "non-ASCII via \\'e9 in cp1252 and via \\u233?",
			rtf:  htmlHeader + "{\\*\\htmltag64 <p>}caf\\'e9 caf\\u233? \\'80 \\u8364?{\\*\\htmltag72 </p>}}",
			want: "<p>café café € €</p>",
		},
		{
			name: "\\ucN skip counts and surrogate pairs",
			rtf: htmlHeader + "{\\*\\htmltag64 <p>}{\\uc2\\u26085\\'93\\'fa}|{\\uc0\\u26412}|\\u-10179?\\u-8704?|" +
				"\\u-10179?x{\\*\\htmltag72 </p>}}",
			want: "<p>日|本|😀|\uFFFDx</p>",
		},
		{
			name: "escapes, \\par, \\tab, \\line and symbol words in text",
			rtf: htmlHeader + "{\\*\\htmltag64 <pre>}a\\{b\\}c\\\\d\\par e\\tab f\\line g\\~h" +
				"\\lquote i\\rquote \\emdash{\\*\\htmltag72 </pre>}}",
			want: "<pre>a{b}c\\d\r\ne\tf\r\ng\u00a0h‘i’—</pre>",
		},
		{
			name: "htmltag content uses the document code page, text the font code page",
			rtf: htmlHeader + "{\\*\\htmltag84 <img alt=\"\\'e9\">}{\\f3 \\'cf\\'f0\\'e8}\\'e9" +
				"{\\*\\htmltag84\\f3 <b>\\'e9</b>}}",
			want: "<img alt=\"é\">Приé<b>é</b>",
		},
		{
			name: "Japanese \\ansicpg932 with Shift-JIS escapes",
			rtf: "{\\rtf1\\ansi\\ansicpg932\\fromhtml1 \\deff0{\\fonttbl{\\f0\\fmodern\\fcharset128 \\'82\\'6c\\'82\\'72 " +
				"\\'83\\'53\\'83\\'56\\'83\\'62\\'83\\'4e;}{\\f1\\fswiss MS PGothic;}}\r\n\\uc1\\pard\\plain\\f0 \r\n" +
				"{\\*\\htmltag241 <meta charset=\"shift_jis\">}{\\*\\htmltag64 <p>}\\'93\\'fa\\'96\\'7b\\'8c\\'ea" +
				"{\\*\\htmltag84 <span title=\"\\'83\\'65\\'83\\'58\\'83\\'67\">}\\f1 \\'83\\'65\\'83X\\'83\\'67" +
				"{\\*\\htmltag92 </span>}{\\*\\htmltag72 </p>}}",
			want: "<meta charset=\"shift_jis\"><p>日本語<span title=\"テスト\">テスト</span></p>",
		},
		{
			name: "mhtmltag, htmlbase and other ignorable destinations are dropped",
			rtf: htmlHeader + "{\\*\\mhtmltag84 <img src=\"cid:x\">}{\\*\\htmltag84 <img src=\"x.gif\">}" +
				"{\\*\\bkmkstart a}{\\pict\\wmetafile8 0102ff}{\\*\\htmltag84 \\htmlbase <a>}}",
			want: "<img src=\"x.gif\"><a>",
		},
		{
			name: "\\htmlrtf is group scoped",
			rtf:  htmlHeader + "A\\htmlrtf B{\\htmlrtf0 C}D\\htmlrtf0 E{\\htmlrtf F}G}",
			want: "ACEG",
		},
		{
			name: "\\bin payload is skipped even when it contains braces",
			rtf:  htmlHeader + "a{\\*\\objdata x}{\\object\\bin3 }{x}b}",
			want: "ab",
		},
		{
			name: "unterminated document",
			rtf:  htmlHeader + "{\\*\\htmltag64 <p>}text\\",
			want: "<p>text",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ExtractHTML([]byte(tt.rtf))
			if !ok {
				t.Fatalf("ExtractHTML: ok = false")
			}
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestExtractHTMLNotEncapsulated(t *testing.T) {
	for _, rtf := range []string{
		"",
		"hello",
		"{\\rtf1\\ansi\\fromtext \\pard hi\\par}",
		"{\\rtf1\\ansi text before \\fromhtml1 marker}",
		"{\\rtf1\\ansi{\\fromhtml1}}",
		"{\\rtf1\\ansi\\fromhtml0 x}",
		"{\\rtf1\\ansi{\\*\\htmltag64}\\fromhtml1 x}",
		"\\fromhtml1 {\\rtf1}",
	} {
		if html, ok := ExtractHTML([]byte(rtf)); ok || html != "" {
			t.Errorf("ExtractHTML(%q) = %q, %v; want not encapsulated", rtf, html, ok)
		}
		if IsFromHTML([]byte(rtf)) {
			t.Errorf("IsFromHTML(%q) = true", rtf)
		}
	}
}

func TestIsFrom(t *testing.T) {
	tests := []struct {
		rtf            string
		html, fromText bool
	}{
		{htmlHeader + "x}", true, false},
		{"{\\rtf1\\ansi\\ansicpg1252\\fromtext \\fbidis \\deff0{\\fonttbl{\\f0\\fswiss Arial;}}\\pard hi}", false, true},
		{"{\\rtf1\\ansi\\fromhtml \\deff0 x}", true, false},
		{"{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Arial;}}\\pard hi}", false, false},
		{"  {\\rtf1\\fromtext}", false, true},
	}
	for _, tt := range tests {
		if got := IsFromHTML([]byte(tt.rtf)); got != tt.html {
			t.Errorf("IsFromHTML(%q) = %v", tt.rtf, got)
		}
		if got := IsFromText([]byte(tt.rtf)); got != tt.fromText {
			t.Errorf("IsFromText(%q) = %v", tt.rtf, got)
		}
	}
}

func TestExtractText(t *testing.T) {
	const wordHeader = "{\\rtf1\\ansi\\ansicpg1252\\deff0\\nouicompat{\\fonttbl{\\f0\\fswiss\\fcharset0 Calibri;}" +
		"{\\f1\\fnil\\fcharset204 Arial Cyr;}{\\f2\\fnil\\fcharset2 Symbol;}}\r\n" +
		"{\\colortbl ;\\red0\\green0\\blue255;}\r\n{\\*\\generator Riched20 10.0.19041}" +
		"{\\info{\\title T}{\\author A}{\\*\\company C}}\\viewkind4\\uc1 \r\n\\pard\\sa200\\sl276\\slmult1\\f0\\fs22\\lang9 "
	tests := []struct {
		name string
		rtf  string
		want string
	}{
		{
			name: "paragraphs, tabs, escapes, code page and unicode",
			rtf:  wordHeader + "Hello\\par World\\tab !\\line caf\\'e9 \\u8364?\\par\r\n\\{x\\}\\\\ \\f1\\'cf\\'f0\\'e8\\f0  ok\\par\r\n}",
			want: "Hello\nWorld\t!\ncafé €\n{x}\\ При ok\n",
		},
		{
			name: "header destinations, pictures, fields and ignorable groups",
			rtf: wordHeader + "{\\stylesheet{\\s0 Normal;}}{\\*\\listtable{\\list x}}" +
				"{\\pict\\pngblip\\picw10 89504e47}{\\*\\shppict{\\pict 00}}{\\nonshppict{\\pict 00}}" +
				"See {\\field{\\*\\fldinst{HYPERLINK \"http://example.com/\"}}{\\fldrslt{\\ul\\cf1 example}}} now." +
				"{\\*\\bkmkstart b}{\\footnote note}{\\header head}\\par}",
			want: "See example now.\n",
		},
		{
			name: "tables and list text",
			rtf: wordHeader + "\\trowd\\cellx1000\\cellx2000 a\\cell b\\cell\\row\\pard" +
				"{\\pntext\\f2\\'b7\\tab}{\\*\\pn\\pnlvlblt{\\pntxtb\\'b7}}item\\par}",
			want: "a\tb\t\n·\titem\n",
		},
		{
			name: "symbol words, \\~, \\_, \\- and \\bin",
			rtf:  "{\\rtf1\\ansi a\\~b\\_c\\-d\\emdash e\\bullet\\ldblquote q\\rdblquote{\\pict\\bin4 {}\\x}z}",
			want: "a\u00a0b\u2011cd—e•“q”z",
		},
		{
			name: "\\fromtext drops \\htmlrtf regions",
			rtf: "{\\rtf1\\ansi\\ansicpg1252\\fromtext \\fbidis \\deff0{\\fonttbl{\\f0\\fswiss Arial;}}" +
				"{\\*\\htmltag64}\\uc1\\pard\\plain\\f0 Line1\\par Go to " +
				"\\htmlrtf {\\field{\\*\\fldinst{HYPERLINK \"http://a/\"}}{\\fldrslt\\htmlrtf0 http://a/\\htmlrtf }}\\htmlrtf0 " +
				"\\htmlrtf  [RTF only]\\htmlrtf0 .\\par}",
			want: "Line1\nGo to http://a/.\n",
		},
		{
			name: "\\fromhtml1 gives the RTF rendering (htmltag dropped, \\htmlrtf kept)",
			rtf:  htmlHeader + "{\\*\\htmltag64 <p>}Hello{\\*\\htmltag84 &nbsp;}\\htmlrtf \\'a0\\htmlrtf0 world\\htmlrtf \\par \\htmlrtf0}",
			want: "Hello\u00a0world\n",
		},
		{
			name: "Japanese code page",
			rtf:  "{\\rtf1\\ansi\\ansicpg932\\deff0{\\fonttbl{\\f0\\fnil\\fcharset128 MS Gothic;}}\\f0 \\'93\\'fa\\'96\\'7b\\'8c\\'ea\\par}",
			want: "日本語\n",
		},
		{
			name: "\\mac code page",
			rtf:  "{\\rtf1\\mac \\'8e}",
			want: "é",
		},
		{
			name: "\\pc code page",
			rtf:  "{\\rtf1\\pc \\'82\\'9c}",
			want: "é£",
		},
		{
			name: "unknown code page falls back to cp1252",
			rtf:  "{\\rtf1\\ansi\\ansicpg99999 \\'e9}",
			want: "é",
		},
		{
			name: "UTF-8 code page, invalid bytes replaced",
			rtf:  "{\\rtf1\\ansi\\ansicpg65001 \\'c3\\'a9\\'ff}",
			want: "é\uFFFD",
		},
		{
			name: "text after the document group is ignored",
			rtf:  "{\\rtf1 abc}junk\x00\x00",
			want: "abc",
		},
		{
			name: "unbalanced and stray braces",
			rtf:  "}{\\rtf1 a{b}}}",
			want: "ab",
		},
		{
			name: "not RTF at all",
			rtf:  "plain text",
			want: "plain text",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExtractText([]byte(tt.rtf)); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// Nesting beyond maxDepth must not grow memory; the over-deep groups are
// dropped and parsing resumes once they close.
func TestDeepNesting(t *testing.T) {
	const n = 200000
	for _, tt := range []struct {
		depth int
		want  string
	}{{maxDepth - 2, "axyz"}, {n, "ayz"}} {
		rtf := "{\\rtf1 a" + strings.Repeat("{", tt.depth) + "x" + strings.Repeat("}", tt.depth) + "y{z}}"
		if got := ExtractText([]byte(rtf)); got != tt.want {
			t.Errorf("depth %d: ExtractText = %q, want %q", tt.depth, got, tt.want)
		}
		html := "{\\rtf1\\fromhtml1 a" + strings.Repeat("{", tt.depth) + "x" + strings.Repeat("}", tt.depth) + "y{z}}"
		if got, ok := ExtractHTML([]byte(html)); !ok || got != tt.want {
			t.Errorf("depth %d: ExtractHTML = %q, %v; want %q", tt.depth, got, ok, tt.want)
		}
	}
}

func TestExtractRoundTripThroughCompression(t *testing.T) {
	raw := sampleRTF(50)
	dec, err := Decompress(compress([]byte(raw)))
	if err != nil {
		t.Fatal(err)
	}
	html, ok := ExtractHTML(dec)
	if !ok {
		t.Fatal("not fromhtml")
	}
	if !strings.HasPrefix(html, "<html><body><p class=MsoNormal>Paragraph  café €&nbsp;end</p>") {
		t.Errorf("unexpected HTML start: %q", html[:min(120, len(html))])
	}
	if n := strings.Count(html, "<p class=MsoNormal>"); n != 50 {
		t.Errorf("%d paragraphs, want 50", n)
	}
}

func TestCodePages(t *testing.T) {
	tests := []struct {
		charset, cp int
		in          string
		want        string
	}{
		{238, 1250, "\x8a", "Š"},
		{204, 1251, "\xc0", "А"},
		{0, 1252, "\x80", "€"},
		{161, 1253, "\xc1", "Α"},
		{162, 1254, "\xfe", "ş"},
		{177, 1255, "\xe0", "א"},
		{178, 1256, "\xc7", "ا"},
		{186, 1257, "\xe0", "ą"},
		{163, 1258, "\xd2", "\u0309"},
		{222, 874, "\xa1", "ก"},
		{128, 932, "\x93\xfa", "日"},
		{134, 936, "\xc4\xe3", "你"},
		{129, 949, "\xc7\xd1", "한"},
		{136, 950, "\xa4\xa4", "中"},
		{77, 10000, "\x8e", "é"},
		{254, 437, "\x82", "é"},
		{255, 850, "\x82", "é"},
		{-1, 866, "\x80", "А"},
		{-1, 20866, "\xe1", "А"},
		{-1, 28605, "\xa4", "€"},
		{-1, 54936, "\x81\x30\x81\x30", "\u0080"},
	}
	dc := decoderCache{}
	for _, tt := range tests {
		if tt.charset >= 0 {
			if got := charsetCodePage(tt.charset); got != tt.cp && !(tt.charset == 0 && got == 0) {
				t.Errorf("charsetCodePage(%d) = %d, want %d", tt.charset, got, tt.cp)
			}
		}
		if got := string(dc.appendDecoded(nil, []byte(tt.in), tt.cp)); got != tt.want {
			t.Errorf("cp%d: %q decodes to %q, want %q", tt.cp, tt.in, got, tt.want)
		}
		// Through the parser, as a font charset.
		if tt.charset > 0 {
			rtf := fmt.Sprintf("{\\rtf1\\ansi{\\fonttbl{\\f5\\fcharset%d X;}}\\f5 %s}", tt.charset, hexEscape(tt.in))
			if got := ExtractText([]byte(rtf)); got != tt.want {
				t.Errorf("fcharset%d: got %q, want %q", tt.charset, got, tt.want)
			}
		}
	}
	// Every charset with a code page must have a decoder.
	for cs := range 256 {
		if cp := charsetCodePage(cs); cp != 0 && encodingFor(cp) == nil {
			t.Errorf("charset %d maps to unsupported code page %d", cs, cp)
		}
	}
}

func hexEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "\\'%02x", s[i])
	}
	return b.String()
}
