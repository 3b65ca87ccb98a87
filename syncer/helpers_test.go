package syncer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/sink/memstore"
	"github.com/pstsync/pstsync/snapshot"
)

var clock atomic.Int64

func init() { clock.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix()) }

// tick is a deterministic clock: every call one second later.
func tick() time.Time { return time.Unix(clock.Add(1), 0).UTC() }

// icsEvent is a minimal event; props are extra content lines.
func icsEvent(uid, summary string, props ...string) string {
	var sb strings.Builder
	sb.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//test//EN\r\nBEGIN:VEVENT\r\n")
	sb.WriteString("UID:" + uid + "\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250301T100000Z\r\nDTEND:20250301T110000Z\r\n")
	sb.WriteString("SUMMARY:" + summary + "\r\n")
	for _, p := range props {
		sb.WriteString(p + "\r\n")
	}
	sb.WriteString("END:VEVENT\r\nEND:VCALENDAR\r\n")
	return sb.String()
}

// vcfCard is a minimal vCard 4.0; props are extra content lines.
func vcfCard(uid, fn string, props ...string) string {
	var sb strings.Builder
	sb.WriteString("BEGIN:VCARD\r\nVERSION:4.0\r\n")
	if uid != "" {
		sb.WriteString("UID:" + uid + "\r\n")
	}
	sb.WriteString("FN:" + fn + "\r\n")
	for _, p := range props {
		sb.WriteString(p + "\r\n")
	}
	sb.WriteString("END:VCARD\r\n")
	return sb.String()
}

// fataler is what put needs of a test (testing.TB or *rapid.T).
type fataler interface {
	Helper()
	Fatal(args ...any)
}

// put writes a source file with a fresh modification time.
func put(t fataler, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	now := tick()
	if err := os.Chtimes(p, now, now); err != nil {
		t.Fatal(err)
	}
}

func remove(t testing.TB, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func read(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// env is a shared snapshot with users syncing from source folders.
type env struct {
	t     testing.TB
	root  string
	store *memstore.Store
	repo  *snapshot.Repo
	seed  uint64
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, root: t.TempDir(), store: memstore.New()}
	var err error
	e.repo, err = snapshot.Open(context.Background(), e.store)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) src(user string) string     { return filepath.Join(e.root, user, "source") }
func (e *env) mailbox(user string) string { return filepath.Join(e.root, user, "mailbox") }

func (e *env) opts(user string) Options {
	e.seed++
	if err := os.MkdirAll(e.src(user), 0o755); err != nil {
		e.t.Fatal(err)
	}
	return Options{User: user, Host: "test", Source: e.src(user), Repo: e.repo, Mailbox: e.mailbox(user),
		Machine: "pc-" + user, Now: tick, Rand: rand.New(rand.NewPCG(e.seed, 1))}
}

func (e *env) sync(user string) *Result {
	e.t.Helper()
	res, err := Sync(context.Background(), e.opts(user))
	if err != nil {
		e.t.Fatalf("sync %s: %v", user, err)
	}
	return res
}

func (e *env) latest() *snapshot.Manifest {
	e.t.Helper()
	m, err := e.repo.Latest(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// object returns the bytes of item uid in coll of the latest revision.
func (e *env) object(coll, uid string) string {
	e.t.Helper()
	m := e.latest()
	en, ok := m.Collections[coll][uid]
	if !ok {
		e.t.Fatalf("%s/%s not in revision %d", coll, uid, m.Rev)
	}
	b, err := e.repo.GetObject(context.Background(), en.Hash)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

// importItem copies a mailbox vdir file into the user's source folder (the
// user "imports" it).
func (e *env) importItem(user, coll, uid string) {
	e.t.Helper()
	ext := ".ics"
	if coll == Contacts {
		ext = ".vcf"
	}
	rel := filepath.Join(coll, FileName(uid)+ext)
	put(e.t, e.src(user), fmt.Sprintf("imported-%s%s", FileName(uid), ext), read(e.t, filepath.Join(e.mailbox(user), rel)))
}

func sinkCondNone() sink.Cond { return sink.Cond{} }
