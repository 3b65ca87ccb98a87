package logfile

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// StatusFile is the name of the human-readable status in the mailbox.
const StatusFile = "last-run.txt"

// Summary is the outcome of one sync run.
type Summary struct {
	User      string
	Host      string
	Store     string
	Started   time.Time
	Duration  time.Duration
	Outcome   string // "ok", "conflicts pending", "PST locked", … (the exit code's name)
	ExitCode  int
	Revision  int64 // the snapshot revision after the run (0: none)
	Added     int
	Changed   int
	Deleted   int
	Conflicts int
	// Problems lists the sources and items that could not be read cleanly
	// (their items were left as they were), one line each.
	Problems []string
	// Duplicates lists items that share a UID with another item of the
	// user's side (both kept), one line each.
	Duplicates []string
	Skipped    bool   // nothing was done on purpose (PST locked, already running)
	Err        error  // why the run failed or was skipped
	LogFile    string // where the details are
	// Path says what the user's side was read from: "Outlook (…)", "PST
	// file …" or "folder …".
	Path string
}

// Log writes the run's one summary line: info when it succeeded, warn when
// it was skipped or left conflicts, error when it failed.
func (s Summary) Log(ctx context.Context, l *slog.Logger) {
	level := slog.LevelInfo
	switch {
	case s.ExitCode == 0:
	case s.Skipped || s.Err == nil:
		level = slog.LevelWarn
	default:
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("outcome", s.Outcome),
		slog.Int("exit_code", s.ExitCode),
		slog.String("user", s.User),
		slog.Int("added", s.Added),
		slog.Int("changed", s.Changed),
		slog.Int("deleted", s.Deleted),
		slog.Int("conflicts", s.Conflicts),
		slog.Duration("duration", s.Duration.Round(time.Millisecond)),
	}
	if s.Revision != 0 {
		attrs = append(attrs, slog.Int64("revision", s.Revision))
	}
	if s.Store != "" {
		attrs = append(attrs, slog.String("store", s.Store))
	}
	if s.Path != "" {
		attrs = append(attrs, slog.String("read_from", s.Path))
	}
	if len(s.Problems) > 0 {
		attrs = append(attrs, slog.Int("not_read", len(s.Problems)))
	}
	if s.Err != nil {
		attrs = append(attrs, slog.String("error", s.Err.Error()))
	}
	l.LogAttrs(ctx, level, "sync finished", attrs...)
}

// Text is the status for people, one "Label: value" per line.
func (s Summary) Text() string {
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "%-11s %s\n", label+":", fmt.Sprintf(format, args...))
	}
	b.WriteString("pstsync: last sync\n\n")
	result := s.Outcome
	switch {
	case result == "ok":
		result = "OK"
	case result != "":
		result = strings.ToUpper(result[:1]) + result[1:]
	}
	line("Result", "%s (exit code %d)", result, s.ExitCode)
	line("When", "%s, took %s", s.Started.Format("Mon 2 Jan 2006 15:04:05 (MST)"), s.Duration.Round(100*time.Millisecond))
	line("User", "%s", s.User)
	if s.Host != "" {
		line("Computer", "%s", s.Host)
	}
	if s.Store != "" {
		line("Store", "%s", s.Store)
	}
	if s.Path != "" {
		line("Read from", "%s", s.Path)
	}
	if s.Revision != 0 {
		line("Revision", "%d", s.Revision)
	}
	line("Changes", "%d added, %d changed, %d deleted", s.Added, s.Changed, s.Deleted)
	if s.Conflicts > 0 {
		line("Conflicts", "%d: both versions were kept; open conflicts.html in this folder to compare them", s.Conflicts)
	} else {
		line("Conflicts", "none")
	}
	if s.Err != nil {
		line("Problem", "%v", s.Err)
	}
	list := func(label string, items []string) {
		for i, p := range items {
			if i == 0 {
				line(label, "%s", p)
			} else {
				fmt.Fprintf(&b, "%-11s %s\n", "", p)
			}
		}
	}
	list("Not read", s.Problems)
	list("Duplicates", s.Duplicates)
	if s.LogFile != "" {
		line("Details", "%s", s.LogFile)
	}
	return b.String()
}

// WriteStatus writes Text to dir/last-run.txt, replacing the previous one
// atomically (a reader sees the old or the new status, never half).
func (s Summary) WriteStatus(dir string) error {
	text := s.Text()
	if runtime.GOOS == "windows" {
		text = strings.ReplaceAll(text, "\n", "\r\n") // for old Notepad
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+StatusFile+".*.tmp")
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, StatusFile))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("status %s: %w", filepath.Join(dir, StatusFile), err)
	}
	return nil
}
