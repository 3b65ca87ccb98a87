package localstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/sink/storetest"
)

func newStore(t testing.TB) *Store {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sink.Store {
		s := newStore(t)
		t.Cleanup(func() { checkNoLeftovers(t, s.Dir()) })
		return s
	})
}

// TestConformanceWithoutHardLinks runs the suite on a file system without
// hard links (FAT, some NAS): IfNoneMatch falls back to the key lock.
func TestConformanceWithoutHardLinks(t *testing.T) {
	linked := withoutHardLinks(t)
	storetest.Run(t, func(t *testing.T) sink.Store {
		s := newStore(t)
		t.Cleanup(func() { checkNoLeftovers(t, s.Dir()) })
		return s
	})
	if linked.Load() == 0 {
		t.Fatal("the fallback was never exercised")
	}
}

// withoutHardLinks makes hard links fail for the rest of t, as on a file
// system without them, and counts the attempts.
func withoutHardLinks(t *testing.T) *atomic.Int32 {
	linked := new(atomic.Int32)
	link = func(string, string) error {
		linked.Add(1)
		return &os.LinkError{Op: "link", Err: errors.ErrUnsupported}
	}
	t.Cleanup(func() { link = os.Link })
	return linked
}

var realRenameNoReplace, realRenameDirNoReplace = renameNoReplace, renameDirNoReplace

// TestConformanceWithoutRenameNoReplace runs the suite where a rename
// that refuses to replace is not supported (NFS, SMB, older kernels): a
// batch takes its names with hard links, or, without those either, under
// the key lock.
func TestConformanceWithoutRenameNoReplace(t *testing.T) {
	for _, noLinks := range []bool{false, true} {
		t.Run(fmt.Sprintf("hard links %v", !noLinks), func(t *testing.T) {
			var renamed atomic.Int32
			renameNoReplace = func(d dirHandle, from, to string) error {
				renamed.Add(1)
				return &os.LinkError{Op: "rename", Old: from, New: to, Err: syscall.EINVAL}
			}
			renameDirNoReplace = func(from, to string) error {
				return &os.LinkError{Op: "rename", Old: from, New: to, Err: syscall.EINVAL}
			}
			t.Cleanup(func() { renameNoReplace, renameDirNoReplace = realRenameNoReplace, realRenameDirNoReplace })
			linked := new(atomic.Int32)
			if noLinks {
				linked = withoutHardLinks(t)
			}
			storetest.Run(t, func(t *testing.T) sink.Store {
				s := newStore(t)
				t.Cleanup(func() { checkNoLeftovers(t, s.Dir()) })
				return s
			})
			if renamed.Load() == 0 || (noLinks && linked.Load() == 0) {
				t.Fatalf("the fallback was never exercised (renames %d, links %d)", renamed.Load(), linked.Load())
			}
		})
	}
}

// TestPutNewNames: a batch puts every new object in place with the mode a
// single Put gives, leaves an object that is there, and no temporary file.
func TestPutNewNames(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	var items []sink.Item
	for i := range 300 {
		items = append(items, sink.Item{Key: fmt.Sprintf("objects/%02x/o%d", i%7, i), Data: fmt.Appendf(nil, "object %d", i)})
	}
	if _, err := s.Put(ctx, items[5].Key, []byte("was there"), sink.Cond{IfNoneMatch: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutNew(ctx, items); err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		want := string(it.Data)
		if i == 5 {
			want = "was there"
		}
		got, err := os.ReadFile(filepath.Join(s.Dir(), filepath.FromSlash(it.Key)))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", it.Key, got, err, want)
		}
		if fi, err := os.Stat(filepath.Join(s.Dir(), filepath.FromSlash(it.Key))); err != nil || fi.Mode().Perm() != fileMode {
			t.Errorf("%s: mode %v, %v", it.Key, fi.Mode(), err)
		}
	}
	checkNoLeftovers(t, s.Dir())
	checkNoLeftovers(t, s.Dir())
}

// checkNoLeftovers fails when a temporary or lock file was left behind.
func checkNoLeftovers(t testing.TB, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".") {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}

func TestNewMissingFolder(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := New(missing)
	if !errors.Is(err, sink.ErrStoreMissing) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("New(missing) = %v, want ErrStoreMissing naming %s", err, missing)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(file); !errors.Is(err, sink.ErrStoreMissing) {
		t.Fatalf("New(file) = %v, want ErrStoreMissing", err)
	}
	if _, err := New(""); !errors.Is(err, sink.ErrStoreMissing) {
		t.Fatalf(`New("") = %v, want ErrStoreMissing`, err)
	}
}

// TestFolderVanishes: an unmounted share must not look like an empty store,
// and a Put must not recreate the folder on the local disk.
func TestFolderVanishes(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "store")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Put(ctx, "revisions/1", []byte("x"), sink.Cond{}); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Get(ctx, "revisions/1")
	if sink.IsNotExist(err) || !errors.Is(err, sink.ErrStoreMissing) {
		t.Errorf("Get after the folder vanished = %v, want ErrStoreMissing and not IsNotExist", err)
	}
	if _, err := s.List(ctx, "revisions/"); !errors.Is(err, sink.ErrStoreMissing) {
		t.Errorf("List after the folder vanished = %v, want ErrStoreMissing", err)
	}
	if _, err := s.Put(ctx, "revisions/2", []byte("x"), sink.Cond{IfNoneMatch: true}); !errors.Is(err, sink.ErrStoreMissing) {
		t.Errorf("Put after the folder vanished = %v, want ErrStoreMissing", err)
	}
	if err := s.Delete(ctx, "revisions/1"); !errors.Is(err, sink.ErrStoreMissing) {
		t.Errorf("Delete after the folder vanished = %v, want ErrStoreMissing", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the store folder was recreated: %v", err)
	}
}

func TestStaleLockBroken(t *testing.T) {
	s := newStore(t)
	var logbuf bytes.Buffer
	s.Logger = slog.New(slog.NewTextHandler(&logbuf, nil))
	ctx := context.Background()
	etag, err := s.Put(ctx, "users/alice/state.json", []byte("v1"), sink.Cond{})
	if err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(s.Dir(), "users", "alice", ".state.json"+lockSuffix)
	if err := os.WriteFile(lock, []byte("pid 1 on crashed"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * DefaultStaleLock)
	if err := os.Chtimes(lock, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "users/alice/state.json", []byte("v2"), sink.Cond{IfMatch: etag}); err != nil {
		t.Fatalf("Put with a stale lock present: %v", err)
	}
	if !strings.Contains(logbuf.String(), "stale lock") || !strings.Contains(logbuf.String(), "crashed") {
		t.Errorf("no log line about the broken lock; log: %q", logbuf.String())
	}
	checkNoLeftovers(t, s.Dir())
}

func TestHeldLockWaits(t *testing.T) {
	s := newStore(t)
	bg := context.Background()
	etag, err := s.Put(bg, "k", []byte("v1"), sink.Cond{})
	if err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(s.Dir(), ".k"+lockSuffix)
	if err := os.WriteFile(lock, []byte("held"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
	defer cancel()
	_, err = s.Put(ctx, "k", []byte("v2"), sink.Cond{IfMatch: etag})
	if !errors.Is(err, context.DeadlineExceeded) || sink.IsPreconditionFailed(err) {
		t.Fatalf("Put while the lock is held = %v, want a deadline error", err)
	}
	// Released: the writer goes ahead.
	done := make(chan error, 1)
	go func() {
		_, err := s.Put(bg, "k", []byte("v2"), sink.Cond{IfMatch: etag})
		done <- err
	}()
	if err := os.Remove(lock); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkNoLeftovers(t, s.Dir())
}

// TestKeyIsFolder: "a" cannot be an object when "a/b" is one; that is an
// error, not a lost race.
func TestKeyIsFolder(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.Put(ctx, "a/b", []byte("x"), sink.Cond{}); err != nil {
		t.Fatal(err)
	}
	for _, cond := range []sink.Cond{{}, {IfNoneMatch: true}} {
		_, err := s.Put(ctx, "a", []byte("x"), cond)
		if err == nil || sink.IsPreconditionFailed(err) {
			t.Errorf("Put(a, %+v) over a folder = %v, want a plain error", cond, err)
		}
	}
	if _, err := s.Put(ctx, "a/b/c", []byte("x"), sink.Cond{}); err == nil {
		t.Error("Put(a/b/c) below an object succeeded")
	}
	if _, _, err := s.Get(ctx, "a/b/c"); !sink.IsNotExist(err) {
		t.Errorf("Get(a/b/c) below an object = %v, want IsNotExist", err)
	}
	checkNoLeftovers(t, s.Dir())
}

// TestListSkipsForeignFiles: temporary, lock and other hidden files, and
// names that are not valid keys, are not listed.
func TestListSkipsForeignFiles(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.Put(ctx, "objects/ab/abc", []byte("x"), sink.Cond{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".abc.123" + tempSuffix, ".abc" + lockSuffix, "bad:name", ".DS_Store"} {
		if err := os.WriteFile(filepath.Join(s.Dir(), "objects", "ab", name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(s.Dir(), ".git", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	keys, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "objects/ab/abc" {
		t.Fatalf("List = %q, want only objects/ab/abc", keys)
	}
}

// permEnv makes the test binary the unprivileged worker of
// TestPermissionDenied: root is not bound by permissions, so as root the
// test runs its check in a child process as an ordinary user.
const permEnv = "LOCALSTORE_TEST_PERM_DIR"

func TestPermissionDenied(t *testing.T) {
	if dir := os.Getenv(permEnv); dir != "" {
		checkPermissionDenied(t, dir)
		return
	}
	dir := filepath.Join(t.TempDir(), "store")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		checkPermissionDenied(t, dir)
		return
	}
	runUnprivileged(t, dir, "^TestPermissionDenied$", permEnv)
}

// checkPermissionDenied makes dir read-only and expects a Put into it to
// fail with ErrAccessDenied.
func checkPermissionDenied(t *testing.T, dir string) {
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.Dir(), 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(s.Dir(), 0o755) })
	if _, err := s.Put(context.Background(), "k", []byte("x"), sink.Cond{}); !errors.Is(err, sink.ErrAccessDenied) {
		t.Fatalf("Put in a read-only folder = %v, want ErrAccessDenied", err)
	}
}

func TestHiddenNameBounded(t *testing.T) {
	long := strings.Repeat("é", 200)
	a, b := hiddenName(long, lockSuffix), hiddenName(long+"x", lockSuffix)
	if len(a) > 100 || a == b || !strings.HasPrefix(a, ".") {
		t.Fatalf("hiddenName: %q, %q", a, b)
	}
}

// helperEnv makes the test binary a worker of TestProcesses.
const helperEnv = "LOCALSTORE_TEST_WORKER"

// TestProcesses races writers in separate processes: the locks and links
// must exclude each other across processes, not only goroutines.
func TestProcesses(t *testing.T) {
	if dir := os.Getenv(helperEnv); dir != "" {
		worker(t, dir)
		return
	}
	const procs, incs = 4, 10
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.Put(ctx, "counter", []byte("0"), sink.Cond{IfNoneMatch: true}); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	outs := make([][]byte, procs)
	errs := make([]error, procs)
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(exe, "-test.run=^TestProcesses$", "-test.count=1")
			cmd.Env = append(os.Environ(), helperEnv+"="+s.Dir(), "WORKER_ID="+strconv.Itoa(i), "WORKER_INCS="+strconv.Itoa(incs))
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for i := range procs {
		if errs[i] != nil {
			t.Fatalf("worker %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	data, _, err := s.Get(ctx, "counter")
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(procs * incs); string(data) != want {
		t.Fatalf("counter = %s after %d increments in %d processes: lost updates", data, procs*incs, procs)
	}
	winners, err := s.List(ctx, "winner/")
	if err != nil {
		t.Fatal(err)
	}
	if len(winners) != incs {
		t.Fatalf("%d IfNoneMatch winners for %d keys: %q", len(winners), incs, winners)
	}
	checkNoLeftovers(t, s.Dir())
}

func worker(t *testing.T, dir string) {
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id := os.Getenv("WORKER_ID")
	incs, _ := strconv.Atoi(os.Getenv("WORKER_INCS"))
	for i := range incs {
		// Every worker tries to create race/i; record who won.
		_, err := s.Put(ctx, "race/"+strconv.Itoa(i), []byte(id), sink.Cond{IfNoneMatch: true})
		switch {
		case err == nil:
			if _, err := s.Put(ctx, fmt.Sprintf("winner/%d-%s", i, id), nil, sink.Cond{IfNoneMatch: true}); err != nil {
				t.Fatal(err)
			}
		case !sink.IsPreconditionFailed(err):
			t.Fatal(err)
		}
		for {
			data, etag, err := s.Get(ctx, "counter")
			if err != nil {
				t.Fatal(err)
			}
			n, _ := strconv.Atoi(string(data))
			_, err = s.Put(ctx, "counter", []byte(strconv.Itoa(n+1)), sink.Cond{IfMatch: etag})
			if err == nil {
				break
			}
			if !sink.IsPreconditionFailed(err) {
				t.Fatal(err)
			}
		}
	}
}

func BenchmarkLocalPutGet(b *testing.B) { storetest.BenchPutGet(b, newStore(b)) }

// TestFailedWriteLeavesNoTemp: a write that fails after its temporary file
// was created removes it (single Put and batch).
func TestFailedWriteLeavesNoTemp(t *testing.T) {
	failWrite = func(string) error { return errors.New("disk full") }
	t.Cleanup(func() { failWrite = func(string) error { return nil } })
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.Put(ctx, "objects/ab/x", []byte("data"), sink.Cond{IfNoneMatch: true}); err == nil {
		t.Fatal("Put did not fail")
	}
	if err := s.PutNew(ctx, []sink.Item{{Key: "objects/ab/y", Data: []byte("y")}, {Key: "objects/cd/z", Data: []byte("z")}}); err == nil {
		t.Fatal("PutNew did not fail")
	}
	checkNoLeftovers(t, s.Dir())
	if temps, err := s.Temps(ctx, 0); err != nil || len(temps) > 0 {
		t.Errorf("Temps = %v, %v", temps, err)
	}
}

// BenchmarkPutNew10k: a first sync's objects, 10,000 new ones of about
// 300 bytes each in 256 folders, written and made durable as one batch.
func BenchmarkPutNew10k(b *testing.B) {
	items := make([]sink.Item, 10000)
	for i := range items {
		h := sha256.Sum256([]byte(strconv.Itoa(i)))
		x := hex.EncodeToString(h[:])
		items[i] = sink.Item{Key: "objects/" + x[:2] + "/" + x, Data: bytes.Repeat([]byte{'a' + byte(i%26)}, 300)}
	}
	slices.SortFunc(items, func(a, b sink.Item) int { return strings.Compare(a.Key, b.Key) })
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		s := newStore(b)
		b.StartTimer()
		if err := s.PutNew(ctx, items); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPutNewFolderMadeMeanwhile: a new folder is filled as a hidden twin;
// when another writer makes the folder (and puts a key in it) meanwhile,
// the twin's files go in one by one, the other writer's key is left as it
// is, and nothing hidden stays.
func TestPutNewFolderMadeMeanwhile(t *testing.T) {
	if !newFolders {
		t.Log("no twins on this platform: new folders are made in place")
	}
	s := newStore(t)
	ctx := context.Background()
	var items []sink.Item
	for i := range 200 {
		items = append(items, sink.Item{Key: fmt.Sprintf("objects/%02x/o%d", i%4, i), Data: fmt.Appendf(nil, "object %d", i)})
	}
	made := 0
	beforeTwinRename = func(dir string) {
		if filepath.Base(dir) != "01" && filepath.Base(dir) != "02" {
			return
		}
		made++
		// The other writer's own key, and one of ours with its bytes.
		other := filepath.ToSlash(filepath.Join("objects", filepath.Base(dir), "theirs"))
		if _, err := s.Put(ctx, other, []byte("theirs"), sink.Cond{IfNoneMatch: true}); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { beforeTwinRename = func(string) {} })
	items[1].Data = []byte("object 1")
	if _, err := s.Put(ctx, "objects/03/keep", []byte("kept"), sink.Cond{IfNoneMatch: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutNew(ctx, append(items, sink.Item{Key: "objects/03/keep", Data: []byte("not this")})); err != nil {
		t.Fatal(err)
	}
	if newFolders && made != 2 {
		t.Fatalf("folders made meanwhile: %d, want 2", made)
	}
	for _, it := range items {
		got, _, err := s.Get(ctx, it.Key)
		if err != nil || !bytes.Equal(got, it.Data) {
			t.Errorf("%s: %q, %v", it.Key, got, err)
		}
	}
	for key, want := range map[string]string{"objects/01/theirs": "theirs", "objects/02/theirs": "theirs", "objects/03/keep": "kept"} {
		if got, _, err := s.Get(ctx, key); (newFolders || key == "objects/03/keep") && (err != nil || string(got) != want) {
			t.Errorf("%s: %q, %v; want %q", key, got, err, want)
		}
	}
	keys, err := s.List(ctx, "objects/")
	if err != nil {
		t.Fatal(err)
	}
	if want := len(items) + 1 + 2*btoi(newFolders); len(keys) != want {
		t.Errorf("listed %d keys, want %d", len(keys), want)
	}
	checkNoLeftovers(t, s.Dir())
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestPutNewTwinLeftByKill: a twin a killed writer left is hidden from
// List, listed by Temps once old, and removed whole by RemoveTemp; a
// failed write removes its twin.
func TestPutNewTwinLeftByKill(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	twin, err := newTwin(filepath.Join(s.Dir(), "objects", "ab"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(twin, "abcd"), []byte("x"), 0o444); err != nil {
		t.Fatal(err)
	}
	if keys, err := s.List(ctx, "objects/"); err != nil || len(keys) != 0 {
		t.Fatalf("List = %v, %v", keys, err)
	}
	if temps, err := s.Temps(ctx, time.Hour); err != nil || len(temps) != 0 {
		t.Fatalf("Temps(1h) = %v, %v: a twin being filled is listed", temps, err)
	}
	temps, err := s.Temps(ctx, 0)
	if err != nil || len(temps) != 1 || !strings.HasPrefix(temps[0], "objects/.ab.") {
		t.Fatalf("Temps(0) = %v, %v", temps, err)
	}
	if err := s.RemoveTemp(ctx, temps[0]); err != nil {
		t.Fatal(err)
	}
	checkNoLeftovers(t, s.Dir())

	failWrite = func(string) error { return errors.New("disk full") }
	t.Cleanup(func() { failWrite = func(string) error { return nil } })
	if err := s.PutNew(ctx, []sink.Item{{Key: "objects/cd/y", Data: []byte("y")}}); err == nil {
		t.Fatal("PutNew did not fail")
	}
	checkNoLeftovers(t, s.Dir())
}
