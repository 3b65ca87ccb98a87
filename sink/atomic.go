package sink

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"
	"unicode/utf8"
)

// Permissions of the files and directories that sink creates, before the
// umask.
const (
	FileMode os.FileMode = 0o644
	DirMode  os.FileMode = 0o755
)

// tempSuffix ends the names of sink's temporary files. A crash can leave
// such a file behind (never a half-written final file); CleanTemp removes
// them.
const tempSuffix = ".pstsync-tmp"

// WriteFileAtomic writes data to path so that path either keeps its previous
// content or holds all of data, even after a crash: it writes a temporary
// file in the same directory, fsyncs it, renames it over path and fsyncs the
// directory. Missing parent directories are created. On error the temporary
// file is removed and the error, wrapped with path, is returned (so
// errors.Is(err, syscall.ENOSPC) and errors.Is(err, fs.ErrPermission) work).
func WriteFileAtomic(path string, data []byte) error {
	return writeAtomic(nil, path, time.Time{}, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomic is WriteFileAtomic with the content produced by fill and an
// optional modification time.
func writeAtomic(b *Batch, path string, mtime time.Time, fill func(io.Writer) error) error {
	dir := filepath.Dir(path)
	return writeAtomicVia(b, dir, path, mtime, fill)
}

// writeAtomicVia writes the temporary file in tmpDir (which must be on the
// same file system as path; Maildir delivery uses its tmp/ directory) and
// renames it to path. With a non-nil Batch the fsyncs are left to
// Batch.Sync.
func writeAtomicVia(b *Batch, tmpDir, path string, mtime time.Time, fill func(io.Writer) error) (err error) {
	if err := b.mkdirAll(filepath.Dir(path)); err != nil {
		return fmt.Errorf("sink: write %s: %w", path, err)
	}
	if err := b.mkdirAll(tmpDir); err != nil {
		return fmt.Errorf("sink: write %s: %w", path, err)
	}
	f, err := createTempFast(tmpDir, filepath.Base(path))
	if err != nil {
		return fmt.Errorf("sink: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Discard()
			err = fmt.Errorf("sink: write %s: %w", path, err)
		}
	}()
	if err = fill(f); err != nil {
		return err
	}
	if b == nil {
		if err = f.Sync(); err != nil {
			return err
		}
	}
	if !mtime.IsZero() {
		if err = f.SetMtime(mtime); err != nil {
			return err
		}
	}
	if err = f.Commit(path); err != nil {
		return err
	}
	if b == nil {
		return SyncDir(filepath.Dir(path))
	}
	b.written(path)
	return nil
}

// createTemp creates a hidden temporary file in dir, with the final file
// mode, whose name is derived from base but stays well below file name
// length limits.
func createTemp(dir, base string) (*os.File, error) {
	var f *os.File
	err := tempNames(dir, base, func(name string) (err error) {
		f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, FileMode)
		return err
	})
	return f, err
}

// tempNames calls create with fresh temporary names until one does not
// exist yet.
func tempNames(dir, base string, create func(name string) error) error {
	prefix := filepath.Join(dir, "."+truncateUTF8(base, 60)+".")
	for i := 0; ; i++ {
		err := create(prefix + strconv.FormatUint(uint64(rand.Uint32()), 36) + tempSuffix)
		if err == nil || !errors.Is(err, fs.ErrExist) || i > 100 {
			return err
		}
	}
}

// tempFile is the temporary file of an atomic write. Commit closes it
// and puts it in place under its final name (replacing a file there);
// Discard closes and removes it after a failure.
type tempFile interface {
	io.Writer
	Sync() error
	SetMtime(time.Time) error
	Commit(path string) error
	Discard()
}

// SyncDir fsyncs a directory so that a rename in it is durable. Windows
// cannot fsync directories; there it is a no-op.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil && errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	return err
}

// CleanTemp removes temporary files that an interrupted run of sink left
// under dir (recursively) and returns how many it removed. Only names made
// by sink (hidden, ending in ".pstsync-tmp") are touched.
func CleanTemp(dir string) (int, error) {
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if !d.IsDir() && len(name) > 0 && name[0] == '.' && hasSuffix(name, tempSuffix) {
			if err := os.Remove(p); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("sink: clean temporary files in %s: %w", dir, err)
	}
	return n, nil
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}

// truncateUTF8 shortens s to at most n bytes without splitting a UTF-8
// sequence.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// SyncFS flushes the whole file system holding dir at once (syncfs(2) on
// Linux); elsewhere it returns an error and the caller fsyncs file by file.
func SyncFS(dir string) error {
	if !canSyncFS {
		return errors.ErrUnsupported
	}
	return syncFS(dir)
}
