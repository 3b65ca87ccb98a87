package syncer

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadRegular: a source file is read whole, up to the size limit; a
// folder is refused; the metadata returned is that of the file read.
func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("x"), 70000)
	for _, tc := range []struct {
		name  string
		data  []byte
		limit int64
		err   string
	}{
		{"empty", []byte{}, 10, ""},
		{"small", []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 1000, ""},
		{"at the limit", []byte("0123456789"), 10, ""},
		{"over the limit", []byte("0123456789a"), 10, "more than the limit of 10"},
		{"large", big, 1 << 20, ""},
		{"large over the limit", big, 65536, "more than the limit of 65536"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".ics")
			if err := os.WriteFile(p, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			data, fi, err := readRegular(p, tc.limit)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, tc.data) {
				t.Fatalf("read %d bytes, want %d", len(data), len(tc.data))
			}
			if fi.Size() != int64(len(tc.data)) || !fi.Mode().IsRegular() || fi.IsDir() {
				t.Fatalf("metadata: size %d mode %v", fi.Size(), fi.Mode())
			}
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if !fi.ModTime().Equal(st.ModTime()) || fileStatOf(fi) != fileStatOf(st) {
				t.Fatalf("metadata %v %+v, want %v %+v", fi.ModTime(), fileStatOf(fi), st.ModTime(), fileStatOf(st))
			}
		})
	}
	if _, _, err := readRegular(dir, 1000); err == nil {
		t.Fatal("a folder was read")
	}
	if _, _, err := readRegular(filepath.Join(dir, "missing.ics"), 1000); !os.IsNotExist(err) {
		t.Fatalf("missing file: %v", err)
	}
}
