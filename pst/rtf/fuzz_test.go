package rtf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"unicode/utf8"
)

// rtfSeeds are RTF snippets shared by the extraction fuzz targets.
func rtfSeeds() []string {
	return []string{
		specExample1Raw,
		htmlHeader + "{\\*\\htmltag64 <p>}caf\\'e9 \\u233?\\par\\htmlrtf x\\htmlrtf0 {\\*\\htmltag72 </p>}}",
		"{\\rtf1\\ansi\\ansicpg932\\fromhtml1 {\\fonttbl{\\f0\\fcharset128 a;}}\\f0\\'93\\'fa\\'96{\\*\\htmltag1 \\'82}}",
		"{\\rtf1\\fromtext \\uc2\\u-10179\\'01\\'02\\u-8704??{\\pict\\bin5 {{{{{}\\bin}",
		"{\\rtf1\\ansi\\ansicpg65001\\deff3{\\fonttbl{\\f3\\cpg1251 x;}}\\'c3\\'a9\\~\\_\\emdash\\cell\\row\\'",
		sampleRTF(3),
	}
}

func FuzzDecompress(f *testing.F) {
	for _, seed := range [][]byte{
		specExample1, specExample2, pyExample, pyExampleMELA,
		withCRC(specExample1, 0), compress([]byte(sampleRTF(5))), store([]byte("{\\rtf1}")),
		lzfuStream(10, []byte{0x02, 'A', 0x00}),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := Decompress(b)
		if len(out) > 9*len(b)+16 {
			t.Fatalf("output %d bytes from %d input bytes", len(out), len(b))
		}
		if err == nil {
			if want := int(binary.LittleEndian.Uint32(b[4:])); len(out) != want {
				t.Fatalf("success with %d bytes, RAWSIZE %d", len(out), want)
			}
		} else if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) &&
			!errors.Is(err, ErrChecksum) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("unclassified error: %v", err)
		}

		// The same bytes as LZFu content behind a valid header, so that the
		// decoding loop sees arbitrary data rather than header rejections.
		out, err = Decompress(lzfuStream(8*len(b), b))
		if len(out) > 8*len(b) || (err != nil && !errors.Is(err, ErrFormat)) {
			t.Fatalf("as content: %d bytes, err %v", len(out), err)
		}

		// Round trip through the test compressor (kept small: it is slow).
		if len(b) <= 512 {
			for _, stream := range [][]byte{compress(b), store(b)} {
				got, err := Decompress(stream)
				if err != nil || !bytes.Equal(got, b) {
					t.Fatalf("round trip: err %v, got %d bytes, want %d", err, len(got), len(b))
				}
			}
		}
	})
}

// checkExtracted asserts properties every extraction result must have.
func checkExtracted(t *testing.T, in []byte, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("output is not valid UTF-8: %q", out)
	}
	// Each input byte yields at most 3 bytes of UTF-8 (a single-byte code
	// page character above U+07FF); escapes yield less per input byte.
	if len(out) > 3*len(in)+3 {
		t.Fatalf("output %d bytes from %d input bytes", len(out), len(in))
	}
}

func FuzzExtractHTML(f *testing.F) {
	for _, s := range rtfSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		html, ok := ExtractHTML(b)
		if ok != IsFromHTML(b) {
			t.Fatalf("ExtractHTML ok=%v but IsFromHTML=%v", ok, !ok)
		}
		if !ok && html != "" {
			t.Fatalf("not encapsulated but returned %q", html)
		}
		checkExtracted(t, b, html)
	})
}

func FuzzExtractText(f *testing.F) {
	for _, s := range rtfSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkExtracted(t, b, ExtractText(b))
		_ = IsFromText(b)
	})
}

func BenchmarkDecompress(b *testing.B) {
	raw := []byte(sampleRTF(1500)) // ~150 KB of Outlook-like RTF
	streams := []struct {
		name   string
		stream []byte
	}{
		{"synthetic", compress(raw)},
		{"uncompressed", store(raw)},
	}
	for _, s := range streams {
		b.Run(s.name, func(b *testing.B) {
			out, err := Decompress(s.stream)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(out)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decompress(s.stream); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("real-sample", func(b *testing.B) {
		stream := realStreams(b)[0]
		out, err := Decompress(stream)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(out)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decompress(stream); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkExtractHTML(b *testing.B) {
	raw := []byte(sampleRTF(1500))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ExtractHTML(raw); !ok {
			b.Fatal("not fromhtml")
		}
	}
}

func BenchmarkExtractText(b *testing.B) {
	raw := []byte(sampleRTF(1500))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		_ = ExtractText(raw)
	}
}
