package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/pst"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(append([]string{"pstsync"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// damagedCopy writes a copy of sample with one byte flipped.
func damagedCopy(t *testing.T, sample string, off int) string {
	t.Helper()
	b, err := os.ReadFile(testutil.Sample(t, sample))
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0xFF
	p := filepath.Join(t.TempDir(), "damaged.pst")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	zero := filepath.Join(dir, "zero.pst")
	os.WriteFile(zero, nil, 0o644)
	text := filepath.Join(dir, "notes.pst")
	os.WriteFile(text, []byte(strings.Repeat("not a pst file\n", 100)), 0o644)
	full, err := os.ReadFile(testutil.Sample(t, "tika__testPST.pst"))
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(dir, "truncated.pst")
	os.WriteFile(trunc, full[:100000], 0o644)
	cases := []struct {
		name, path, want string
	}{
		{"zero bytes", zero, "not an Outlook data file"},
		{"not a PST", text, "not an Outlook data file"},
		{"truncated", trunc, "truncated or damaged"},
		{"directory", dir, "is a directory"},
		{"missing", filepath.Join(dir, "nope.pst"), "no such file"},
		{"bad header CRC", testutil.Sample(t, "aspose__AddingBulkMessagesWithImprovedPerformance.pst"), "header checksum mismatch"},
	}
	for _, tc := range cases {
		for _, cmd := range []string{"inspect", "export"} {
			t.Run(tc.name+"/"+cmd, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "out")
				args := []string{cmd, tc.path}
				if cmd == "export" {
					args = []string{cmd, "--out", out, tc.path}
				}
				code, _, stderr := runCLI(t, args...)
				if code != exitInput {
					t.Errorf("exit %d, want %d", code, exitInput)
				}
				lines := strings.Split(strings.TrimSpace(stderr), "\n")
				if len(lines) != 1 || !strings.Contains(lines[0], tc.path) || !strings.Contains(lines[0], tc.want) {
					t.Errorf("stderr %q: want one line naming the file and %q", stderr, tc.want)
				}
				if cmd == "export" {
					// nothing for the file: no folder of its own, no temp files
					entries, _ := os.ReadDir(out)
					for _, e := range entries {
						if e.Name() != "report.json" {
							t.Errorf("output left for an unreadable input: %s", e.Name())
						}
					}
				}
			})
		}
	}
}

func TestDescribeInput(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{&fs.PathError{Op: "open", Path: "x.pst", Err: fs.ErrPermission}, "permission denied"},
		{&fs.PathError{Op: "open", Path: "x.pst", Err: syscall.ENOENT}, "no such file"},
		{fmt.Errorf("wrapped: %w", pst.ErrHeaderChecksum), "scanpst.exe"},
		{&pst.FormatError{What: "x", Err: pst.ErrTruncated}, "truncated"},
		{errors.New("weird"), "cannot be read"},
	}
	for _, tc := range cases {
		got := describeInput("x.pst", tc.err)
		if !strings.HasPrefix(got, "x.pst: ") || !strings.Contains(got, tc.want) || strings.Contains(got, "\n") {
			t.Errorf("describeInput(%v) = %q, want one line containing %q", tc.err, got, tc.want)
		}
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"export", "--out", t.TempDir()},
		{"export", "x.pst"},
		{"export", "--out", t.TempDir(), "--mail", "pdf", "x.pst"},
		{"export", "--out", t.TempDir(), "--vcard", "2.1", "x.pst"},
		{"inspect"},
		{"inspect", "--bogus", "x.pst"},
	} {
		if code, _, _ := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

// treeHash hashes every file (name and content) under dir.
func treeHash(t *testing.T, dir string, skip ...string) string {
	t.Helper()
	var names []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	sort.Strings(names)
	h := sha256.New()
outer:
	for _, n := range names {
		for _, s := range skip {
			if strings.HasSuffix(n, s) {
				continue outer
			}
		}
		rel, _ := filepath.Rel(dir, n)
		b, _ := os.ReadFile(n)
		fmt.Fprintf(h, "%s %d\n", rel, len(b))
		h.Write(b)
	}
	return fmt.Sprintf("%x/%d", h.Sum(nil), len(names))
}

func TestExportRerunIsIdempotent(t *testing.T) {
	samples := []string{testutil.Sample(t, "aspose__Test_part1.pst"), testutil.Sample(t, "ruby-msg__attachAndInline.pst"), testutil.Sample(t, "java-libpst__dist-list.pst")}
	for _, format := range []string{"eml", "mbox", "maildir"} {
		t.Run(format, func(t *testing.T) {
			out := t.TempDir()
			args := append([]string{"export", "-q", "--mail", format, "--out", out}, samples...)
			if code, stdout, stderr := runCLI(t, args...); code != exitOK || stdout != "" || stderr != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			first := treeHash(t, out, "report.json")
			if code, _, stderr := runCLI(t, args...); code != exitOK {
				t.Fatalf("second run: exit %d: %s", code, stderr)
			}
			if second := treeHash(t, out, "report.json"); second != first {
				t.Errorf("re-running changed the output: %s vs %s", first, second)
			}
		})
	}
}

// TestExportNoSync: --no-sync writes the same files; the report says they
// were not flushed, in report.json and in the summary.
func TestExportNoSync(t *testing.T) {
	samples := []string{testutil.Sample(t, "aspose__Test_part1.pst"), testutil.Sample(t, "ruby-msg__attachAndInline.pst")}
	synced := func(dir string) bool {
		t.Helper()
		var rep struct {
			Options struct {
				Synced *bool `json:"synced"`
			} `json:"options"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "report.json"))
		if err == nil {
			err = json.Unmarshal(b, &rep)
		}
		if err != nil || rep.Options.Synced == nil {
			t.Fatalf("%s: report.json without options.synced: %v", dir, err)
		}
		return *rep.Options.Synced
	}
	outs := map[bool]string{}
	for _, noSync := range []bool{false, true} {
		out := t.TempDir()
		args := []string{"export", "--out", out}
		if noSync {
			args = append(args, "--no-sync")
		}
		code, stdout, stderr := runCLI(t, append(args, samples...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		if got := synced(out); got == noSync {
			t.Errorf("%v: report.json options.synced = %v", args, got)
		}
		if warned := strings.Contains(stdout, "not flushed to disk"); warned != noSync {
			t.Errorf("%v: summary warns of no flush: %v; stdout:\n%s", args, warned, stdout)
		}
		outs[noSync] = treeHash(t, out, "report.json")
	}
	if outs[true] != outs[false] {
		t.Errorf("--no-sync wrote other files: %s vs %s", outs[true], outs[false])
	}
}

func TestExportPartial(t *testing.T) {
	// One flipped byte in a message's data block: that item's attachment
	// cannot be read; the item is exported without it, the six others
	// whole, and the report names the missing part (exit 3).
	p := damagedCopy(t, "tika__testPST.pst", 20812)
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "export", "--out", out, p)
	if code != exitPartial {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitPartial, stderr)
	}
	if !strings.Contains(stdout, "PARTIAL") || !strings.Contains(stdout, "written without: attachment 0:") || !strings.Contains(stdout, "7       7      0") {
		t.Errorf("report does not show 7 read, 7 written, one without its attachment:\n%s", stdout)
	}
	if !strings.Contains(stderr, "0 item(s) could not be exported and 1 were exported without some parts") {
		t.Errorf("stderr %q", stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "report.json")); err != nil {
		t.Error(err)
	}
}

func TestInspectJSON(t *testing.T) {
	code, stdout, stderr := runCLI(t, "inspect", "--json", testutil.Sample(t, "java-libpst__dist-list.pst"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{`"format": "unicode"`, `"encryption": "permute"`, `"IPM.DistList": 1`, `"distlist": 1`, `"container_class": "IPF.Contact"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect --json lacks %s", want)
		}
	}
}

// TestExportDiskFull exports into a 256 KiB tmpfs (needs root to mount):
// exit 1, a one-line error saying what to do, and no half-written file.
func TestExportDiskFull(t *testing.T) {
	dir := t.TempDir()
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", dir).Run(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v); disk-full behaviour is covered in sink", err)
	}
	defer exec.Command("umount", dir).Run()
	code, _, stderr := runCLI(t, "export", "--out", dir, testutil.Sample(t, "pst2john__2003_no-encryption_quickquick.pst"))
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	if !strings.Contains(stderr, "no space left on device") || !strings.Contains(stderr, "free space") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("stderr %q", stderr)
	}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && (strings.HasSuffix(p, ".pstsync-tmp") || fi.Name() == "report.json") {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}

// TestExportInterrupt sends SIGINT to a real pstsync process exporting
// enron.pst: exit 130, no temporary file and no report left behind.
func TestExportInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	enron := testutil.Enron(t)
	bin := filepath.Join(t.TempDir(), "pstsync")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out := t.TempDir()
	cmd := exec.Command(bin, "export", "-q", "--out", out, enron)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// interrupt once the export has written something
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if n := countFiles(out); n > 50 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v, want %d; stderr %s", err, exitInterrupted, stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr %q", stderr.String())
	}
	filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
		if err == nil && (strings.HasSuffix(p, ".pstsync-tmp") || fi.Name() == "report.json") {
			t.Errorf("left behind after interrupt: %s", p)
		}
		return nil
	})
}

func countFiles(dir string) int {
	n := 0
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func TestInterspersedFlags(t *testing.T) {
	out := t.TempDir()
	sample := testutil.Sample(t, "ruby-msg__attachAndInline.pst")
	code, stdout, stderr := runCLI(t, "export", sample, "--out", out, "--mail", "mbox", "-q")
	if code != exitOK || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if m, _ := filepath.Glob(filepath.Join(out, "*", "*.mbox")); len(m) != 1 {
		t.Errorf("mbox files: %v", m)
	}
}
