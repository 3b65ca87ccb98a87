package merge

import (
	"bytes"
	"os"
	"strings"
	"testing"
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
