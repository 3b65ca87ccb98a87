package syncer

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/sink/localstore"
	"github.com/pstsync/pstsync/sink/s3store"
	"github.com/pstsync/pstsync/snapshot"
)

func inCI() bool { return os.Getenv("CI") == "true" }

// s3Config returns the test S3 server's settings (scripts/s3-server), or
// skips (fails under CI=true) when there is none.
func s3Config(t testing.TB) s3store.Config {
	t.Helper()
	endpoint, bucket := os.Getenv("PSTSYNC_S3_ENDPOINT"), os.Getenv("PSTSYNC_S3_BUCKET")
	if endpoint == "" || bucket == "" {
		if inCI() {
			t.Fatal("PSTSYNC_S3_ENDPOINT/PSTSYNC_S3_BUCKET unset: CI must run the real S3 server (scripts/s3-server)")
		}
		t.Skip("PSTSYNC_S3_ENDPOINT unset: no S3 test server (scripts/s3-server start; eval \"$(scripts/s3-server env)\")")
	}
	return s3store.Config{Endpoint: endpoint, Bucket: bucket, PathStyle: true, Timeout: 30 * time.Second}
}

var prefixSeq int

// s3Store opens the test bucket under a fresh prefix, emptied afterwards.
func s3Store(t testing.TB) sink.Store {
	t.Helper()
	cfg := s3Config(t)
	prefixSeq++
	cfg.Prefix = fmt.Sprintf("syncer-%d-%d-%d/", os.Getpid(), time.Now().UnixNano(), prefixSeq)
	s, err := s3store.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := s.List(ctx, "")
		for _, k := range keys {
			_ = s.Delete(ctx, k)
		}
	})
	return s
}

// stores are the backends the syncer tests run against.
var stores = []struct {
	name  string
	store func(testing.TB) sink.Store
}{{"local", localStore}, {"s3", s3Store}}

func localStore(t testing.TB) sink.Store {
	t.Helper()
	s, err := localstore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRealPSTsAliceAndBob(t *testing.T) {
	for _, tc := range stores {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			repo, err := snapshot.Open(ctx, tc.store(t))
			if err != nil {
				t.Fatal(err)
			}
			root := t.TempDir()
			users := map[string]string{
				"alice": testutil.Sample(t, "sedatools__ContactCalendar-test.pst"),
				"bob":   testutil.Sample(t, "java-libpst__dist-list.pst"),
			}
			sync := func(user string) *Result {
				t.Helper()
				res, err := Sync(ctx, Options{User: user, PST: users[user], Repo: repo, Mailbox: filepath.Join(root, user), Now: tick})
				if err != nil {
					t.Fatalf("sync %s: %v", user, err)
				}
				return res
			}
			a := sync("alice")
			b := sync("bob")
			if !a.Committed || !b.Committed {
				t.Fatalf("first syncs: alice %+v, bob %+v", a, b)
			}
			sync("alice")
			m, _ := repo.Latest(ctx)
			// alice: 4 appointments (Calendrier), 1 contact; bob: 1 appointment, 1 contact, 1 list
			if got := len(m.Collections[Calendar]); got != 5 {
				t.Errorf("shared calendar has %d items, want 5: %v", got, m.Collections[Calendar])
			}
			if got := len(m.Collections[Contacts]); got != 3 {
				t.Errorf("shared contacts has %d items, want 3: %v", got, m.Collections[Contacts])
			}
			rev := m.Rev
			for _, u := range []string{"alice", "bob", "alice", "bob"} {
				if res := sync(u); res.Committed || res.Decoded != 0 || len(res.Files) != 0 {
					t.Errorf("re-running %s: committed %v, decoded %d, files %v", u, res.Committed, res.Decoded, res.Files)
				}
			}
			if m2, _ := repo.Latest(ctx); m2.Rev != rev {
				t.Errorf("re-runs made revision %d", m2.Rev)
			}
			for u := range users {
				dir := filepath.Join(root, u)
				checkOnce(t, read(t, filepath.Join(dir, CalendarFile)), m.Collections[Calendar])
				checkOnce(t, read(t, filepath.Join(dir, ContactsFile)), m.Collections[Contacts])
				khardCount(t, filepath.Join(dir, ContactsDir), len(m.Collections[Contacts]))
				khalCount(t, filepath.Join(dir, CalendarFile), len(m.Collections[Calendar]))
			}
		})
	}
}

// checkOnce checks that every UID of items appears exactly once as a
// UID line of an item (overrides repeat their master's UID: count BEGIN
// blocks per UID loosely by masters).
func checkOnce(t *testing.T, text string, items map[string]snapshot.Entry) {
	t.Helper()
	for uid := range items {
		n := strings.Count(strings.ReplaceAll(text, "\r\n ", ""), "UID:"+uid+"\r\n")
		if n < 1 {
			t.Errorf("UID %s missing from the combined file", uid)
		}
	}
	if strings.Contains(text, "BEGIN:VCARD") {
		if n := strings.Count(text, "BEGIN:VCARD"); n != len(items) {
			t.Errorf("%d cards for %d contacts", n, len(items))
		}
	}
}

func khardCount(t *testing.T, dir string, want int) {
	khard := testutil.NeedTool(t, "khard")
	tmp := t.TempDir()
	cfg := filepath.Join(tmp, "khard.conf")
	conf := fmt.Sprintf("[addressbooks]\n[[shared]]\npath = %s\n[general]\ndebug = no\ndefault_action = list\neditor = true\nmerge_editor = true\n[contact table]\ndisplay = formatted_name\n", dir)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(khard, "-c", cfg, "list", "--parsable")
	cmd.Env = append(os.Environ(), "HOME="+tmp)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("khard: %v\n%s", err, out)
	}
	lines := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			lines++
		}
	}
	if lines != want {
		t.Errorf("khard lists %d contacts, want %d:\n%s", lines, want, out)
	}
}

func khalCount(t *testing.T, file string, want int) {
	khal := testutil.NeedTool(t, "khal")
	tmp := t.TempDir()
	cfg := filepath.Join(tmp, "config")
	conf := fmt.Sprintf("[calendars]\n[[c]]\npath = %s\ntype = calendar\n[default]\ndefault_calendar = c\n[sqlite]\npath = %s\n[locale]\ntimeformat = %%H:%%M\ndateformat = %%Y-%%m-%%d\nlongdateformat = %%Y-%%m-%%d\ndatetimeformat = %%Y-%%m-%%d %%H:%%M\nlongdatetimeformat = %%Y-%%m-%%d %%H:%%M\n", tmp, filepath.Join(tmp, "khal.db"))
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(khal, "-c", cfg, "printics", file)
	cmd.Env = append(os.Environ(), "TZ=UTC", "HOME="+tmp)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("khal printics: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(\d+) events? found`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("khal printics: %s", out)
	}
	if n, _ := strconv.Atoi(string(m[1])); n < want {
		t.Errorf("khal found %d events in %s, want at least %d:\n%s", n, file, want, out)
	}
}
