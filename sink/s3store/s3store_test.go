package s3store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/sink/s3store"
	"github.com/pstsync/pstsync/sink/storetest"
)

// The real S3 server that scripts/s3-server starts (scripts/test does it
// before go test) is described by these variables, plus AWS_ACCESS_KEY_ID
// and AWS_SECRET_ACCESS_KEY.
const (
	envEndpoint = "PSTSYNC_S3_ENDPOINT"
	envBucket   = "PSTSYNC_S3_BUCKET"
)

func inCI() bool { return os.Getenv("CI") == "true" }

// serverConfig returns the Config of the test server, skipping the test
// when there is none (failing under CI=true).
func serverConfig(t testing.TB) s3store.Config {
	t.Helper()
	endpoint, bucket := os.Getenv(envEndpoint), os.Getenv(envBucket)
	if endpoint == "" || bucket == "" {
		if inCI() {
			t.Fatalf("%s/%s unset: CI must run the real S3 server (scripts/test starts it with scripts/s3-server)", envEndpoint, envBucket)
		}
		t.Skipf("%s unset: no S3 test server (run `eval \"$(scripts/s3-server env)\"` after `scripts/s3-server start`, or scripts/test)", envEndpoint)
	}
	return s3store.Config{Endpoint: endpoint, Bucket: bucket, PathStyle: true, Timeout: 30 * time.Second}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newStore opens the test server's bucket under a fresh prefix and removes
// what the test wrote afterwards.
func newStore(t testing.TB, cfg s3store.Config) *s3store.Store {
	t.Helper()
	cfg.Prefix = "test-" + randomHex(6) + "/"
	s, err := s3store.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		keys, err := s.List(ctx, "")
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		for _, k := range keys {
			if err := s.Delete(ctx, k); err != nil {
				t.Logf("cleanup: %v", err)
			}
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	cfg := serverConfig(t)
	storetest.Run(t, func(t *testing.T) sink.Store { return newStore(t, cfg) })
}

// TestPrefixIsolation: two stores on one bucket with different prefixes do
// not see each other's keys.
func TestPrefixIsolation(t *testing.T) {
	cfg := serverConfig(t)
	a, b := newStore(t, cfg), newStore(t, cfg)
	ctx := context.Background()
	if _, err := a.Put(ctx, "k", []byte("a"), sink.Cond{IfNoneMatch: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, "k", []byte("b"), sink.Cond{IfNoneMatch: true}); err != nil {
		t.Fatalf("IfNoneMatch in another prefix: %v", err)
	}
	keys, err := a.List(ctx, "")
	if err != nil || len(keys) != 1 || keys[0] != "k" {
		t.Fatalf("List = %q, %v; want [k]", keys, err)
	}
	if !strings.HasPrefix(a.String(), "s3://"+cfg.Bucket+"/test-") {
		t.Errorf("String() = %q", a.String())
	}
}

func TestErrors(t *testing.T) {
	cfg := serverConfig(t)
	ctx := context.Background()
	secret := os.Getenv("AWS_SECRET_ACCESS_KEY")

	t.Run("NoSuchBucket", func(t *testing.T) {
		c := cfg
		c.Bucket = "no-such-bucket-" + randomHex(4)
		_, err := s3store.New(ctx, c)
		if !errors.Is(err, sink.ErrStoreMissing) || !strings.Contains(err.Error(), c.Bucket) || !strings.Contains(err.Error(), "create it") {
			t.Fatalf("New(missing bucket) = %v, want ErrStoreMissing naming the bucket with a remedy", err)
		}
	})
	t.Run("WrongSecret", func(t *testing.T) {
		c := cfg
		c.AccessKey, c.SecretKey = os.Getenv("AWS_ACCESS_KEY_ID"), "wrong-"+randomHex(8)
		_, err := s3store.New(ctx, c)
		if !errors.Is(err, sink.ErrAccessDenied) || !strings.Contains(err.Error(), "AWS_SECRET_ACCESS_KEY") {
			t.Fatalf("New(wrong secret) = %v, want ErrAccessDenied with a remedy", err)
		}
		if strings.Contains(err.Error(), c.SecretKey) {
			t.Fatalf("the error shows the secret: %v", err)
		}
	})
	t.Run("UnknownKey", func(t *testing.T) {
		c := cfg
		c.AccessKey, c.SecretKey = "nobody"+randomHex(4), "x"+randomHex(8)
		if _, err := s3store.New(ctx, c); !errors.Is(err, sink.ErrAccessDenied) {
			t.Fatalf("New(unknown key) = %v, want ErrAccessDenied", err)
		}
	})
	t.Run("ConnectionRefused", func(t *testing.T) {
		c := cfg
		c.Endpoint = "http://" + closedPort(t)
		c.MaxRetries = -1
		start := time.Now()
		_, err := s3store.New(ctx, c)
		if !errors.Is(err, sink.ErrUnavailable) || !strings.Contains(err.Error(), "is the server up") {
			t.Fatalf("New(nothing listening) = %v, want ErrUnavailable with a remedy", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("refused connection took %s", d)
		}
	})
	t.Run("TLSToPlainServer", func(t *testing.T) {
		c := cfg
		c.Endpoint = strings.TrimPrefix(strings.TrimPrefix(cfg.Endpoint, "http://"), "https://")
		c.Insecure, c.MaxRetries = false, -1
		if _, err := s3store.New(ctx, c); !errors.Is(err, sink.ErrUnavailable) || !strings.Contains(err.Error(), "http://") {
			t.Fatalf("New(TLS to a plain HTTP server) = %v, want ErrUnavailable suggesting http://", err)
		}
	})
	t.Run("CallerCanceled", func(t *testing.T) {
		s := newStore(t, cfg)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := s.Put(cctx, "k", []byte("x"), sink.Cond{})
		if !errors.Is(err, context.Canceled) || errors.Is(err, sink.ErrUnavailable) {
			t.Fatalf("Put with a canceled context = %v, want context.Canceled and not ErrUnavailable", err)
		}
	})
	if secret == "" {
		t.Log("AWS_SECRET_ACCESS_KEY unset; credentials came from a file")
	}
}

// TestCredentialsFile: with no keys in Config nor the environment, the
// shared credentials file is used.
func TestCredentialsFile(t *testing.T) {
	cfg := serverConfig(t)
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		t.Skip("the test server's keys are not in the environment")
	}
	file := filepath.Join(t.TempDir(), "credentials")
	ini := fmt.Sprintf("[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n\n[pstsync]\naws_access_key_id = %s\naws_secret_access_key = %s\n", id, secret)
	if err := os.WriteFile(file, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	cfg.CredentialsFile, cfg.Profile = file, "pstsync"
	if _, err := s3store.New(context.Background(), cfg); err != nil {
		t.Fatalf("with the credentials file: %v", err)
	}
	cfg.Profile = "default"
	if _, err := s3store.New(context.Background(), cfg); !errors.Is(err, sink.ErrAccessDenied) {
		t.Fatalf("with the wrong profile: %v, want ErrAccessDenied", err)
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want s3store.Config
		err  string
	}{
		{in: "s3://bucket", want: s3store.Config{Bucket: "bucket"}},
		{in: "s3://bucket/", want: s3store.Config{Bucket: "bucket"}},
		{in: "s3://bucket/office/pst", want: s3store.Config{Bucket: "bucket", Prefix: "office/pst/"}},
		{in: "s3://b/p?endpoint=127.0.0.1:9000&region=eu-west-1&path-style=true&tls=false",
			want: s3store.Config{Bucket: "b", Prefix: "p/", Endpoint: "127.0.0.1:9000", Region: "eu-west-1", PathStyle: true, Insecure: true}},
		{in: "s3://key:secret@bucket/p", err: "credentials"},
		{in: "https://bucket/p", err: "s3://"},
		{in: "s3:///p", err: "no bucket"},
		{in: "s3://b/p?tls=maybe", err: "true or false"},
		{in: "s3://b/p?secret=x", err: "unknown parameter"},
		{in: "s3://b/../p", err: "invalid"},
	} {
		got, err := s3store.ParseURL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseURL(%q) = %+v, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "secret@") {
				t.Errorf("ParseURL(%q) error shows the secret: %v", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestNewRejects(t *testing.T) {
	ctx := context.Background()
	for _, cfg := range []s3store.Config{
		{},
		{Bucket: "b", Endpoint: "ftp://host"},
		{Bucket: "b", Endpoint: "http://host/path"},
		{Bucket: "b", Endpoint: "http://u:p@host"},
		{Bucket: "b", Endpoint: "host", Prefix: "../x"},
	} {
		if _, err := s3store.New(ctx, cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// gateway is a versitygw process of the fault test.
type gateway struct {
	bin, addr, dir, key, secret string
	cmd                         *exec.Cmd
}

func findVersitygw(t testing.TB) string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if inCI() {
		t.Fatal("versitygw not installed: CI must run the S3 fault test (scripts/s3-server start installs it)")
	}
	t.Skip("versitygw not installed (scripts/s3-server start installs it)")
	return ""
}

func (g *gateway) start(t testing.TB) {
	t.Helper()
	g.cmd = exec.Command(g.bin, "--port", g.addr, "--quiet", "posix", g.dir)
	g.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+g.key, "ROOT_SECRET_ACCESS_KEY="+g.secret)
	var out bytes.Buffer
	g.cmd.Stdout, g.cmd.Stderr = &out, &out
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", g.addr, 100*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			g.kill()
			t.Fatalf("versitygw did not listen on %s: %s", g.addr, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (g *gateway) kill() {
	if g.cmd != nil && g.cmd.Process != nil {
		_ = g.cmd.Process.Kill()
		_ = g.cmd.Wait()
		g.cmd = nil
	}
}

// TestFaultServerKilled kills the S3 server while writers are busy: the
// interrupted Put fails with a clear error within the store's timeout
// (no hang), no partial object is ever visible, and once the server is
// back the same Store works again.
func TestFaultServerKilled(t *testing.T) {
	g := &gateway{bin: findVersitygw(t), addr: closedPort(t), dir: t.TempDir(), key: "fault" + randomHex(4), secret: randomHex(16)}
	g.start(t)
	t.Cleanup(g.kill)
	ctx := context.Background()
	admin, err := minio.New(g.addr, &minio.Options{Creds: credentials.NewStaticV4(g.key, g.secret, "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.MakeBucket(ctx, "fault", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := s3store.New(ctx, s3store.Config{
		Endpoint: "http://" + g.addr, Bucket: "fault", PathStyle: true,
		AccessKey: g.key, SecretKey: g.secret, Timeout: 3 * time.Second, MaxRetries: 2,
	})
	if err != nil {
		t.Fatal(err)
	}

	// Writers put 2 MiB objects under fresh keys until the first error.
	const writers = 3
	type result struct {
		done    map[string][]byte // acknowledged writes
		failKey string
		err     error
		took    time.Duration
	}
	results := make([]result, writers)
	var wg sync.WaitGroup
	started := make(chan struct{}, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[w]
			r.done = map[string][]byte{}
			for i := 0; ; i++ {
				key := fmt.Sprintf("revisions/w%d-%06d", w, i)
				data := bytes.Repeat([]byte(key+"\n"), (2<<20)/len(key+"\n"))
				t0 := time.Now()
				_, err := s.Put(ctx, key, data, sink.Cond{IfNoneMatch: true})
				if err != nil {
					r.failKey, r.err, r.took = key, err, time.Since(t0)
					return
				}
				r.done[key] = data
				if i == 1 {
					started <- struct{}{}
				}
			}
		}()
	}
	for range writers {
		<-started
	}
	time.Sleep(50 * time.Millisecond)
	g.kill()
	wg.Wait()

	acked := 0
	for w, r := range results {
		acked += len(r.done)
		if !errors.Is(r.err, sink.ErrUnavailable) {
			t.Errorf("writer %d: Put after the kill = %v, want an error wrapping ErrUnavailable", w, r.err)
		}
		if r.took > 10*time.Second {
			t.Errorf("writer %d: the failing Put took %s (timeout 3s)", w, r.took)
		}
		t.Logf("writer %d: %d puts acknowledged; then after %s: %v", w, len(r.done), r.took.Round(time.Millisecond), r.err)
	}
	// While the server is down, reads fail clearly too (not as "missing").
	if _, _, err := s.Get(ctx, "revisions/w0-000000"); sink.IsNotExist(err) || !errors.Is(err, sink.ErrUnavailable) {
		t.Errorf("Get while the server is down = %v, want ErrUnavailable (not IsNotExist)", err)
	}

	g.start(t)
	for w, r := range results {
		for key, want := range r.done {
			got, _, err := s.Get(ctx, key)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("acknowledged %s after restart: %d bytes, %v", key, len(got), err)
			}
		}
		// The interrupted object is absent or complete, never partial.
		got, _, err := s.Get(ctx, r.failKey)
		switch {
		case sink.IsNotExist(err):
		case err != nil:
			t.Errorf("writer %d: Get(%s) after restart: %v", w, r.failKey, err)
		case !bytes.Equal(got, bytes.Repeat([]byte(r.failKey+"\n"), (2<<20)/len(r.failKey+"\n"))):
			t.Errorf("writer %d: interrupted %s is visible with %d wrong bytes", w, r.failKey, len(got))
		}
	}
	keys, err := s.List(ctx, "revisions/")
	if err != nil {
		t.Fatalf("List after restart: %v", err)
	}
	if len(keys) < acked || len(keys) > acked+writers {
		t.Errorf("%d keys after restart, want %d acknowledged (+ up to %d interrupted)", len(keys), acked, writers)
	}
	if _, err := s.Put(ctx, "revisions/after", []byte("ok"), sink.Cond{IfNoneMatch: true}); err != nil {
		t.Fatalf("Put after restart: %v", err)
	}
}

func BenchmarkS3PutGet(b *testing.B) {
	storetest.BenchPutGet(b, newStore(b, serverConfig(b)))
}
