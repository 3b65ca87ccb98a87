// Package localstore is the sink.Store on a local folder, the default
// snapshot store. It also works on a network share (SMB/CIFS, NFS) mounted
// as a folder: every write goes to a temporary file that is fsynced and then
// published in one step, conditional writes are atomic across processes
// and machines without relying on byte-range locks:
//
//   - Put with IfNoneMatch publishes with a hard link (link(2) fails when the
//     name exists, on every file system and SMB server that has hard links);
//     where hard links are not supported it falls back to the key lock below.
//   - Put with IfMatch, unconditional Put and Delete take the key's lock (a
//     hidden file created with O_EXCL next to the key), compare the current
//     content's ETag under it and rename the temporary file over the key.
//     A lock older than Store.StaleLock is taken to be left by a crashed
//     process and is broken, with a log line.
//
// ETags are the quoted hex SHA-256 of the content. Keys map to files below
// the folder ("objects/ab/abcd" → DIR/objects/ab/abcd); see sink.CheckKey for
// the rules. Two keys where one is a folder prefix of the other ("a" and
// "a/b") cannot both exist here.
package localstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/pstsync/pstsync/sink"
)

const (
	tempSuffix = ".pstsync-tmp"  // same as package sink's, so sink.CleanTemp removes them
	lockSuffix = ".pstsync-lock" // the lock file of a key
	fileMode   = 0o644
	dirMode    = 0o755
)

// DefaultStaleLock is how old a key's lock file must be before another
// writer breaks it. A lock is held for the few milliseconds of a rename.
const DefaultStaleLock = 30 * time.Second

// Store is a sink.Store on a local folder. It is safe for concurrent use by
// goroutines and processes (also on other machines sharing the folder).
type Store struct {
	// StaleLock is the age at which a key's lock file counts as left by a
	// crashed writer and is removed (DefaultStaleLock when zero).
	StaleLock time.Duration
	// Logger receives the rare events worth a line (a stale lock broken,
	// hard links unsupported); slog.Default() when nil.
	Logger *slog.Logger

	root string
}

var _ sink.Store = (*Store)(nil)

// link publishes a temporary file under its final name only when that name
// is free. A variable for the tests of the fallback.
var link = os.Link

// New opens the store in dir, which must exist (it is never created here,
// so a share that is not mounted is an error rather than an empty store).
// Errors wrap sink.ErrStoreMissing or sink.ErrAccessDenied.
func New(dir string) (*Store, error) {
	if dir == "" {
		return nil, fmt.Errorf("localstore: no folder given: %w", sink.ErrStoreMissing)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("localstore: %s: %w", dir, err)
	}
	s := &Store{root: abs}
	if err := s.checkRoot(); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir returns the store's folder (absolute).
func (s *Store) Dir() string { return s.root }

// String implements sink.Store.
func (s *Store) String() string { return s.root }

func (s *Store) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Store) staleLock() time.Duration {
	if s.StaleLock > 0 {
		return s.StaleLock
	}
	return DefaultStaleLock
}

// checkRoot returns a clear error when the store's folder is gone.
func (s *Store) checkRoot() error {
	fi, err := os.Stat(s.root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("localstore: store folder %s does not exist (create it, or mount the share it is on): %w",
			s.root, sink.ErrStoreMissing)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("localstore: store folder %s: %w (check the folder's permissions): %w",
			s.root, sink.ErrAccessDenied, err)
	case err != nil:
		return fmt.Errorf("localstore: store folder %s: %w: %w", s.root, sink.ErrUnavailable, err)
	case !fi.IsDir():
		return fmt.Errorf("localstore: store folder %s is not a folder: %w", s.root, sink.ErrStoreMissing)
	}
	return nil
}

// fail wraps err from operation op on key, classifying it: a missing store
// folder gives sink.ErrStoreMissing (never sink.ErrNotExist), a permission
// problem sink.ErrAccessDenied.
func (s *Store) fail(op, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		if rerr := s.checkRoot(); rerr != nil {
			return fmt.Errorf("localstore: %s %s: %w", op, key, rerr)
		}
	}
	if errors.Is(err, fs.ErrPermission) && !errors.Is(err, sink.ErrAccessDenied) {
		return fmt.Errorf("localstore: %s %s: %w (check the store folder's permissions): %w", op, key, sink.ErrAccessDenied, err)
	}
	return fmt.Errorf("localstore: %s %s: %w", op, key, err)
}

func (s *Store) path(key string) string {
	return filepath.Join(s.root, filepath.FromSlash(key))
}

// ETag returns the ETag the store gives to data: its quoted hex SHA-256.
func ETag(data []byte) string {
	sum := sha256.Sum256(data)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// Get implements sink.Store.
func (s *Store) Get(ctx context.Context, key string) ([]byte, string, error) {
	if err := sink.CheckKey(key); err != nil {
		return nil, "", fmt.Errorf("localstore: get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, "", fmt.Errorf("localstore: get %s: %w", key, err)
	}
	data, err := s.read(key)
	if err != nil {
		return nil, "", s.fail("get", key, err)
	}
	return data, ETag(data), nil
}

// read returns the content of key's file; a missing file, a folder or a
// path through a file give an error wrapping sink.ErrNotExist.
func (s *Store) read(key string) ([]byte, error) {
	p := s.path(key)
	data, err := os.ReadFile(p)
	if err == nil {
		return data, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if errors.Is(err, syscall.ENOTDIR) {
		return nil, fmt.Errorf("%w (%w)", sink.ErrNotExist, err)
	}
	if fi, serr := os.Stat(p); serr == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s is a folder: %w", p, sink.ErrNotExist)
	}
	return nil, err
}

// Put implements sink.Store.
func (s *Store) Put(ctx context.Context, key string, data []byte, cond sink.Cond) (string, error) {
	if err := sink.CheckKey(key); err != nil {
		return "", fmt.Errorf("localstore: put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("localstore: put %s: %w", key, err)
	}
	if cond.IfNoneMatch && cond.IfMatch != "" {
		return "", fmt.Errorf("localstore: put %s: IfNoneMatch and IfMatch together never hold: %w", key, sink.ErrPrecondition)
	}
	// Never create the store folder itself: on an unmounted share that
	// would write to the local disk.
	if err := s.checkRoot(); err != nil {
		return "", fmt.Errorf("localstore: put %s: %w", key, err)
	}
	p := s.path(key)
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return "", s.fail("put", key, err)
	}
	tmp, err := writeTemp(dir, filepath.Base(p), data)
	if err != nil {
		return "", s.fail("put", key, err)
	}
	defer os.Remove(tmp) // after a link or a failure; gone after a rename
	etag := ETag(data)

	switch {
	case cond.IfNoneMatch:
		err = s.putIfAbsent(ctx, p, tmp)
	case cond.IfMatch != "":
		err = s.withLock(ctx, p, func() error {
			cur, err := s.read(key)
			if errors.Is(err, sink.ErrNotExist) {
				return fmt.Errorf("if-match %s: the key does not exist: %w", cond.IfMatch, sink.ErrPrecondition)
			}
			if err != nil {
				return err
			}
			if got := ETag(cur); got != cond.IfMatch {
				return fmt.Errorf("if-match %s: the key changed (now %s): %w", cond.IfMatch, got, sink.ErrPrecondition)
			}
			return rename(tmp, p)
		})
	default:
		err = s.withLock(ctx, p, func() error { return rename(tmp, p) })
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return "", s.fail("put", key, err)
	}
	return etag, nil
}

// putIfAbsent publishes tmp as p only when p does not exist.
func (s *Store) putIfAbsent(ctx context.Context, p, tmp string) error {
	err := link(tmp, p)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return existsErr(p)
	}
	// No hard links here (FAT, some NAS): exclusive under the key's lock.
	s.logger().Debug("localstore: hard link failed, using the lock file", "path", p, "err", err)
	return s.withLock(ctx, p, func() error {
		if _, err := os.Lstat(p); err == nil {
			return existsErr(p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return rename(tmp, p)
	})
}

func existsErr(p string) error {
	if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a folder (other keys are below it), not an object", p)
	}
	return fmt.Errorf("%s exists: %w", p, sink.ErrPrecondition)
}

// Delete implements sink.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := sink.CheckKey(key); err != nil {
		return fmt.Errorf("localstore: delete: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("localstore: delete %s: %w", key, err)
	}
	p := s.path(key)
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || (err == nil && fi.IsDir()) {
		return s.checkRoot()
	}
	if err != nil {
		return s.fail("delete", key, err)
	}
	err = s.withLock(ctx, p, func() error {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
	if err == nil {
		err = syncDir(filepath.Dir(p))
	}
	if err != nil {
		return s.fail("delete", key, err)
	}
	return nil
}

// List implements sink.Store.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	if err := sink.CheckPrefix(prefix); err != nil {
		return nil, fmt.Errorf("localstore: list: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("localstore: list %s: %w", prefix, err)
	}
	if err := s.checkRoot(); err != nil {
		return nil, fmt.Errorf("localstore: list %s: %w", prefix, err)
	}
	// Walk only the deepest folder the prefix names.
	start := s.root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = s.path(prefix[:i])
	}
	var keys []string
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == start && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
				return fs.SkipAll
			}
			return err
		}
		if p == start {
			if !d.IsDir() {
				return fs.SkipAll
			}
			return ctx.Err()
		}
		if strings.HasPrefix(d.Name(), ".") { // temporary and lock files
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			// Skip folders that cannot hold a key with the prefix.
			if !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && strings.HasPrefix(key, prefix) && sink.CheckKey(key) == nil {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, s.fail("list", prefix, err)
	}
	slices.Sort(keys)
	return keys, nil
}

// withLock runs fn holding the lock of the key stored at p.
func (s *Store) withLock(ctx context.Context, p string, fn func() error) error {
	lock := filepath.Join(filepath.Dir(p), hiddenName(filepath.Base(p), lockSuffix))
	if err := s.lock(ctx, lock); err != nil {
		return err
	}
	err := fn()
	if rerr := os.Remove(lock); rerr != nil && err == nil {
		err = fmt.Errorf("release lock: %w", rerr)
	}
	return err
}

// lock creates the lock file, waiting while another writer holds it and
// breaking it when it is stale.
func (s *Store) lock(ctx context.Context, lock string) error {
	wait := time.Millisecond
	for {
		f, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
		if err == nil {
			host, _ := os.Hostname()
			_, werr := fmt.Fprintf(f, "pid %d on %s at %s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339Nano))
			cerr := f.Close()
			if err := errors.Join(werr, cerr); err != nil {
				_ = os.Remove(lock)
				return fmt.Errorf("write lock: %w", err)
			}
			return nil
		}
		if !errors.Is(err, fs.ErrExist) && !isWindowsSharing(err) {
			return fmt.Errorf("take lock: %w", err)
		}
		if fi, serr := os.Stat(lock); serr == nil {
			if age := time.Since(fi.ModTime()); age > s.staleLock() {
				holder, _ := os.ReadFile(lock)
				s.logger().Warn("localstore: breaking a stale lock (a writer crashed?)",
					"lock", lock, "age", age.Round(time.Second), "holder", strings.TrimSpace(string(holder)))
				if rerr := os.Remove(lock); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
					return fmt.Errorf("break stale lock: %w", rerr)
				}
				continue
			}
		}
		t := time.NewTimer(wait/2 + rand.N(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for lock %s: %w", lock, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// writeTemp writes data to a new hidden temporary file in dir and fsyncs
// it; it returns the file's name. On failure nothing is left behind.
func writeTemp(dir, base string, data []byte) (string, error) {
	return writeTempSync(dir, base, data, true)
}

// writeTempSync is writeTemp with the fsync optional (a batch makes its
// files durable together).
func writeTempSync(dir, base string, data []byte, fsync bool) (_ string, err error) {
	f, err := os.CreateTemp(dir, hiddenName(base, ".*"+tempSuffix))
	if err != nil {
		return "", err
	}
	// A local name, not the result: a failed return must not empty the
	// name the cleanup removes.
	name := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(name)
		}
	}()
	if runtime.GOOS != "windows" {
		if err = f.Chmod(fileMode); err != nil {
			return "", err
		}
	}
	if err = failWrite(name); err != nil {
		return "", err
	}
	if _, err = f.Write(data); err != nil {
		return "", err
	}
	if fsync {
		if err = f.Sync(); err != nil {
			return "", err
		}
	}
	if err = f.Close(); err != nil {
		return "", err
	}
	return name, nil
}

// failWrite lets tests fail a write after its temporary file exists.
var failWrite = func(name string) error { return nil }

// hiddenName derives a hidden file name of bounded length from base.
func hiddenName(base, suffix string) string {
	short := base
	if len(short) > 60 {
		cut := 60
		for cut > 0 && !utf8.RuneStart(short[cut]) {
			cut--
		}
		sum := sha256.Sum256([]byte(base))
		short = short[:cut] + "~" + hex.EncodeToString(sum[:4])
	}
	return "." + short + suffix
}

// rename replaces to with from. On Windows a reader holding the target open
// makes the rename fail for a moment; it is retried.
func rename(from, to string) error {
	err := os.Rename(from, to)
	if runtime.GOOS != "windows" {
		return err
	}
	for i := 0; err != nil && i < 50 && isWindowsSharing(err); i++ {
		time.Sleep(time.Duration(5+i) * time.Millisecond)
		err = os.Rename(from, to)
	}
	return err
}

// isWindowsSharing reports a Windows access or sharing violation, which
// there is transient while another process has the file open or is
// deleting it.
func isWindowsSharing(err error) bool {
	if runtime.GOOS != "windows" {
		return false
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return false
	}
	// ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION
	return errno == 5 || errno == 32
}

// syncDir is sink.SyncDir, which also accepts file systems that refuse to
// fsync a folder with EINVAL.
func syncDir(dir string) error {
	if err := sink.SyncDir(dir); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}
