// Package storetest is the conformance suite every sink.Store backend
// passes. A backend's test is a few lines:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) sink.Store { return newEmptyStore(t) })
//	}
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pstsync/pstsync/sink"
)

// Run runs the conformance suite. newStore must return a store that is
// empty (at least under every key the suite uses) and independent of the
// stores it returned before; it is called once per subtest and may register
// cleanups with t.
func Run(t *testing.T, newStore func(t *testing.T) sink.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s sink.Store)
	}{
		{"String", testString},
		{"GetMissing", testGetMissing},
		{"RoundTrip", testRoundTrip},
		{"PutCopiesData", testPutCopiesData},
		{"Overwrite", testOverwrite},
		{"ETagChangesWithContent", testETagChanges},
		{"IfNoneMatch", testIfNoneMatch},
		{"IfNoneMatchAfterDelete", testIfNoneMatchAfterDelete},
		{"IfMatch", testIfMatch},
		{"IfMatchMissing", testIfMatchMissing},
		{"List", testList},
		{"Delete", testDelete},
		{"BinaryAndEmpty", testBinaryAndEmpty},
		{"Unicode", testUnicode},
		{"Big", testBig},
		{"InvalidKeys", testInvalidKeys},
		{"CanceledContext", testCanceled},
		{"ConcurrentCreate", testConcurrentCreate},
		{"ConcurrentIncrement", testConcurrentIncrement},
		{"PutNew", testPutNew},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

func ctxOf(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func mustPut(t testing.TB, s sink.Store, key string, data []byte, cond sink.Cond) string {
	t.Helper()
	etag, err := s.Put(ctxOf(t), key, data, cond)
	if err != nil {
		t.Fatalf("Put(%q, %d bytes, %+v): %v", key, len(data), cond, err)
	}
	if etag == "" {
		t.Fatalf("Put(%q): empty ETag", key)
	}
	return etag
}

// mustGet reads key and checks its content (and its ETag when wantETag is
// not empty).
func mustGet(t testing.TB, s sink.Store, key string, want []byte, wantETag string) string {
	t.Helper()
	got, etag, err := s.Get(ctxOf(t), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %s, want %s", key, abbrev(got), abbrev(want))
	}
	if etag == "" {
		t.Fatalf("Get(%q): empty ETag", key)
	}
	if wantETag != "" && etag != wantETag {
		t.Fatalf("Get(%q) ETag = %s, want %s (from Put)", key, etag, wantETag)
	}
	return etag
}

func mustMissing(t testing.TB, s sink.Store, key string) {
	t.Helper()
	data, _, err := s.Get(ctxOf(t), key)
	if !sink.IsNotExist(err) {
		t.Fatalf("Get(%q) = %s, %v; want an error satisfying IsNotExist", key, abbrev(data), err)
	}
}

func mustList(t testing.TB, s sink.Store, prefix string, want []string) {
	t.Helper()
	got, err := s.List(ctxOf(t), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Fatalf("List(%q) = %q, want %q", prefix, got, want)
	}
}

func abbrev(b []byte) string {
	if b == nil {
		return "nil"
	}
	if len(b) > 40 {
		return fmt.Sprintf("%q… (%d bytes)", b[:40], len(b))
	}
	return fmt.Sprintf("%q", b)
}

func testString(t *testing.T, s sink.Store) {
	if s.String() == "" {
		t.Fatal("String() is empty")
	}
}

func testGetMissing(t *testing.T, s sink.Store) {
	mustMissing(t, s, "missing")
	mustMissing(t, s, "no/such/dir/key.json")
	mustPut(t, s, "dir/present", []byte("x"), sink.Cond{})
	mustMissing(t, s, "dir/absent")
	mustMissing(t, s, "dir")
}

func testRoundTrip(t *testing.T, s sink.Store) {
	data := []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
	etag := mustPut(t, s, "objects/ab/abcdef", data, sink.Cond{})
	mustGet(t, s, "objects/ab/abcdef", data, etag)
	// Another key does not see it.
	mustMissing(t, s, "objects/ab/abcde")
}

func testPutCopiesData(t *testing.T, s sink.Store) {
	data := []byte("original")
	mustPut(t, s, "k", data, sink.Cond{})
	copy(data, "XXXXXXXX")
	got := mustGet(t, s, "k", []byte("original"), "")
	_ = got
	// Changing a returned slice changes nothing either.
	b, _, err := s.Get(ctxOf(t), "k")
	if err != nil {
		t.Fatal(err)
	}
	copy(b, "YYYYYYYY")
	mustGet(t, s, "k", []byte("original"), "")
}

func testOverwrite(t *testing.T, s sink.Store) {
	mustPut(t, s, "a/b", []byte("one"), sink.Cond{})
	e2 := mustPut(t, s, "a/b", []byte("two, longer"), sink.Cond{})
	mustGet(t, s, "a/b", []byte("two, longer"), e2)
	e3 := mustPut(t, s, "a/b", []byte("3"), sink.Cond{})
	mustGet(t, s, "a/b", []byte("3"), e3)
	mustList(t, s, "", []string{"a/b"})
}

func testETagChanges(t *testing.T, s sink.Store) {
	seen := map[string]string{}
	for i := range 5 {
		content := "content " + strconv.Itoa(i)
		etag := mustPut(t, s, "users/alice/state.json", []byte(content), sink.Cond{})
		if prev, ok := seen[etag]; ok {
			t.Fatalf("ETag %s given to %q and to %q", etag, prev, content)
		}
		seen[etag] = content
		mustGet(t, s, "users/alice/state.json", []byte(content), etag)
	}
}

func testIfNoneMatch(t *testing.T, s sink.Store) {
	const key = "revisions/000000000001.json"
	first := []byte(`{"rev":1,"by":"alice"}`)
	etag := mustPut(t, s, key, first, sink.Cond{IfNoneMatch: true})
	mustGet(t, s, key, first, etag)

	for _, second := range [][]byte{[]byte(`{"rev":1,"by":"bob"}`), first, {}} {
		_, err := s.Put(ctxOf(t), key, second, sink.Cond{IfNoneMatch: true})
		if !sink.IsPreconditionFailed(err) {
			t.Fatalf("second IfNoneMatch Put(%q, %s) = %v, want an error satisfying IsPreconditionFailed", key, abbrev(second), err)
		}
		mustGet(t, s, key, first, etag)
	}
	mustList(t, s, "revisions/", []string{key})
}

func testIfNoneMatchAfterDelete(t *testing.T, s sink.Store) {
	mustPut(t, s, "x/y", []byte("1"), sink.Cond{IfNoneMatch: true})
	if err := s.Delete(ctxOf(t), "x/y"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	e := mustPut(t, s, "x/y", []byte("2"), sink.Cond{IfNoneMatch: true})
	mustGet(t, s, "x/y", []byte("2"), e)
}

func testIfMatch(t *testing.T, s sink.Store) {
	const key = "users/bob/state.json"
	e1 := mustPut(t, s, key, []byte("v1"), sink.Cond{})
	e2 := mustPut(t, s, key, []byte("v2"), sink.Cond{IfMatch: e1})
	mustGet(t, s, key, []byte("v2"), e2)

	for _, bad := range []string{e1, `"0123456789abcdef0123456789abcdef"`, "not-an-etag", "*"} {
		if bad == e2 {
			continue
		}
		_, err := s.Put(ctxOf(t), key, []byte("v3"), sink.Cond{IfMatch: bad})
		if !sink.IsPreconditionFailed(err) {
			t.Fatalf("Put IfMatch %s (current %s) = %v, want an error satisfying IsPreconditionFailed", bad, e2, err)
		}
		mustGet(t, s, key, []byte("v2"), e2)
	}

	e3 := mustPut(t, s, key, []byte("v3"), sink.Cond{IfMatch: e2})
	mustGet(t, s, key, []byte("v3"), e3)
}

func testIfMatchMissing(t *testing.T, s sink.Store) {
	e := mustPut(t, s, "other", []byte("same"), sink.Cond{})
	for _, etag := range []string{e, `"0123456789abcdef0123456789abcdef"`} {
		_, err := s.Put(ctxOf(t), "users/carol/state.json", []byte("same"), sink.Cond{IfMatch: etag})
		if !sink.IsPreconditionFailed(err) {
			t.Fatalf("Put IfMatch %s on a missing key = %v, want an error satisfying IsPreconditionFailed", etag, err)
		}
		mustMissing(t, s, "users/carol/state.json")
	}
}

func testList(t *testing.T, s sink.Store) {
	keys := []string{"a/2/y", "a/1", "b/1", "a/10", "a/2/x", "ab", "a.b", "a-b/c", "objects/0f/0f00", "objects/ff/ffee"}
	for _, k := range keys {
		mustPut(t, s, k, []byte(k), sink.Cond{})
	}
	sorted := slices.Sorted(slices.Values(keys))
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"", sorted},
		{"a/", []string{"a/1", "a/10", "a/2/x", "a/2/y"}},
		{"a/2/", []string{"a/2/x", "a/2/y"}},
		{"a/1", []string{"a/1", "a/10"}},
		{"a", []string{"a-b/c", "a.b", "a/1", "a/10", "a/2/x", "a/2/y", "ab"}},
		{"objects/", []string{"objects/0f/0f00", "objects/ff/ffee"}},
		{"objects/f", []string{"objects/ff/ffee"}},
		{"objects/ff/ffee", []string{"objects/ff/ffee"}},
		{"nothing/", nil},
		{"a/2/z", nil},
		{"objects/ff/ffee/", nil},
	} {
		mustList(t, s, tc.prefix, tc.want)
	}
}

func testDelete(t *testing.T, s sink.Store) {
	mustPut(t, s, "d/1", []byte("1"), sink.Cond{})
	mustPut(t, s, "d/2", []byte("2"), sink.Cond{})
	ctx := ctxOf(t)
	if err := s.Delete(ctx, "d/1"); err != nil {
		t.Fatalf("Delete existing: %v", err)
	}
	mustMissing(t, s, "d/1")
	mustGet(t, s, "d/2", []byte("2"), "")
	mustList(t, s, "d/", []string{"d/2"})
	for _, k := range []string{"d/1", "d/never", "no/such/dir"} {
		if err := s.Delete(ctx, k); err != nil {
			t.Fatalf("Delete missing %q: %v, want nil", k, err)
		}
	}
}

func testBinaryAndEmpty(t *testing.T, s sink.Store) {
	bin := make([]byte, 0, 512)
	for i := range 512 {
		bin = append(bin, byte(i), byte(255-i))
	}
	eb := mustPut(t, s, "bin", bin, sink.Cond{IfNoneMatch: true})
	mustGet(t, s, "bin", bin, eb)

	for _, empty := range [][]byte{{}, nil} {
		ee := mustPut(t, s, "empty", empty, sink.Cond{})
		got, etag, err := s.Get(ctxOf(t), "empty")
		if err != nil || len(got) != 0 || etag != ee {
			t.Fatalf("Get(empty) = %s, %s, %v; want no bytes, %s, nil", abbrev(got), etag, err, ee)
		}
		if ee == eb {
			t.Fatalf("empty and binary content share ETag %s", ee)
		}
		if err := s.Delete(ctxOf(t), "empty"); err != nil {
			t.Fatal(err)
		}
	}
	ee := mustPut(t, s, "empty", nil, sink.Cond{IfNoneMatch: true})
	mustGet(t, s, "empty", []byte{}, ee)
	e2 := mustPut(t, s, "empty", []byte("now full"), sink.Cond{IfMatch: ee})
	mustGet(t, s, "empty", []byte("now full"), e2)
}

func testUnicode(t *testing.T, s sink.Store) {
	keys := []string{"users/zoë/state.json", "users/Łukasz Żółw/state.json", "users/日本/state.json", "users/a+b=c&d/state.json", "users/50% off/x"}
	for _, k := range keys {
		e := mustPut(t, s, k, []byte(k), sink.Cond{IfNoneMatch: true})
		mustGet(t, s, k, []byte(k), e)
	}
	mustList(t, s, "users/", slices.Sorted(slices.Values(keys)))
}

// bigSize is larger than the multipart threshold of common S3 clients
// (8 MiB for the AWS tools), to prove conditional puts of big objects are
// single requests that honour the condition.
const bigSize = 9 << 20

func testBig(t *testing.T, s sink.Store) {
	rng := rand.NewChaCha8([32]byte{1})
	big := make([]byte, bigSize)
	_, _ = rng.Read(big)
	e1 := mustPut(t, s, "big/one", big, sink.Cond{IfNoneMatch: true})
	mustGet(t, s, "big/one", big, e1)

	other := slices.Clone(big)
	other[bigSize/2] ^= 0xff
	if _, err := s.Put(ctxOf(t), "big/one", other, sink.Cond{IfNoneMatch: true}); !sink.IsPreconditionFailed(err) {
		t.Fatalf("second big IfNoneMatch Put = %v, want IsPreconditionFailed", err)
	}
	if _, err := s.Put(ctxOf(t), "big/one", other, sink.Cond{IfMatch: `"0123456789abcdef0123456789abcdef"`}); !sink.IsPreconditionFailed(err) {
		t.Fatalf("big IfMatch Put with a wrong ETag = %v, want IsPreconditionFailed", err)
	}
	mustGet(t, s, "big/one", big, e1)
	e2 := mustPut(t, s, "big/one", other, sink.Cond{IfMatch: e1})
	if e2 == e1 {
		t.Fatalf("ETag unchanged (%s) after a one-byte change", e1)
	}
	mustGet(t, s, "big/one", other, e2)
}

// InvalidKeys are keys every Store rejects with sink.ErrInvalidKey.
var InvalidKeys = []string{
	"", "/abs", "/", "a//b", "a/", "..", "../x", "a/../b", "a/./b", ".", ".hidden",
	"a/.lock", `a\b`, `C:\x`, "c:/x", "a/b\x00", "tab\there", "a/b ", "a/b.",
	"a*b", "a?b", `a"b`, "a<b", "a>b", "a|b", "\xff\xfe",
}

func testInvalidKeys(t *testing.T, s sink.Store) {
	ctx := ctxOf(t)
	for _, k := range InvalidKeys {
		if _, err := s.Put(ctx, k, []byte("x"), sink.Cond{}); !errors.Is(err, sink.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want an error wrapping ErrInvalidKey", k, err)
		}
		if _, err := s.Put(ctx, k, []byte("x"), sink.Cond{IfNoneMatch: true}); !errors.Is(err, sink.ErrInvalidKey) {
			t.Errorf("Put(%q, IfNoneMatch) = %v, want an error wrapping ErrInvalidKey", k, err)
		}
		if _, _, err := s.Get(ctx, k); !errors.Is(err, sink.ErrInvalidKey) {
			t.Errorf("Get(%q) = %v, want an error wrapping ErrInvalidKey", k, err)
		}
		if err := s.Delete(ctx, k); !errors.Is(err, sink.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want an error wrapping ErrInvalidKey", k, err)
		}
	}
	long := string(bytes.Repeat([]byte("k"), sink.MaxKeyLen+1))
	if _, err := s.Put(ctx, long, []byte("x"), sink.Cond{}); !errors.Is(err, sink.ErrInvalidKey) {
		t.Errorf("Put(%d-byte key) = %v, want ErrInvalidKey", len(long), err)
	}
	for _, p := range []string{"/", "../", "a//", `a\`, ".x/"} {
		if _, err := s.List(ctx, p); !errors.Is(err, sink.ErrInvalidKey) {
			t.Errorf("List(%q) = %v, want an error wrapping ErrInvalidKey", p, err)
		}
	}
	mustList(t, s, "", nil)
}

func testCanceled(t *testing.T, s sink.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, "canceled", []byte("x"), sink.Cond{IfNoneMatch: true}); err == nil {
		t.Fatal("Put with a canceled context succeeded")
	}
	if _, _, err := s.Get(ctx, "canceled"); err == nil || sink.IsNotExist(err) {
		t.Fatalf("Get with a canceled context = %v, want a context error (not IsNotExist)", err)
	}
	mustMissing(t, s, "canceled")
}

// Racers is how many goroutines the concurrency tests run at once.
const Racers = 10

func testConcurrentCreate(t *testing.T, s sink.Store) {
	const key = "revisions/000000000007.json"
	var (
		wg     sync.WaitGroup
		start  = make(chan struct{})
		errs   = make([]error, Racers)
		etags  = make([]string, Racers)
		bodies = make([][]byte, Racers)
	)
	ctx := ctxOf(t)
	for i := range Racers {
		bodies[i] = []byte(fmt.Sprintf(`{"rev":7,"writer":%d}`, i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			etags[i], errs[i] = s.Put(ctx, key, bodies[i], sink.Cond{IfNoneMatch: true})
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("writers %d and %d both created %s with IfNoneMatch", winner, i, key)
		case err == nil:
			winner = i
		case !sink.IsPreconditionFailed(err):
			t.Errorf("writer %d: %v, want success or IsPreconditionFailed", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no writer created %s", key)
	}
	mustGet(t, s, key, bodies[winner], etags[winner])
}

// Increments is how many increments each racer of ConcurrentIncrement
// makes.
const Increments = 5

func testConcurrentIncrement(t *testing.T, s sink.Store) {
	const key = "counter"
	mustPut(t, s, key, []byte("0"), sink.Cond{IfNoneMatch: true})
	ctx := ctxOf(t)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		retries int
		errs    = make([]error, Racers)
	)
	for i := range Racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range Increments {
				n, err := increment(ctx, s, key)
				mu.Lock()
				retries += n
				mu.Unlock()
				if err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	want := strconv.Itoa(Racers * Increments)
	mustGet(t, s, key, []byte(want), "")
	t.Logf("%d increments by %d goroutines, %d lost races retried", Racers*Increments, Racers, retries)
}

// increment adds one to the decimal counter under key with
// read-modify-IfMatch, retrying lost races; it returns how many it lost.
func increment(ctx context.Context, s sink.Store, key string) (int, error) {
	for lost := 0; lost < 10000; lost++ {
		data, etag, err := s.Get(ctx, key)
		if err != nil {
			return lost, err
		}
		n, err := strconv.Atoi(string(data))
		if err != nil {
			return lost, fmt.Errorf("counter holds %q: %w", data, err)
		}
		_, err = s.Put(ctx, key, []byte(strconv.Itoa(n+1)), sink.Cond{IfMatch: etag})
		if err == nil {
			return lost, nil
		}
		if !sink.IsPreconditionFailed(err) {
			return lost, err
		}
	}
	return 10000, errors.New("increment: lost 10000 races in a row")
}

// BenchPutGet measures one unconditional Put and one Get of a 4 KiB object
// (the size of a typical event or contact) per iteration, plus one
// IfNoneMatch create of a fresh key.
func BenchPutGet(b *testing.B, s sink.Store) {
	ctx := context.Background()
	data := bytes.Repeat([]byte("BEGIN:VEVENT\r\n"), 4096/14)
	b.SetBytes(int64(2 * len(data)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		key := "bench/" + strconv.Itoa(i%64)
		if _, err := s.Put(ctx, key, data, sink.Cond{}); err != nil {
			b.Fatal(err)
		}
		if _, _, err := s.Get(ctx, key); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Put(ctx, "bench-create/"+strconv.Itoa(i), data, sink.Cond{IfNoneMatch: true}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// testPutNew: the batch write of new keys (sink.BatchPutter where the
// store has it, else sink.PutNewParallel) stores every new key, leaves an
// existing one alone and is not troubled by duplicates.
func testPutNew(t *testing.T, s sink.Store) {
	ctx := ctxOf(t)
	if _, err := s.Put(ctx, "batch/old", []byte("old"), sink.Cond{}); err != nil {
		t.Fatal(err)
	}
	var items []sink.Item
	for i := range 40 {
		items = append(items, sink.Item{Key: fmt.Sprintf("batch/%02d/k%d", i%4, i), Data: fmt.Appendf(nil, "value %d", i)})
	}
	items = append(items, sink.Item{Key: "batch/old", Data: []byte("new")}, items[0])
	put := func() error { return sink.PutNewParallel(ctx, s, items, 8) }
	if b, ok := s.(sink.BatchPutter); ok {
		put = func() error { return b.PutNew(ctx, items) }
	}
	if err := put(); err != nil {
		t.Fatalf("PutNew: %v", err)
	}
	for _, it := range items {
		got, _, err := s.Get(ctx, it.Key)
		want := it.Data
		if it.Key == "batch/old" {
			want = []byte("old")
		}
		if err != nil || string(got) != string(want) {
			t.Errorf("Get(%s) = %q, %v; want %q", it.Key, got, err, want)
		}
	}
	if err := put(); err != nil { // all present: nothing to do
		t.Fatalf("PutNew again: %v", err)
	}
}
