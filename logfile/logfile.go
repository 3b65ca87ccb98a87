// Package logfile writes pstsync's log to a size-rotated file and records
// the outcome of each run: one summary log line and a human-readable
// last-run.txt in the user's mailbox folder.
//
// The default location is %LOCALAPPDATA%\pstsync\logs\pstsync.log on
// Windows and $XDG_STATE_HOME/pstsync/pstsync.log elsewhere
// (config.LogDir); --log-file / log.file overrides it. When the file would
// grow past MaxBytes it is renamed to pstsync.log.1 (older ones shift to
// .2, …) and a new one is started; MaxFiles files are kept in all.
package logfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

// Defaults: 5 MB per file, 3 files.
const (
	DefaultMaxBytes = 5 << 20
	DefaultMaxFiles = 3
)

// Options configure a Writer.
type Options struct {
	Path     string
	MaxBytes int64 // rotate before a write would pass this; 0: DefaultMaxBytes
	MaxFiles int   // files kept, the current one included; 0: DefaultMaxFiles
}

// Writer is an io.WriteCloser appending to a size-rotated file. It is safe
// for concurrent use; each Write lands whole in one file (slog handlers
// write one record per call).
type Writer struct {
	mu      sync.Mutex
	opts    Options
	f       *os.File
	size    int64
	retryAt int64 // after a failed rotation, the size to try again at
}

// Open opens (appends to) the log file, creating it and its folder.
func Open(opts Options) (*Writer, error) {
	if opts.Path == "" {
		return nil, errors.New("logfile: no path")
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxFiles <= 0 {
		opts.MaxFiles = DefaultMaxFiles
	}
	if err := os.MkdirAll(filepath.Dir(opts.Path), 0o700); err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	w := &Writer{opts: opts}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Writer) open() error {
	f, err := os.OpenFile(w.opts.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("log file: %w", err)
	}
	w.f, w.size = f, st.Size()
	return nil
}

// Path is the current log file.
func (w *Writer) Path() string { return w.opts.Path }

// Write appends p, rotating first when p would take the file past
// MaxBytes (a record larger than MaxBytes gets a file of its own).
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return 0, os.ErrClosed
	}
	if w.size > 0 && w.size+int64(len(p)) > w.opts.MaxBytes && w.size >= w.retryAt {
		if err := w.rotate(); err != nil {
			// Keep logging into the old file (on Windows another process may
			// hold it open); try again after another tenth of MaxBytes.
			w.retryAt = w.size + w.opts.MaxBytes/10
			if w.f == nil {
				return 0, err
			}
		}
	}
	n, err := w.f.Write(p)
	w.size += int64(n)
	return n, err
}

// Rotate starts a new file now.
func (w *Writer) Rotate() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return os.ErrClosed
	}
	return w.rotate()
}

func (w *Writer) rotate() error {
	// Windows cannot rename an open file: close first, reopen on failure.
	if err := w.f.Close(); err != nil {
		return err
	}
	w.f = nil
	renameErr := w.shift()
	if err := w.open(); err != nil {
		return errors.Join(renameErr, err)
	}
	if renameErr == nil {
		w.retryAt = 0
	}
	return renameErr
}

// shift renames path.N-1 → path.N, …, path → path.1, dropping the oldest.
func (w *Writer) shift() error {
	p := w.opts.Path
	name := func(i int) string {
		if i == 0 {
			return p
		}
		return fmt.Sprintf("%s.%d", p, i)
	}
	last := w.opts.MaxFiles - 1
	if last == 0 {
		return os.Truncate(p, 0)
	}
	if err := os.Remove(name(last)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for i := last - 1; i >= 0; i-- {
		if err := os.Rename(name(i), name(i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Close closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

// NewHandler returns a slog handler writing format ("json", else text)
// records at level and above to w.
func NewHandler(w io.Writer, format string, level slog.Leveler) slog.Handler {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// Tee returns a handler that passes each record to every handler enabled
// for its level (the log file and stderr, each with its own level).
func Tee(hs ...slog.Handler) slog.Handler { return tee(hs) }

type tee []slog.Handler

func (t tee) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range t {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (t tee) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range t {
		if h.Enabled(ctx, r.Level) {
			errs = append(errs, h.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (t tee) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(tee, len(t))
	for i, h := range t {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (t tee) WithGroup(name string) slog.Handler {
	out := make(tee, len(t))
	for i, h := range t {
		out[i] = h.WithGroup(name)
	}
	return out
}
