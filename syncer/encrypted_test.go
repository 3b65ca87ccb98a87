package syncer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/snapshot"
	"pgregory.net/rapid"

	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/sink/cryptstore"
)

// The syncer tests that run on every backend also run on encrypted stores.
func init() {
	stores = append(stores,
		struct {
			name  string
			store func(testing.TB) sink.Store
		}{"local-encrypted", func(t testing.TB) sink.Store { return encrypted(t, localStore(t)) }},
		struct {
			name  string
			store func(testing.TB) sink.Store
		}{"s3-encrypted", func(t testing.TB) sink.Store { return encrypted(t, s3Store(t)) }},
	)
}

func encrypted(t testing.TB, st sink.Store) sink.Store {
	t.Helper()
	cs, err := cryptstore.Init(context.Background(), st, "syncer test", cryptstore.KeyInfo{User: "test"}, cryptstore.KDF{N: 1 << 10, R: 8, P: 1})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestEncryptedStoresHoldNoPlainText syncs items carrying a marker into an
// encrypted local and S3 store: no stored file (name or bytes) holds the
// marker, its SHA-256 or a UID.
func TestEncryptedStoresHoldNoPlainText(t *testing.T) {
	for _, tc := range []struct {
		name  string
		inner func(testing.TB) sink.Store
	}{{"local", localStore}, {"s3", s3Store}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			inner := tc.inner(t)
			st := encrypted(t, inner)
			const marker = "ZEBRA-MARKER-5521"
			sum := sha256.Sum256([]byte(marker))
			secrets := []string{marker, hex.EncodeToString(sum[:])}
			root := t.TempDir()
			for _, user := range []string{"alice", "bob"} {
				src := filepath.Join(root, user)
				for i := range 4 {
					uid := fmt.Sprintf("%s-uid-%d-x81q", user, i)
					secrets = append(secrets, uid)
					put(t, src, fmt.Sprintf("e%d.ics", i), icsEvent(uid, fmt.Sprintf("%s %s %d", marker, user, i)))
				}
				repo, err := snapshot.Open(ctx, st)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := Sync(ctx, Options{User: user, Source: src, Repo: repo, Mailbox: filepath.Join(root, "mb-"+user), Now: tick}); err != nil {
					t.Fatal(err)
				}
			}
			keys, err := inner.List(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) < 10 {
				t.Fatalf("only %d files stored", len(keys))
			}
			for _, k := range keys {
				data, _, err := inner.Get(ctx, k)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range secrets {
					if strings.Contains(k, s) || bytes.Contains(data, []byte(s)) {
						t.Errorf("%s holds %q", k, s)
					}
				}
			}
		})
	}
}

// BenchmarkFirstSync: a user's first sync of PSTSYNC_BENCH_ITEMS (default
// 10,000) events into an empty store, clear and encrypted: the cost of
// encryption (the store is opened with a cheap KDF: the once-per-run
// scrypt cost is BenchmarkOpenDefaultKDF in sink/cryptstore). Besides
// wall time it reports cpu-ms/op, the process's user+system CPU time per
// sync (Unix), steadier than wall time on a shared machine.
func BenchmarkFirstSync(b *testing.B) {
	n := 10000
	if v := os.Getenv("PSTSYNC_BENCH_ITEMS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	src := filepath.Join(b.TempDir(), "src")
	for i := range n {
		put(b, src, fmt.Sprintf("e%d.ics", i), icsEvent(fmt.Sprintf("E%d", i), fmt.Sprintf("Event %d", i), "LOCATION:Room "+strconv.Itoa(i%17)))
	}
	for _, tc := range []struct {
		name  string
		store func(testing.TB) sink.Store
	}{{"local", localStore}, {"local-encrypted", func(t testing.TB) sink.Store { return encrypted(t, localStore(t)) }}} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				store := tc.store(b)
				mb := filepath.Join(b.TempDir(), "mb")
				runtime.GC()
				b.StartTimer()
				c0 := cpuTime()
				repo, err := snapshot.Open(ctx, store)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Sync(ctx, Options{User: "alice", Source: src, Repo: repo, Mailbox: mb, Now: tick}); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - c0
			}
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

// TestModelEncrypted is the model-based test (see TestModel) on an
// encrypted store. Losing a user's state is left out: the model deletes
// the clear state key, which an encrypted store does not have (TestModel
// covers it; it does not depend on the store).
func TestModelEncrypted(t *testing.T) {
	setRapidChecks(t, 100, 30, "PSTSYNC_RAPID_CHECKS")
	rapid.Check(t, func(rt *rapid.T) {
		m := newModel(rt)
		defer os.RemoveAll(m.root)
		ctx := context.Background()
		cs, err := cryptstore.Init(ctx, m.store, "model", cryptstore.KeyInfo{User: "test"}, cryptstore.KDF{N: 1 << 10, R: 8, P: 1})
		if err != nil {
			rt.Fatal(err)
		}
		if m.repo, err = snapshot.Open(ctx, cs); err != nil {
			rt.Fatal(err)
		}
		rt.Repeat(map[string]func(*rapid.T){
			"create": m.create,
			"edit":   m.edit,
			"delete": m.delete,
			"damage": m.damage,
			"sync":   m.sync,
			"":       func(*rapid.T) {},
		})
		m.quietRounds(rt)
		// nothing readable is left in the store
		keys, err := m.store.List(ctx, "")
		if err != nil {
			rt.Fatal(err)
		}
		for _, k := range keys {
			if !strings.HasPrefix(k, cryptstore.KeysPrefix) && !strings.HasPrefix(k, cryptstore.DataPrefix) {
				rt.Fatalf("clear-text key %s in an encrypted store", k)
			}
		}
		if p, err := cs.Verify(ctx); err != nil || len(p) > 0 {
			rt.Fatalf("verify: %v %v", p, err)
		}
	})
}
