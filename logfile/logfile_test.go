package logfile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/internal/testutil"
)

// readLines returns the record numbers logged by TestRotation in one file.
func recordNumbers(t *testing.T, path string) []int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec struct {
			Msg string `json:"msg"`
			N   int    `json:"n"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%s: line %q is no JSON record: %v", path, sc.Text(), err)
		}
		out = append(out, rec.N)
	}
	return out
}

func TestRotation(t *testing.T) {
	dir := testutil.TempDir(t)
	path := filepath.Join(dir, "logs", "pstsync.log")
	const maxBytes = 2000
	w, err := Open(Options{Path: path, MaxBytes: maxBytes, MaxFiles: 3})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(NewHandler(w, "json", slog.LevelInfo))
	const n = 100 // ~100 bytes each: ~5 files' worth, 3 kept
	for i := 1; i <= n; i++ {
		log.Info("record", "n", i, "pad", strings.Repeat("x", 20))
	}
	log.Debug("below the level", "n", -1)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	entries, _ := os.ReadDir(filepath.Dir(path))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "pstsync.log pstsync.log.1 pstsync.log.2" {
		t.Fatalf("files: %s", got)
	}
	var all []int
	for _, name := range []string{"pstsync.log.2", "pstsync.log.1", "pstsync.log"} {
		p := filepath.Join(filepath.Dir(path), name)
		st, _ := os.Stat(p)
		if st.Size() > maxBytes || st.Size() == 0 {
			t.Errorf("%s: %d bytes, want 1..%d", name, st.Size(), maxBytes)
		}
		nums := recordNumbers(t, p)
		all = append(all, nums...)
	}
	// oldest to newest, contiguous, ending with the last record; the
	// oldest records were dropped with the fourth file
	if len(all) == 0 || all[len(all)-1] != n || all[0] == 1 {
		t.Fatalf("records %v", all)
	}
	for i := 1; i < len(all); i++ {
		if all[i] != all[i-1]+1 {
			t.Fatalf("gap or reorder at %d: %v", i, all)
		}
	}
	if all[0] < 0 {
		t.Error("debug record written at info level")
	}

	// reopening appends to the current file and keeps counting its size
	w, err = Open(Options{Path: path, MaxBytes: maxBytes, MaxFiles: 3})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	fmt.Fprintf(w, "{\"n\":%d}\n", n+1)
	w.Close()
	after := recordNumbers(t, path)
	if after[len(after)-1] != n+1 || len(after) != len(recordNumbers(t, path)) || len(before) == 0 {
		t.Errorf("append after reopen: %v", after)
	}
}

func TestHugeRecordAndSingleFile(t *testing.T) {
	path := filepath.Join(testutil.TempDir(t), "p.log")
	w, err := Open(Options{Path: path, MaxBytes: 100, MaxFiles: 1})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("small\n"))
	big := strings.Repeat("B", 300) + "\n"
	w.Write([]byte(big))
	w.Close()
	got, _ := os.ReadFile(path)
	if string(got) != big {
		t.Errorf("MaxFiles 1: want only the big record, got %d bytes", len(got))
	}
	if _, err := os.Stat(path + ".1"); !errors.Is(err, os.ErrNotExist) {
		t.Error("MaxFiles 1 kept a .1")
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
}

func TestTee(t *testing.T) {
	var file, stderr bytes.Buffer
	l := slog.New(Tee(NewHandler(&file, "text", slog.LevelInfo), NewHandler(&stderr, "text", slog.LevelWarn)))
	l = l.With("user", "alice")
	l.Info("one")
	l.Warn("two")
	if !strings.Contains(file.String(), "one") || !strings.Contains(file.String(), "two") || !strings.Contains(file.String(), "user=alice") {
		t.Errorf("file: %q", file.String())
	}
	if strings.Contains(stderr.String(), "one") || !strings.Contains(stderr.String(), "two") {
		t.Errorf("stderr: %q", stderr.String())
	}
}

func TestSummary(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)
	tests := []struct {
		name  string
		s     Summary
		level string
		text  []string
	}{
		{"ok", Summary{User: "alice", Store: `\\nas\pstsync`, Started: start, Duration: 3200 * time.Millisecond,
			Outcome: "ok", Revision: 42, Added: 2, Changed: 1, LogFile: "C:/x/pstsync.log"},
			"INFO", []string{"Result:     OK (exit code 0)", "2 added, 1 changed, 0 deleted", "Conflicts:  none", "Revision:   42", `\\nas\pstsync`, "took 3.2s"}},
		{"conflicts", Summary{User: "bob", Started: start, Outcome: "conflicts pending", ExitCode: 5, Conflicts: 3},
			"WARN", []string{"Conflicts pending (exit code 5)", "3: both versions were kept; open conflicts.html"}},
		{"locked", Summary{User: "bob", Started: start, Outcome: "PST locked", ExitCode: 6, Skipped: true, Err: errors.New("Outlook.pst: in use")},
			"WARN", []string{"Problem:    Outlook.pst: in use"}},
		{"failed", Summary{User: "bob", Started: start, Outcome: "store unreachable", ExitCode: 7, Err: errors.New("dial tcp: refused")},
			"ERROR", []string{"Store unreachable (exit code 7)", "dial tcp: refused"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tc.s.Log(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)))
			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil || strings.Count(buf.String(), "\n") != 1 {
				t.Fatalf("not one JSON line: %q", buf.String())
			}
			if rec["level"] != tc.level || rec["msg"] != "sync finished" || rec["outcome"] != tc.s.Outcome {
				t.Errorf("record %v", rec)
			}
			for _, k := range []string{"added", "changed", "deleted", "conflicts", "duration"} {
				if _, ok := rec[k]; !ok {
					t.Errorf("summary line lacks %s", k)
				}
			}
			dir := filepath.Join(testutil.TempDir(t), "mailbox")
			if err := tc.s.WriteStatus(dir); err != nil {
				t.Fatal(err)
			}
			if err := tc.s.WriteStatus(dir); err != nil { // replaces
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, StatusFile))
			if err != nil {
				t.Fatal(err)
			}
			text := strings.ReplaceAll(string(b), "\r\n", "\n")
			for _, want := range tc.text {
				if !strings.Contains(text, want) {
					t.Errorf("status lacks %q:\n%s", want, text)
				}
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("mailbox holds %d files, want only %s", len(entries), StatusFile)
			}
		})
	}
}

func TestSummaryTextProblems(t *testing.T) {
	s := Summary{User: "ann", Outcome: "partial", ExitCode: 3, Problems: []string{"a.ics: cut short", "b.vcf: item #2: bad"}}
	text := s.Text()
	if !strings.Contains(text, "Not read:   a.ics: cut short\n") || !strings.Contains(text, "            b.vcf: item #2: bad\n") {
		t.Fatalf("status:\n%s", text)
	}
}
