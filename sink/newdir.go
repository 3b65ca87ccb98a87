package sink

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// NewDir creates a folder that does not exist yet with all its files in
// one step: the files are written into a hidden folder beside it, each
// directly (nothing can see them there: no temporary file and rename per
// file), and once they are durable the folder is renamed into place. A
// first sync writes its 10,000 mailbox files so. Safe for concurrent
// WriteFile calls.
type NewDir struct {
	path, tmp string
	mu        sync.Mutex
	names     []string
}

// newDirPrefix starts the name of the hidden folder NewDir fills.
const newDirPrefix = ".pstsync-new-"

// StartNewDir begins creating the folder path. It fails with an error
// matching fs.ErrExist when path exists.
func StartNewDir(path string) (*NewDir, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("sink: new folder %s: %w", path, fs.ErrExist)
	}
	parent := filepath.Dir(path)
	if err := os.MkdirAll(parent, DirMode); err != nil {
		return nil, fmt.Errorf("sink: new folder %s: %w", path, err)
	}
	tmp := filepath.Join(parent, newDirPrefix+truncateUTF8(filepath.Base(path), 60)+"-"+strconv.FormatUint(rand.Uint64(), 36))
	if err := os.Mkdir(tmp, DirMode); err != nil {
		return nil, fmt.Errorf("sink: new folder %s: %w", path, err)
	}
	return &NewDir{path: path, tmp: tmp}, nil
}

// WriteFile writes the file name (a base name) of the new folder; a second
// write of a name replaces the first.
func (d *NewDir) WriteFile(name string, data []byte) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return fmt.Errorf("sink: new folder %s: bad file name %q", d.path, name)
	}
	if err := writeFileDirect(filepath.Join(d.tmp, name), data); err != nil {
		return fmt.Errorf("sink: write %s: %w", filepath.Join(d.path, name), err)
	}
	d.mu.Lock()
	d.names = append(d.names, name)
	d.mu.Unlock()
	return nil
}

// Publish makes the files durable and renames the folder into place. When
// path has appeared meanwhile the error matches fs.ErrExist, and the
// files stay where they were written until Discard (the caller writes
// them file by file instead).
func (d *NewDir) Publish() error {
	if err := SyncFS(d.tmp); err != nil {
		for _, n := range d.names {
			if err := SyncFile(filepath.Join(d.tmp, n)); err != nil {
				return fmt.Errorf("sink: new folder %s: %w", d.path, err)
			}
		}
		if err := SyncDir(d.tmp); err != nil {
			return fmt.Errorf("sink: new folder %s: %w", d.path, err)
		}
	}
	// A folder made meanwhile is not replaced (an empty one would be by
	// the rename, losing nothing).
	if _, err := os.Lstat(d.path); err == nil {
		return fmt.Errorf("sink: new folder %s: %w", d.path, fs.ErrExist)
	}
	if err := os.Rename(d.tmp, d.path); err != nil {
		if errors.Is(err, fs.ErrExist) || isNotEmpty(err) {
			return fmt.Errorf("sink: new folder %s: %w", d.path, fs.ErrExist)
		}
		return fmt.Errorf("sink: new folder %s: %w", d.path, err)
	}
	d.tmp = ""
	return SyncDir(filepath.Dir(d.path))
}

// Discard removes what was written unless it was published.
func (d *NewDir) Discard() {
	if d.tmp != "" {
		_ = os.RemoveAll(d.tmp)
		d.tmp = ""
	}
}

// CleanNewDirs removes the hidden folders NewDir left in parent when a run
// was interrupted before publishing them.
func CleanNewDirs(parent string) error {
	ents, err := os.ReadDir(parent)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("sink: clean %s: %w", parent, err)
	}
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), newDirPrefix) {
			if err := os.RemoveAll(filepath.Join(parent, e.Name())); err != nil {
				return fmt.Errorf("sink: clean %s: %w", parent, err)
			}
		}
	}
	return nil
}

func isNotEmpty(err error) bool { return errors.Is(err, syscall.ENOTEMPTY) }
