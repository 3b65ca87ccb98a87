package sink

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// listFiles returns all regular files under dir (relative, slash-separated).
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	for _, f := range listFiles(t, dir) {
		if strings.HasSuffix(f, tempSuffix) {
			t.Errorf("temporary file left behind: %s", f)
		}
	}
}

// tempKind is one way sink makes temporary files; set selects it for the
// rest of test t. The platform's test files list theirs in tempKinds.
type tempKind struct {
	name string
	set  func(t *testing.T)
}

// eachTempKind runs f once with every kind of temporary file the
// platform has.
func eachTempKind(t *testing.T, f func(t *testing.T)) {
	for _, k := range tempKinds {
		t.Run(k.name, func(t *testing.T) {
			k.set(t)
			f(t)
		})
	}
}

func TestWriteFileAtomic(t *testing.T) { eachTempKind(t, testWriteFileAtomic) }

func testWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "deeper", "f.txt")
	if err := WriteFileAtomic(p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(p, []byte("two")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil || string(got) != "two" {
		t.Fatalf("content = %q, %v", got, err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != FileMode {
		t.Errorf("mode = %v, want %v", st.Mode().Perm(), FileMode)
	}
	if files := listFiles(t, dir); len(files) != 1 {
		t.Errorf("files = %q", files)
	}
}

func TestWriteAtomicInjectedFailure(t *testing.T) { eachTempKind(t, testWriteAtomicInjectedFailure) }

func testWriteAtomicInjectedFailure(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	if err := WriteFileAtomic(p, []byte("previous")); err != nil {
		t.Fatal(err)
	}
	err := writeAtomic(nil, p, time.Time{}, func(w io.Writer) error {
		if _, err := w.Write(bytes.Repeat([]byte("x"), 100000)); err != nil {
			return err
		}
		return errFail
	})
	if !errors.Is(err, errFail) || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v, want wrapped injected failure naming %s", err, p)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "previous" {
		t.Errorf("final file changed to %q", got)
	}
	assertNoTemp(t, dir)
	if files := listFiles(t, dir); len(files) != 1 {
		t.Errorf("files = %q", files)
	}
}

func TestWriteFileAtomicPermission(t *testing.T) {
	if os.Geteuid() == 0 {
		// root ignores directory permissions; use a read-only bind-like
		// situation instead: a path under a regular file.
		dir := t.TempDir()
		file := filepath.Join(dir, "file")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		err := WriteFileAtomic(filepath.Join(file, "x.txt"), []byte("x"))
		if err == nil || !strings.Contains(err.Error(), filepath.Join(file, "x.txt")) {
			t.Fatalf("err = %v", err)
		}
		return
	}
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(ro, "x.txt")
	err := WriteFileAtomic(p, []byte("x"))
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v, want permission error naming %s", err, p)
	}
	assertNoTemp(t, dir)
}

// tinyTmpfs mounts a 64 KiB tmpfs (root only) or skips.
func tinyTmpfs(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	return dir
}

func TestWriteFileAtomicENOSPC(t *testing.T) {
	dir := tinyTmpfs(t)
	p := filepath.Join(dir, "big.bin")
	err := WriteFileAtomic(p, bytes.Repeat([]byte("x"), 1<<20))
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err = %v, want ENOSPC", err)
	}
	if !strings.Contains(err.Error(), p) {
		t.Errorf("error does not name the path: %v", err)
	}
	if files := listFiles(t, dir); len(files) != 0 {
		t.Errorf("files left on full disk: %q", files)
	}
}

func TestMboxENOSPC(t *testing.T) {
	dir := tinyTmpfs(t)
	w, err := NewMboxWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	msg := testMessage("big", strings.Repeat("line of text\r\n", 4000))
	var addErr error
	for i := 0; i < 10 && addErr == nil; i++ {
		addErr = w.Add(ctx(), []string{"Inbox"}, MailItem{Raw: msg})
	}
	cerr := w.Close()
	if addErr == nil && cerr == nil {
		t.Fatal("no error on a full disk")
	}
	for _, e := range []error{addErr, cerr} {
		if e != nil && !errors.Is(e, syscall.ENOSPC) {
			t.Errorf("error is not ENOSPC: %v", e)
		}
	}
	if files := listFiles(t, dir); len(files) != 0 {
		t.Errorf("files left after failed mbox: %q", files)
	}
}

func TestCleanTemp(t *testing.T) {
	dir := t.TempDir()
	f, err := createTemp(dir, "x.mbox")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.WriteFile(filepath.Join(dir, "keep.pstsync-tmp"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := CleanTemp(dir)
	if err != nil || n != 1 {
		t.Fatalf("CleanTemp = %d, %v", n, err)
	}
	if files := listFiles(t, dir); len(files) != 1 || files[0] != "keep.pstsync-tmp" {
		t.Errorf("files = %q", files)
	}
}

func TestSafeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Inbox", "Inbox"},
		{"", "_"},
		{".", "_"},
		{"..", "_"},
		{"../etc/passwd", "_._etc_passwd"},
		{`a/b\c:d*e?f"g<h>i|j`, "a_b_c_d_e_f_g_h_i_j"},
		{"tab\there\x00nul\x7f", "tab here_nul_"},
		{"  trailing dots... ", "trailing dots"},
		{".hidden", "_hidden"},
		{"CON", "CON_"},
		{"con.txt", "con_.txt"},
		{"Com1", "Com1_"},
		{"LPT9.tar.gz", "LPT9_.tar.gz"},
		{"CONSOLE", "CONSOLE"},
		{"Données reçues", "Données reçues"},
		{"日本語のフォルダ", "日本語のフォルダ"},
		{"bad\xffutf8", "bad_utf8"},
		{"evil\u202etxt.exe", "evil_txt.exe"},
		{strings.Repeat("é", 80), strings.Repeat("é", 49)},
		// Long device names: the '_' must not push the name past the cut,
		// or a second SafeName would cut it again.
		{"CON." + strings.Repeat("a", 200), "CON_." + strings.Repeat("a", 94)},
		{"CON." + strings.Repeat("\xff", 200), "CON_." + strings.Repeat("_", 94)},
		{"nul." + strings.Repeat("a", 92) + " .x", "nul_." + strings.Repeat("a", 92)},
		{"CON" + strings.Repeat(" ", 120) + ".txt", "CON_"},
		{"CON" + strings.Repeat(" ", 50) + "." + strings.Repeat("é", 40), "CON" + strings.Repeat(" ", 50) + "_." + strings.Repeat("é", 22)},
		{strings.Repeat("a", 200), strings.Repeat("a", 99)},
	}
	for _, tc := range tests {
		if got := SafeName(tc.in); got != tc.want {
			t.Errorf("SafeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"", "..", "CON.txt", "a/b", "\xff", " . ", "CON." + strings.Repeat("\xff", 120)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if plainName(s) && safeRunes(s) != s {
			t.Fatalf("plainName(%q) but safeRunes rewrites it to %q", s, safeRunes(s))
		}
		n := SafeName(s)
		if n == "" || n == "." || n == ".." || strings.ContainsAny(n, `/\<>:"|?*`) || len(n) > cutBytes {
			t.Fatalf("SafeName(%q) = %q", s, n)
		}
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".") || strings.HasSuffix(n, " ") || strings.HasPrefix(n, " ") {
			t.Fatalf("SafeName(%q) = %q has leading/trailing dot or space", s, n)
		}
		for _, r := range n {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("control char in %q", n)
			}
		}
		if SafeName(n) != n {
			t.Fatalf("SafeName not idempotent: %q -> %q -> %q", s, n, SafeName(n))
		}
	})
}

func TestFolderPath(t *testing.T) {
	if got := FolderPath(nil); got != "." {
		t.Errorf("FolderPath(nil) = %q", got)
	}
	got := FolderPath([]string{"Inbox", "..", "a/b", "NUL"})
	want := filepath.Join("Inbox", "_", "a_b", "NUL_")
	if got != want {
		t.Errorf("FolderPath = %q, want %q", got, want)
	}
	if got := MaildirFolderPath([]string{"Inbox", "tmp", "CUR"}); got != filepath.Join("Inbox", "tmp_", "CUR_") {
		t.Errorf("MaildirFolderPath = %q", got)
	}
}
