package syncer

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pstsync/pstsync/sink/s3store"
	"github.com/pstsync/pstsync/snapshot"
)

// countingProxy forwards to the real S3 server, counting requests (by
// method) and the most in flight at once; delay is added to each.
type countingProxy struct {
	srv      *httptest.Server
	mu       sync.Mutex
	byMethod map[string]int
	inFlight atomic.Int64
	maxIn    atomic.Int64
	delay    time.Duration
}

func newCountingProxy(t *testing.T, endpoint string) *countingProxy {
	t.Helper()
	if !strings.Contains(endpoint, "://") {
		endpoint = "http://" + endpoint
	}
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{byMethod: map[string]int{}}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host // the client signed the proxy's host
	}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := p.inFlight.Add(1)
		for {
			m := p.maxIn.Load()
			if n <= m || p.maxIn.CompareAndSwap(m, n) {
				break
			}
		}
		p.mu.Lock()
		p.byMethod[r.Method]++
		d := p.delay
		p.mu.Unlock()
		time.Sleep(d)
		rp.ServeHTTP(w, r)
		p.inFlight.Add(-1)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *countingProxy) reset() {
	p.mu.Lock()
	p.byMethod = map[string]int{}
	p.mu.Unlock()
	p.maxIn.Store(0)
}

func (p *countingProxy) total() (int, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.byMethod {
		n += c
	}
	return n, fmt.Sprint(p.byMethod)
}

// TestS3Requests: on the real S3 server, a first sync of N items costs at
// most N + a constant requests, a no-change sync at most 6 whatever the
// history, and objects are uploaded in parallel. Requests are counted by a
// proxy in front of the server. Without and with a mailbox: the mailbox is
// written from the run's memory, so it costs no request either.
func TestS3Requests(t *testing.T) {
	for _, withMailbox := range []bool{false, true} {
		name := "no-mailbox"
		if withMailbox {
			name = "mailbox"
		}
		t.Run(name, func(t *testing.T) { testS3Requests(t, withMailbox) })
	}
}

func testS3Requests(t *testing.T, withMailbox bool) {
	cfg := s3Config(t)
	proxy := newCountingProxy(t, cfg.Endpoint)
	cfg.Endpoint = proxy.srv.URL
	cfg.Prefix = fmt.Sprintf("requests-%d-%d/", os.Getpid(), time.Now().UnixNano())
	ctx := context.Background()
	st, err := s3store.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		keys, _ := st.List(ctx, "")
		for _, k := range keys {
			_ = st.Delete(ctx, k)
		}
	})
	src := t.TempDir()
	mailbox := ""
	if withMailbox {
		mailbox = filepath.Join(t.TempDir(), "mb")
	}
	const n = 300
	for i := range n {
		put(t, src, fmt.Sprintf("e%03d.ics", i), icsEvent(fmt.Sprintf("E%03d", i), fmt.Sprintf("Event %d", i)))
	}
	syncOnce := func() *Result {
		t.Helper()
		repo, err := snapshot.Open(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Sync(ctx, Options{User: "anna", Host: "pc", Source: src, Repo: repo, Mailbox: mailbox, Now: tick})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	proxy.reset()
	proxy.delay = 5 * time.Millisecond
	res := syncOnce()
	if !res.Committed || res.Added != n {
		t.Fatalf("first sync: %+v", res)
	}
	if withMailbox {
		if ics, _ := filepath.Glob(filepath.Join(mailbox, CalendarDir, "*.ics")); len(ics) != n {
			t.Fatalf("first sync wrote %d of the %d items into the mailbox", len(ics), n)
		}
	}
	total, detail := proxy.total()
	t.Logf("first sync of %d items: %d requests %s, at most %d at once", n, total, detail, proxy.maxIn.Load())
	if total > n+20 {
		t.Errorf("first sync of %d items made %d requests %s, want at most N+20", n, total, detail)
	}
	if m := proxy.maxIn.Load(); m < 4 {
		t.Errorf("uploads not in parallel: at most %d requests at once", m)
	}
	proxy.delay = 0

	// History: 40 more revisions by other users.
	for i := range 40 {
		put(t, src, fmt.Sprintf("e%03d.ics", i), icsEvent(fmt.Sprintf("E%03d", i), fmt.Sprintf("Event %d, take %d", i, i)))
		syncOnce()
	}
	for _, hist := range []string{"after 41 revisions"} {
		proxy.reset()
		if res := syncOnce(); res.Committed {
			t.Fatalf("no-change sync committed: %+v", res)
		}
		total, detail := proxy.total()
		t.Logf("no-change sync %s: %d requests %s", hist, total, detail)
		if total > 6 {
			t.Errorf("no-change sync %s made %d requests %s, want at most 6", hist, total, detail)
		}
	}
}
