package merge

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-ical"

	"github.com/pstsync/pstsync/sink"
)

// uncached is Canonical(d) computed afresh, without the encoding the
// conversion kept.
func uncached(d *Doc) []byte {
	c := *d
	c.canon = nil
	return Canonical(&c)
}

// TestCanonicalKept: the encoding a conversion keeps is the one Canonical
// computes afresh, for every item of the foreign data (read from the files
// and decoded from their objects), and it is not used once the Doc has
// changed (a UID given to an item without one, a clone that is edited).
func TestCanonicalKept(t *testing.T) {
	n := 0
	for _, path := range foreignFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var fi FileItems
		if strings.HasSuffix(path, ".ics") {
			fi = ReadICSFile(data)
		} else {
			fi = ReadVCFFile(data)
		}
		for _, d := range fi.Docs {
			if d.UID == "" {
				if d.canon != nil && bytes.Equal(Canonical(d), d.canon.data) {
					t.Errorf("%s: an item without UID uses the encoding made with the stand-in UID", path)
				}
				d.UID = "given-" + path
			}
			want := uncached(d)
			if got := Canonical(d); !bytes.Equal(got, want) {
				t.Errorf("%s: %s: kept encoding differs:\n%s\nwant\n%s", path, d.UID, got, want)
			}
			back, err := ParseObject(want, d.Kind)
			if err != nil {
				t.Errorf("%s: %s: %v", path, d.UID, err)
				continue
			}
			if got := Canonical(back); !bytes.Equal(got, want) || back.canon == nil {
				t.Errorf("%s: %s: decoded object's kept encoding differs (kept: %v)", path, d.UID, back.canon != nil)
			}
			n++
		}
	}
	if n < 200 {
		t.Fatalf("only %d items", n)
	}
}

func TestCanonicalKeptNotAfterChange(t *testing.T) {
	d, err := DecodeCalendar([]byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20250101T100000Z\r\nSUMMARY:one\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d.canon == nil {
		t.Fatal("no encoding kept")
	}
	before := Canonical(d)
	if cap(before) != len(before) {
		t.Errorf("Canonical returned room to append into the kept bytes")
	}
	c := d.Clone()
	c.Fields["SUMMARY"] = Field{Name: "SUMMARY", Value: "two"}
	if got := Canonical(c); bytes.Equal(got, before) || !bytes.Contains(got, []byte("SUMMARY:two")) {
		t.Errorf("an edited clone encodes as the original:\n%s", got)
	}
	d.UID = "b"
	if got := Canonical(d); !bytes.Contains(got, []byte("UID:b\r\n")) {
		t.Errorf("a Doc given another UID encodes with the old one:\n%s", got)
	}
}

// TestCanonicalDirect: the canonical bytes, written directly from the Doc
// (calendarCanonical), are those of the calendar ToCalendar gives, for
// every calendar file in the repository's test data (other projects'
// files included).
func TestCanonicalDirect(t *testing.T) {
	var files []string
	for _, root := range []string{"testdata", "../fixtures"} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".ics") {
				files = append(files, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 300 {
		t.Fatalf("only %d calendar files found", len(files))
	}
	docs := 0
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ReadICSFile(data).Docs {
			docs++
			checkCanonicalDirect(t, p, d)
		}
	}
	t.Logf("%d docs from %d files", docs, len(files))
}

// checkCanonicalDirect fails when Canonical(d) differs from the encoding
// of ToCalendar(d).
func checkCanonicalDirect(t *testing.T, name string, d *Doc) {
	t.Helper()
	var buf bytes.Buffer
	cal, err := ToCalendar(d)
	if err == nil {
		err = sink.EncodeICS(&buf, cal)
	}
	if err != nil {
		// Canonical falls back to the dump, as it did through ToCalendar.
		if got := Canonical(d); !bytes.Equal(got, dump(d)) {
			t.Fatalf("%s: %s: ToCalendar failed (%v) but canonical bytes are no dump:\n%s", name, d.UID, err, got)
		}
		return
	}
	if got := Canonical(d); !bytes.Equal(got, buf.Bytes()) {
		t.Fatalf("%s: %s: canonical bytes differ from ToCalendar's:\n%s\n---\n%s", name, d.UID, got, buf.Bytes())
	}
}

func TestEscapeText(t *testing.T) {
	for _, s := range []string{"", "plain", "-//pstsync//pstsync//EN", "a,b;c\\d", "two\nlines", "cr\r\nlf", "bad \xff utf-8", "\xc3", "ünïcødé, ok", "tab\there"} {
		p := ical.NewProp("X")
		p.SetText(s)
		if got := escapeText(s); got != p.Value {
			t.Errorf("escapeText(%q) = %q, want %q", s, got, p.Value)
		}
	}
}

func FuzzEscapeText(f *testing.F) {
	f.Add("a,b;c\\d\n\xff")
	f.Fuzz(func(t *testing.T, s string) {
		p := ical.NewProp("X")
		p.SetText(s)
		if got := escapeText(s); got != p.Value {
			t.Fatalf("escapeText(%q) = %q, want %q", s, got, p.Value)
		}
	})
}
