package syncer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/sink/s3store"
	"github.com/pstsync/pstsync/snapshot"
)

// TestConcurrentSyncers runs 10 users' first syncs at once, each adding
// distinct items: every addition must be in the snapshot and the
// revisions must be 1..10, each the child of the one before.
func TestConcurrentSyncers(t *testing.T) {
	for _, tc := range stores {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store := tc.store(t)
			root := t.TempDir()
			const users, items = 10, 3
			var wg sync.WaitGroup
			errs := make([]error, users)
			for u := range users {
				user := fmt.Sprintf("user%02d", u)
				src := filepath.Join(root, user)
				for i := range items {
					put(t, src, fmt.Sprintf("e%d.ics", i), icsEvent(fmt.Sprintf("%s-E%d", user, i), user+" event"))
				}
				put(t, src, "c.vcf", vcfCard(user+"-C", user+" card", "EMAIL:"+user+"@example.com"))
				wg.Add(1)
				go func() {
					defer wg.Done()
					// every syncer has its own Repo, as on separate PCs
					repo, err := snapshot.Open(ctx, store)
					if err == nil {
						_, err = Sync(ctx, Options{User: user, Source: src, Repo: repo, Mailbox: filepath.Join(root, "mb-"+user),
							Now: tick, Rand: rand.New(rand.NewPCG(uint64(u), 7)), MaxAttempts: 40})
					}
					errs[u] = err
				}()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			repo, _ := snapshot.Open(ctx, store)
			revs, err := repo.Revisions(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(revs) != users {
				t.Fatalf("revisions %v, want 1..%d", revs, users)
			}
			for i, rev := range revs {
				m, err := repo.Manifest(ctx, rev)
				if err != nil {
					t.Fatal(err)
				}
				if rev != int64(i+1) || m.Parent != rev-1 {
					t.Fatalf("revision %d (parent %d) at position %d", rev, m.Parent, i)
				}
			}
			m, _ := repo.Latest(ctx)
			if len(m.Collections[Calendar]) != users*items || len(m.Collections[Contacts]) != users {
				t.Fatalf("latest holds %d events and %d contacts", len(m.Collections[Calendar]), len(m.Collections[Contacts]))
			}
			problems, err := repo.Check(ctx)
			if err != nil || len(problems) > 0 {
				t.Fatalf("check: %v %v", err, problems)
			}
			// Each mailbox holds what its index says (first syncs write
			// their item folders beside the commit, and a commit that
			// lost its race discards them), and nothing hidden is left.
			for u := range users {
				checkMailboxFiles(t, filepath.Join(root, fmt.Sprintf("mb-user%02d", u)))
			}
		})
	}
}

// checkMailboxFiles fails unless the item files of the mailbox dir are
// exactly those of its index, each with the content the index records,
// and no folder is left beside them half made.
func checkMailboxFiles(t *testing.T, dir string) {
	t.Helper()
	idx := readIndex(dir)
	if idx == nil {
		t.Fatalf("%s: no index", dir)
	}
	got := map[string]string{}
	for _, d := range []string{CalendarDir, ContactsDir} {
		ents, err := os.ReadDir(filepath.Join(dir, d))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			got[d+"/"+e.Name()] = snapshot.HashOf([]byte(read(t, filepath.Join(dir, d, e.Name()))))
		}
	}
	if !maps.Equal(got, idx.Files) {
		t.Fatalf("%s: files %v, index %v", dir, got, idx.Files)
	}
	top, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range top {
		if strings.HasPrefix(e.Name(), ".pstsync-new-") {
			t.Errorf("%s: %s left", dir, e.Name())
		}
	}
}

// versitygw is a private S3 server the test can kill and restart on the
// same data.
type versitygw struct {
	t           *testing.T
	bin, data   string
	port        string
	key, secret string
	cmd         *exec.Cmd
}

func startVersitygw(t *testing.T) *versitygw {
	t.Helper()
	s3Config(t) // skip (or fail in CI) without the S3 test setup
	bin, err := exec.LookPath("versitygw")
	if err != nil {
		gopath, _ := exec.Command("go", "env", "GOPATH").Output()
		bin = filepath.Join(strings.TrimSpace(string(gopath)), "bin", "versitygw")
		if _, err := os.Stat(bin); err != nil {
			if inCI() {
				t.Fatal("versitygw not installed (scripts/s3-server install)")
			}
			t.Skip("versitygw not installed")
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	g := &versitygw{t: t, bin: bin, data: t.TempDir(), port: fmt.Sprint(port), key: "faultkey", secret: "faultsecret0123456789"}
	if err := os.Mkdir(filepath.Join(g.data, "fault"), 0o755); err != nil {
		t.Fatal(err)
	}
	g.start()
	t.Cleanup(g.kill)
	return g
}

func (g *versitygw) start() {
	g.t.Helper()
	g.cmd = exec.Command(g.bin, "--port", "127.0.0.1:"+g.port, "--quiet", "posix", g.data)
	g.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+g.key, "ROOT_SECRET_ACCESS_KEY="+g.secret)
	if err := g.cmd.Start(); err != nil {
		g.t.Fatal(err)
	}
	for range 100 {
		if c, err := net.Dial("tcp", "127.0.0.1:"+g.port); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	g.t.Fatal("versitygw did not start")
}

func (g *versitygw) kill() {
	if g.cmd != nil && g.cmd.Process != nil {
		_ = g.cmd.Process.Kill()
		_ = g.cmd.Wait()
		g.cmd = nil
	}
}

func (g *versitygw) store(t *testing.T) sink.Store {
	t.Helper()
	s, err := s3store.New(context.Background(), s3store.Config{Endpoint: "http://127.0.0.1:" + g.port, Bucket: "fault",
		PathStyle: true, AccessKey: g.key, SecretKey: g.secret, Timeout: 5 * time.Second, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// killingStore kills the server just before the first revision is
// written.
type killingStore struct {
	sink.Store
	kill   func()
	killed atomic.Bool
}

func (k *killingStore) Put(ctx context.Context, key string, data []byte, cond sink.Cond) (string, error) {
	if strings.HasPrefix(key, "revisions/") && k.killed.CompareAndSwap(false, true) {
		k.kill()
	}
	return k.Store.Put(ctx, key, data, cond)
}

// TestS3ServerKilledDuringSync: a clear error, no partial revision, and
// the next run succeeds.
func TestS3ServerKilledDuringSync(t *testing.T) {
	g := startVersitygw(t)
	ctx := context.Background()
	root := t.TempDir()
	src := filepath.Join(root, "src")
	put(t, src, "a.ics", icsEvent("A", "Alpha"))
	repo, err := snapshot.Open(ctx, g.store(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Sync(ctx, Options{User: "alice", Source: src, Repo: repo, Now: tick}); err != nil {
		t.Fatal(err)
	}
	put(t, src, "b.ics", icsEvent("B", "Beta"))
	ks := &killingStore{Store: g.store(t), kill: g.kill}
	repo2, err := snapshot.Open(ctx, ks)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Sync(ctx, Options{User: "alice", Source: src, Repo: repo2, Now: tick, Mailbox: filepath.Join(root, "mb")})
	if err == nil {
		t.Fatal("sync succeeded with the server killed")
	}
	if !errors.Is(err, sink.ErrUnavailable) {
		t.Errorf("error does not say the store is unavailable: %v", err)
	}
	t.Logf("error: %v", err)
	if _, err := os.Stat(filepath.Join(root, "mb")); err == nil {
		t.Error("mailbox written after a failed commit")
	}
	g.start()
	repo3, err := snapshot.Open(ctx, g.store(t))
	if err != nil {
		t.Fatal(err)
	}
	m, err := repo3.Latest(ctx)
	if err != nil || m.Rev != 1 {
		t.Fatalf("after the failure: latest %v, %v (want revision 1, no partial revision)", m, err)
	}
	res, err := Sync(ctx, Options{User: "alice", Source: src, Repo: repo3, Now: tick})
	if err != nil || !res.Committed || res.Rev != 2 {
		t.Fatalf("next run: %+v, %v", res, err)
	}
	if problems, err := repo3.Check(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("check: %v %v", err, problems)
	}
}
