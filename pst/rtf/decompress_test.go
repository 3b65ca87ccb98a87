package rtf

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/pstsync/pstsync/internal/testutil"
)

// Worked examples from [MS-OXRTFCP] section 3 and the header layout of
// section 2.1.3.1.
var (
	// 3.1.1: "{\rtf1\ansi\ansicpg1252\pard hello world}" CRLF, compressed
	// without dictionary references crossing the write position.
	specExample1Raw = "{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n"
	specExample1    = mustHex("2d0000002b0000004c5a4675f1c5c7a7" +
		"03000a007263706731323542320af32068656c090020627705b06c647d0a800fa0")
	// 3.1.2: a reference that reads bytes it is itself writing.
	specExample2Raw = "{\\rtf1 WXYZWXYZWXYZWXYZWXYZ}"
	specExample2    = mustHex("1a0000001c0000004c5a4675e2d44b51410004205758595a0d6e7d010eb0")
	// Output of the compressed_rtf Python package's documented example.
	pyExampleRaw = "{\\rtf1\\ansi\\ansicpg1252\\pard test}"
	pyExample    = []byte("#\x00\x00\x00\"\x00\x00\x00LZFu3\\\xe8t\x03\x00\n\x00rcpg125\x922\n\xf3 t\x07\x90t}\x0f\x10")
	// Its uncompressed form, with a (non-zero) CRC field that must be ignored.
	pyExampleMELA = append([]byte(".\x00\x00\x00\"\x00\x00\x00MELA \xdf\x12\xce"), pyExampleRaw...)
)

// lzfuStream wraps hand-made compressed content in an LZFu header.
func lzfuStream(rawSize int, content []byte) []byte {
	b := make([]byte, headerSize, headerSize+len(content))
	binary.LittleEndian.PutUint32(b[0:], uint32(len(content)+12))
	binary.LittleEndian.PutUint32(b[4:], uint32(rawSize))
	binary.LittleEndian.PutUint32(b[8:], compTypeLZFu)
	binary.LittleEndian.PutUint32(b[12:], crc(content))
	return append(b, content...)
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// withCRC returns a copy of stream with the CRC field replaced.
func withCRC(stream []byte, v uint32) []byte {
	b := bytes.Clone(stream)
	binary.LittleEndian.PutUint32(b[12:], v)
	return b
}

func TestInitialDictionary(t *testing.T) {
	if len(initialDict) != 207 {
		t.Fatalf("initial dictionary is %d bytes, spec says 207", len(initialDict))
	}
	if !strings.HasPrefix(initialDict, `{\rtf1\ansi\mac\deff0\deftab720`) || !strings.HasSuffix(initialDict, `\tab\tx`) {
		t.Fatalf("initial dictionary text wrong: %q", initialDict)
	}
}

func TestDecompressVectors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"spec example 1", specExample1, specExample1Raw},
		{"spec example 2 (overlapping reference)", specExample2, specExample2Raw},
		{"python compressed_rtf example", pyExample, pyExampleRaw},
		{"MELA with stray CRC", pyExampleMELA, pyExampleRaw},
		{"CRC field zero is tolerated", withCRC(specExample1, 0), specExample1Raw},
		{"trailing bytes after COMPSIZE ignored", append(bytes.Clone(specExample2), 0xde, 0xad), specExample2Raw},
		{"MELA empty", store(nil), ""},
		{"LZFu empty", compress(nil), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decompress(tt.in)
			if err != nil {
				t.Fatalf("Decompress: %v", err)
			}
			if string(got) != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// The test compressor must reproduce the specification's own output, which
// also validates the CRC implementation.
func TestCompressMatchesSpec(t *testing.T) {
	if got := compress([]byte(specExample1Raw)); !bytes.Equal(got, specExample1) {
		t.Fatalf("compress(example 1) = %x, want %x", got, specExample1)
	}
	if got := crc(specExample2[16:]); got != binary.LittleEndian.Uint32(specExample2[12:]) {
		t.Fatalf("crc(example 2) = %08x, want %08x", got, binary.LittleEndian.Uint32(specExample2[12:]))
	}
}

func TestDecompressErrors(t *testing.T) {
	badType := bytes.Clone(specExample1)
	copy(badType[8:], "ABCD")
	huge := bytes.Clone(specExample1)
	binary.LittleEndian.PutUint32(huge[4:], MaxRawSize+1)
	longCompSize := bytes.Clone(specExample1)
	binary.LittleEndian.PutUint32(longCompSize[0:], 1000)
	tinyCompSize := bytes.Clone(specExample1)
	binary.LittleEndian.PutUint32(tinyCompSize[0:], 3)
	badCRC := withCRC(specExample1, 0x12345678)
	noEnd := bytes.Clone(specExample1[:len(specExample1)-2]) // drop the end marker
	binary.LittleEndian.PutUint32(noEnd[0:], uint32(len(noEnd)-4))
	binary.LittleEndian.PutUint32(noEnd[12:], 0)
	rawTooBig := withCRC(specExample1, 0)
	binary.LittleEndian.PutUint32(rawTooBig[4:], 100) // stream ends after 43
	rawTooBigMELA := bytes.Clone(pyExampleMELA)
	binary.LittleEndian.PutUint32(rawTooBigMELA[4:], 100)
	// Control byte 0x02: a literal 'A', then a reference cut after one byte.
	halfRef := lzfuStream(10, []byte{0x02, 'A', 0x00})

	tests := []struct {
		name     string
		in       []byte
		want     error
		wantData string // expected partial output, if checked
	}{
		{"nil", nil, ErrFormat, ""},
		{"short header", specExample1[:15], ErrFormat, ""},
		{"unknown type", badType, ErrUnsupported, ""},
		{"RAWSIZE too large", huge, ErrTooLarge, ""},
		{"COMPSIZE beyond input", longCompSize, ErrFormat, ""},
		{"COMPSIZE below header", tinyCompSize, ErrFormat, ""},
		{"CRC mismatch still decodes", badCRC, ErrChecksum, specExample1Raw},
		{"RAWSIZE larger than stream", rawTooBig, ErrFormat, specExample1Raw},
		{"MELA shorter than RAWSIZE", rawTooBigMELA, ErrFormat, pyExampleRaw},
		{"truncated reference", halfRef, ErrFormat, "A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decompress(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "rtf: decompress: ") {
				t.Errorf("error lacks context: %v", err)
			}
			if tt.wantData != "" && string(got) != tt.wantData {
				t.Errorf("partial output %q, want %q", got, tt.wantData)
			}
		})
	}

	// A stream without end marker is fine when RAWSIZE is met exactly.
	if got, err := Decompress(noEnd); err != nil || string(got) != specExample1Raw {
		t.Errorf("no end marker: got %q, %v", got, err)
	}
}

func TestDecompressRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	random := make([]byte, 20000)
	rng.Read(random)
	tests := map[string][]byte{
		"single byte":  []byte("x"),
		"run of 1000":  bytes.Repeat([]byte("a"), 1000),
		"dictionary":   []byte(initialDict + initialDict),
		"typical rtf":  []byte(sampleRTF(300)),
		"wraps dict":   []byte(sampleRTF(3000)), // far beyond 4096 bytes
		"random bytes": random,
	}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			for _, stream := range [][]byte{compress(raw), store(raw)} {
				got, err := Decompress(stream)
				if err != nil {
					t.Fatalf("Decompress: %v", err)
				}
				if !bytes.Equal(got, raw) {
					t.Fatalf("round trip mismatch: got %d bytes, want %d", len(got), len(raw))
				}
			}
		})
	}
	if c := compress([]byte(sampleRTF(3000))); len(c) > len(sampleRTF(3000))/3 {
		t.Errorf("test compressor ratio poor: %d bytes", len(c))
	}
}

// A lying RAWSIZE must not make Decompress allocate it.
func TestDecompressAllocationBound(t *testing.T) {
	lie := withCRC(specExample1, 0)
	binary.LittleEndian.PutUint32(lie[4:], MaxRawSize)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		_, _ = Decompress(lie)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("10 calls allocated %d bytes for a %d-byte input claiming %d bytes", n, len(lie), MaxRawSize)
	}
	out, err := Decompress(lie)
	if !errors.Is(err, ErrFormat) || cap(out) > 9*len(lie)+16 {
		t.Errorf("err %v, cap %d", err, cap(out))
	}
}

// sampleRTF builds an Outlook-like \fromhtml1 RTF document with n paragraphs.
func sampleRTF(n int) string {
	var b strings.Builder
	b.WriteString("{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0{\\fonttbl\r\n{\\f0\\fswiss\\fcharset0 Arial;}\r\n" +
		"{\\f1\\fmodern Courier New;}}\r\n{\\colortbl\\red0\\green0\\blue0;\\red0\\green0\\blue255;}\r\n" +
		"\\uc1\\pard\\plain\\deftab360 \\f0\\fs24 \r\n{\\*\\htmltag19 <html>}\r\n{\\*\\htmltag50 <body>}\r\n")
	for i := range n {
		b.WriteString("{\\*\\htmltag64 <p class=MsoNormal>}\\htmlrtf {\\htmlrtf0 Paragraph ")
		b.WriteString(strings.Repeat("x", i%17))
		b.WriteString(" caf\\'e9 \\u8364?{\\*\\htmltag84 &nbsp;}\\htmlrtf \\'a0\\htmlrtf0 end\r\n")
		b.WriteString("{\\*\\htmltag72 </p>}\\htmlrtf \\par }\\htmlrtf0 \r\n")
	}
	b.WriteString("{\\*\\htmltag58 </body>}\r\n{\\*\\htmltag27 </html>}}\r\n")
	return b.String()
}

// realStreams returns the PidTagRtfCompressed values stored in the clear in
// the unencrypted sample PST (each lies in one data block, so the bytes from
// COMPSIZE onwards are contiguous in the file).
func realStreams(t testing.TB) [][]byte {
	t.Helper()
	data, err := os.ReadFile(testutil.Sample(t, "pst2john__2003_no-encryption_quickquick.pst"))
	if err != nil {
		t.Fatalf("read sample: %v", err)
	}
	var out [][]byte
	for i := 8; ; {
		j := bytes.Index(data[i:], []byte("LZFu"))
		if j < 0 {
			break
		}
		at := i + j - 8
		n := int(binary.LittleEndian.Uint32(data[at:])) + 4
		if at >= 0 && at+n <= len(data) {
			out = append(out, data[at:at+n])
		}
		i += j + 4
	}
	if len(out) == 0 {
		t.Fatal("no LZFu streams found in the sample")
	}
	return out
}

func TestDecompressRealSample(t *testing.T) {
	for i, stream := range realStreams(t) {
		if binary.LittleEndian.Uint32(stream[12:]) == 0 {
			t.Errorf("stream %d: expected a real CRC to verify", i)
		}
		raw, err := Decompress(stream)
		if err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		if want := int(binary.LittleEndian.Uint32(stream[4:])); len(raw) != want {
			t.Errorf("stream %d: %d bytes, RAWSIZE %d", i, len(raw), want)
		}
		if !bytes.HasPrefix(raw, []byte(`{\rtf1\ansi\ansicpg1252\fromhtml1 `)) {
			t.Errorf("stream %d: unexpected start %q", i, raw[:min(40, len(raw))])
		}
		html, ok := ExtractHTML(raw)
		if !ok {
			t.Fatalf("stream %d: not recognised as \\fromhtml1", i)
		}
		for _, want := range []string{
			"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD W3 HTML//EN\">\r\n<HTML>",
			"<TITLE>Welcome Message</TITLE>",
			"BODY {\r\n\tFONT-FAMILY: Verdana, sans-serif;",
			"<NOBR>Microsoft Outlook 2000</NOBR>",
		} {
			if !strings.Contains(html, want) {
				t.Errorf("stream %d: HTML lacks %q", i, want)
			}
		}
		if strings.Contains(html, `\par`) || strings.Contains(html, "htmltag") || strings.Contains(html, "fonttbl") {
			t.Errorf("stream %d: RTF leaked into HTML", i)
		}
		text := ExtractText(raw)
		if !strings.Contains(text, "Microsoft Outlook 2000 \nOne Window to Your World of Information") {
			t.Errorf("stream %d: text lacks the heading lines:\n%s", i, text[:min(400, len(text))])
		}
	}
}
