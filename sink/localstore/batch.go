package localstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pstsync/pstsync/sink"
)

var _ sink.BatchPutter = (*Store)(nil)

// batchWorkers is how many files PutNew writes at once.
const batchWorkers = 4

// PutNew implements sink.BatchPutter: the items' temporary files are
// written without a flush each, made durable together (one syncfs where
// the platform has it, else an fsync per file, in parallel), then put in
// place under their names, in parallel (an existing name is left alone),
// and the names made durable (one more syncfs, else an fsync per folder).
// A key is never visible before its bytes are durable; a failure or a kill
// leaves at most hidden temporary files (or a new folder's hidden twin,
// below), which `pstsync check` reports and --repair removes.
//
// A folder that does not exist yet (Linux) is filled as a hidden twin
// beside it, each file written under its own name, and renamed into place
// once the files are durable, with a rename that refuses to replace a
// folder another writer made meanwhile (its files then go in one by one).
//
// A name is taken with a rename that refuses to replace (renameat2 with
// RENAME_NOREPLACE on Linux: one system call, nothing left to remove);
// where the file system lacks it, with a hard link and the temporary
// name's removal (putIfAbsent), as a single Put does.
func (s *Store) PutNew(ctx context.Context, items []sink.Item) error {
	if err := s.checkRoot(); err != nil {
		return fmt.Errorf("localstore: put: %w", err)
	}
	for _, it := range items {
		if err := sink.CheckKey(it.Key); err != nil {
			return fmt.Errorf("localstore: put: %w", err)
		}
	}
	// temps: the items' temporary names, relative to their folders; for
	// an item written into a new folder's hidden twin that could not be
	// renamed into place, its name there ("../<twin>/<name>").
	temps := make([]string, len(items))
	units := folderUnits(items, s.path)
	defer func() {
		for _, u := range units {
			for _, i := range u.items {
				if temps[i] != "" {
					_ = os.Remove(filepath.Join(u.dir, temps[i])) // after the link, or left by a failure
				}
			}
		}
	}()
	// A folder that did not exist holds no object: its items need no
	// look first (another writer's object arriving meanwhile is found
	// when the name is taken). Where a folder can be renamed without
	// replacing one (newFolders), a new folder is filled as a hidden twin
	// beside it, each file under its own name (no temporary name and
	// rename per file: a first sync stores 10,000 objects in 256 new
	// folders), and renamed into place once its files are durable.
	fresh := map[string]bool{}
	twins := map[string]string{} // a new folder → its hidden twin, until renamed into place
	defer func() {
		for _, t := range twins {
			_ = os.RemoveAll(t) // a failure, or a folder made meanwhile by another writer
		}
	}()
	for _, u := range units {
		if _, done := fresh[u.dir]; done {
			continue
		}
		_, err := os.Stat(u.dir)
		fresh[u.dir] = errors.Is(err, fs.ErrNotExist)
		if fresh[u.dir] && newFolders {
			if t, err := newTwin(u.dir); err == nil {
				twins[u.dir] = t
				continue
			}
			// else the folder itself, as anywhere else
		}
		if err := os.MkdirAll(u.dir, dirMode); err != nil {
			return s.fail("put", u.dir, err)
		}
	}
	wunits := units // where the files are written
	if len(twins) > 0 {
		wunits = slices.Clone(units)
		for k := range wunits {
			if t := twins[wunits[k].dir]; t != "" {
				wunits[k].dir, wunits[k].twin = t, true
			}
		}
	}
	direct := make([]bool, len(items)) // written under its name in a twin
	if err := s.eachUnit(ctx, wunits, func(d dirHandle, u unit) error {
		for _, i := range u.items {
			base := path.Base(items[i].Key)
			if u.twin {
				err := d.writeNew(base, items[i].Data)
				if errors.Is(err, fs.ErrExist) {
					continue // the same key twice in the batch: the first stays
				}
				if err != nil {
					return s.fail("put", items[i].Key, err)
				}
				direct[i] = true
				continue
			}
			if !fresh[u.dir] && d.exists(base) {
				continue // stored already
			}
			t, err := d.writeTemp(base, items[i].Data)
			if err != nil {
				return s.fail("put", items[i].Key, err)
			}
			temps[i] = t
		}
		return nil
	}); err != nil {
		return err
	}
	var written []string
	for k, u := range units {
		for _, i := range u.items {
			switch {
			case direct[i]:
				written = append(written, filepath.Join(wunits[k].dir, path.Base(items[i].Key)))
			case temps[i] != "":
				written = append(written, filepath.Join(u.dir, temps[i]))
			}
		}
	}
	viaFS, err := s.syncFiles(ctx, written)
	if err != nil {
		return err
	}
	if !viaFS {
		for _, t := range twins { // the twins' entries, before they are renamed
			if err := syncDir(t); err != nil {
				return s.fail("put", t, err)
			}
		}
	}
	// The twins into place. One whose folder was made meanwhile (another
	// writer's first object in it) gives its files one by one instead.
	var published []string
	for _, dir := range slices.Sorted(maps.Keys(twins)) {
		t := twins[dir]
		beforeTwinRename(dir)
		err := renameDirNoReplace(t, dir)
		if err == nil {
			delete(twins, dir)
			published = append(published, dir)
			continue
		}
		if !errors.Is(err, fs.ErrExist) && !errors.Is(err, syscall.ENOTEMPTY) && !isUnsupported(err) {
			return s.fail("put", dir, err)
		}
		if err := os.MkdirAll(dir, dirMode); err != nil {
			return s.fail("put", dir, err)
		}
		rel := filepath.Join("..", filepath.Base(t))
		for _, u := range units {
			if u.dir != dir {
				continue
			}
			for _, i := range u.items {
				if direct[i] {
					temps[i] = filepath.Join(rel, path.Base(items[i].Key))
				}
			}
		}
	}
	var rest []unit // units with files to put in place
	for _, u := range units {
		if slices.ContainsFunc(u.items, func(i int) bool { return temps[i] != "" }) {
			rest = append(rest, u)
		}
	}
	var noRename atomic.Bool
	if err := s.eachUnit(ctx, rest, func(d dirHandle, u unit) error {
		for _, i := range u.items {
			t := temps[i]
			if t == "" {
				continue
			}
			base := path.Base(items[i].Key)
			p := filepath.Join(u.dir, base)
			if !noRename.Load() {
				err := renameNoReplace(d, t, base)
				switch {
				case err == nil:
					temps[i] = "" // the temporary name is gone
					continue
				case errors.Is(err, fs.ErrExist):
					// Stored already (the deferred cleanup removes t),
					// unless a folder has the name.
					if err := existsErr(p); !errors.Is(err, sink.ErrPrecondition) {
						return s.fail("put", items[i].Key, err)
					}
					continue
				case isUnsupported(err):
					noRename.Store(true)
				}
				// Any other failure: the hard link says what is wrong, or
				// works where the rename does not.
			}
			err := s.putIfAbsent(ctx, p, filepath.Join(u.dir, t))
			if err != nil && !errors.Is(err, sink.ErrPrecondition) {
				return s.fail("put", items[i].Key, err)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if sink.SyncFS(s.root) == nil {
		return nil // the new names are durable with the file system
	}
	var errs []error
	for d := range fresh { // every folder written into, new or not
		if err := syncDir(d); err != nil {
			errs = append(errs, s.fail("put", d, err))
		}
	}
	for _, d := range published { // a twin renamed into place: its parent's entry
		if err := syncDir(filepath.Dir(d)); err != nil {
			errs = append(errs, s.fail("put", d, err))
		}
	}
	return errors.Join(errs...)
}

// unit is a part of a batch: items (indexes) whose files go in one folder.
type unit struct {
	dir   string
	items []int
	twin  bool // dir is a new folder's hidden twin
}

// unitItems is the most items a unit holds: a folder with more is split,
// so that the workers share it.
const unitItems = 64

// folderUnits divides items into units by folder, in the order of the
// folders' first items.
func folderUnits(items []sink.Item, pathOf func(key string) string) []unit {
	byDir := map[string][]int{}
	var dirs []string
	for i, it := range items {
		d := filepath.Dir(pathOf(it.Key))
		if _, ok := byDir[d]; !ok {
			dirs = append(dirs, d)
		}
		byDir[d] = append(byDir[d], i)
	}
	units := make([]unit, 0, len(dirs))
	for _, d := range dirs {
		for is := range slices.Chunk(byDir[d], unitItems) {
			units = append(units, unit{dir: d, items: is})
		}
	}
	return units
}

// eachUnit runs fn on every unit (parallel), with its folder opened once.
// Workers write in different folders most of the time (a folder's
// changes are serialised by its lock).
func (s *Store) eachUnit(ctx context.Context, units []unit, fn func(d dirHandle, u unit) error) error {
	return s.parallel(ctx, len(units), func(i int) error {
		d := openDirHandle(units[i].dir)
		defer d.close()
		return fn(d, units[i])
	})
}

// isUnsupported reports an error of a call the file system or kernel does
// not have.
func isUnsupported(err error) bool {
	return errors.Is(err, errors.ErrUnsupported) || errors.Is(err, syscall.EINVAL) ||
		errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EOPNOTSUPP)
}

// syncFiles makes the named files durable: one syncfs on the store's file
// system (viaFS: their folders' entries too), or an fsync each, in
// parallel.
func (s *Store) syncFiles(ctx context.Context, names []string) (viaFS bool, err error) {
	if len(names) == 0 {
		return false, nil
	}
	if sink.SyncFS(s.root) == nil {
		return true, nil
	}
	return false, s.parallel(ctx, len(names), func(i int) error {
		if err := sink.SyncFile(names[i]); err != nil {
			return s.fail("sync", names[i], err)
		}
		return nil
	})
}

// beforeTwinRename lets tests make a folder while its twin is filled.
var beforeTwinRename = func(dir string) {}

// newTwin makes the hidden folder a new folder dir is filled in (a
// temporary name: Temps lists one a killed writer left).
func newTwin(dir string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(dir), dirMode); err != nil {
		return "", err
	}
	t := filepath.Join(filepath.Dir(dir), hiddenName(filepath.Base(dir), "."+strconv.FormatUint(rand.Uint64(), 36)+tempSuffix))
	if err := os.Mkdir(t, dirMode); err != nil {
		return "", err
	}
	return t, nil
}

// parallel runs fn(0..n-1) on batchWorkers goroutines and returns the
// first error.
func (s *Store) parallel(ctx context.Context, n int, fn func(i int) error) error {
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	work := make(chan int)
	for range min(batchWorkers, n) {
		wg.Go(func() {
			for i := range work {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// Temps lists the hidden temporary and lock files below the store folder
// not modified for olderThan (left by a killed or failed writer), as paths
// relative to it.
func (s *Store) Temps(ctx context.Context, olderThan time.Duration) ([]string, error) {
	var out []string
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A temporary file, a lock, or a new folder's hidden twin (PutNew).
		if p != s.root && (hasSuffix(d.Name(), tempSuffix) || !d.IsDir() && hasSuffix(d.Name(), lockSuffix)) {
			skip := error(nil)
			if d.IsDir() {
				skip = filepath.SkipDir
			}
			if fi, err := d.Info(); err != nil || time.Since(fi.ModTime()) < olderThan {
				return skip
			}
			rel, err := filepath.Rel(s.root, p)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
			return skip
		}
		return nil
	})
	if err != nil {
		return nil, s.fail("list", "temporary files", err)
	}
	return out, nil
}

// RemoveTemp removes a temporary or lock file Temps listed.
func (s *Store) RemoveTemp(ctx context.Context, rel string) error {
	if !hasSuffix(rel, tempSuffix) && !hasSuffix(rel, lockSuffix) {
		return fmt.Errorf("localstore: %s is not a temporary file", rel)
	}
	if err := os.RemoveAll(filepath.Join(s.root, filepath.FromSlash(rel))); err != nil {
		return s.fail("delete", rel, err)
	}
	return nil
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}
