package syncer

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/pstsync/pstsync/sink/memstore"
	"github.com/pstsync/pstsync/snapshot"
)

// The model-based test runs random histories of three users on source
// folders: create, edit (two fields per item), delete, import from the
// mailbox, sync, lose state. After every step: no synced edit is lost (each
// value is in the snapshot, in its item or a conflict copy, unless the user
// who replaced or deleted it had it), no item is duplicated (every shared
// UID is a created UID or a conflict copy of one; every mailbox lists each
// UID once), and a sync after lost state deletes nothing. At the end of a
// history a quiet round makes every user's mailbox equal, and another round
// commits nothing.
//
// Histories: PSTSYNC_RAPID_CHECKS (default 1000; 100 with -short), or
// -rapid.checks when given.
func TestModel(t *testing.T) {
	checks := 1000
	if testing.Short() {
		checks = 100
	}
	if v := os.Getenv("PSTSYNC_RAPID_CHECKS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("PSTSYNC_RAPID_CHECKS=%q: %v", v, err)
		}
		checks = n
	}
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "rapid.checks" })
	if f := flag.Lookup("rapid.checks"); f != nil && !explicit {
		old := f.Value.String()
		_ = f.Value.Set(strconv.Itoa(checks))
		defer func() { _ = f.Value.Set(old) }()
	}
	rapid.Check(t, modelHistory)
}

// modelHistory is one random history of the model, checked as it goes.
func modelHistory(rt *rapid.T) {
	m := newModel(rt)
	defer os.RemoveAll(m.root)
	rt.Repeat(map[string]func(*rapid.T){
		"create":    m.create,
		"edit":      m.edit,
		"delete":    m.delete,
		"import":    m.importItem,
		"sync":      m.sync,
		"loseState": m.loseState,
		"":          m.check,
	})
	m.quietRound(rt)
}

// TestModelRegressions replays every history the model once failed on
// (testdata/rapid/TestModel/*.fail, written by rapid), e.g. a conflict copy
// whose derived UID named an earlier, since edited copy and overwrote it.
func TestModelRegressions(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "rapid", "TestModel", "*.fail"))
	if len(files) == 0 {
		t.Fatal("no saved failing histories")
	}
	failfile, checks := flag.Lookup("rapid.failfile"), flag.Lookup("rapid.checks")
	oldFile, oldChecks := failfile.Value.String(), checks.Value.String()
	defer func() {
		_ = failfile.Value.Set(oldFile)
		_ = checks.Value.Set(oldChecks)
	}()
	_ = checks.Value.Set("1") // only the saved history
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_ = failfile.Value.Set(f)
			rapid.Check(t, modelHistory)
		})
	}
}

var users = []string{"ann", "bob", "cat"}

var tokenRE = regexp.MustCompile(`t\d+x`)

type file struct {
	coll   string
	uid    string
	f1, f2 string // SUMMARY/LOCATION or FN/NOTE
}

type model struct {
	root    string
	repo    *snapshot.Repo
	store   *memstore.Store
	files   map[string]map[string]*file // user → file name → item
	next    int
	created map[string]bool // UIDs created
	// tokens: value token → synced (must be in the snapshot) unless
	// superseded
	pending    map[string]map[string]bool // user → tokens made, not yet synced
	live       map[string]bool            // synced and not superseded
	superseded map[string]bool
	seed       uint64
}

func newModel(t *rapid.T) *model {
	root, err := os.MkdirTemp("", "pstsync-model-")
	if err != nil {
		t.Fatal(err)
	}
	m := &model{root: root, store: memstore.New(), files: map[string]map[string]*file{}, created: map[string]bool{},
		pending: map[string]map[string]bool{}, live: map[string]bool{}, superseded: map[string]bool{}}
	m.repo, err = snapshot.Open(context.Background(), m.store)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		m.files[u] = map[string]*file{}
		m.pending[u] = map[string]bool{}
		if err := os.MkdirAll(filepath.Join(root, u, "src"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func (m *model) token() string { m.next++; return fmt.Sprintf("t%dx", m.next) }

func (m *model) write(t *rapid.T, u, name string, f *file) {
	var s string
	if f.coll == Calendar {
		s = icsEvent(f.uid, f.f1, "LOCATION:"+f.f2)
	} else {
		s = vcfCard(f.uid, f.f1, "NOTE:"+f.f2)
	}
	put(t, filepath.Join(m.root, u, "src"), name, s)
	m.files[u][name] = f
}

func (m *model) create(t *rapid.T) {
	u := rapid.SampledFrom(users).Draw(t, "user")
	coll := rapid.SampledFrom([]string{Calendar, Contacts}).Draw(t, "coll")
	m.next++
	f := &file{coll: coll, uid: fmt.Sprintf("U%d", m.next), f1: m.token(), f2: m.token()}
	ext := ".ics"
	if coll == Contacts {
		ext = ".vcf"
	}
	m.created[f.uid] = true
	m.pending[u][f.f1], m.pending[u][f.f2] = true, true
	m.write(t, u, f.uid+ext, f)
}

func (m *model) pick(t *rapid.T, u string) (string, *file) {
	names := slices.Sorted(mapKeys(m.files[u]))
	if len(names) == 0 {
		t.Skip("no file")
	}
	n := rapid.SampledFrom(names).Draw(t, "file")
	return n, m.files[u][n]
}

func (m *model) supersede(v string) {
	for _, tok := range tokenRE.FindAllString(v, -1) {
		m.superseded[tok] = true
		delete(m.live, tok)
	}
}

func (m *model) edit(t *rapid.T) {
	u := rapid.SampledFrom(users).Draw(t, "user")
	name, f := m.pick(t, u)
	g := *f
	tok := m.token()
	if rapid.Bool().Draw(t, "field1") {
		m.supersede(g.f1)
		g.f1 = tok
	} else {
		m.supersede(g.f2)
		g.f2 = tok
	}
	m.pending[u][tok] = true
	t.Logf("edit %s %s: %+v", u, name, g)
	m.write(t, u, name, &g)
}

func (m *model) delete(t *rapid.T) {
	u := rapid.SampledFrom(users).Draw(t, "user")
	name, f := m.pick(t, u)
	n := 0
	for _, g := range m.files[u] {
		if g.coll == f.coll {
			n++
		}
	}
	if n < 2 {
		t.Skip("would empty the collection (refused: tested elsewhere)")
	}
	m.supersede(f.f1 + " " + f.f2)
	if err := os.Remove(filepath.Join(m.root, u, "src", name)); err != nil {
		t.Fatal(err)
	}
	delete(m.files[u], name)
}

var propRE = regexp.MustCompile(`(?m)^(SUMMARY|LOCATION|FN|NOTE):(.*)\r?$`)

// importItem copies an item of the user's mailbox vdir that the user does
// not have into their source folder.
func (m *model) importItem(t *rapid.T) {
	u := rapid.SampledFrom(users).Draw(t, "user")
	var cands []string
	for _, d := range []string{CalendarDir, ContactsDir} {
		ents, _ := os.ReadDir(filepath.Join(m.root, u, "mb", d))
		for _, e := range ents {
			cands = append(cands, d+"/"+e.Name())
		}
	}
	if len(cands) == 0 {
		t.Skip("empty mailbox")
	}
	rel := rapid.SampledFrom(cands).Draw(t, "item")
	data, err := os.ReadFile(filepath.Join(m.root, u, "mb", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "\r\n ", "")
	uid := regexp.MustCompile(`(?m)^UID:(.*)\r$`).FindStringSubmatch(text)[1]
	for _, f := range m.files[u] {
		if f.uid == uid {
			t.Skip("already has it")
		}
	}
	f := &file{coll: Calendar, uid: uid}
	if strings.HasPrefix(rel, ContactsDir) {
		f.coll = Contacts
	}
	for _, p := range propRE.FindAllStringSubmatch(text, -1) {
		v := strings.ReplaceAll(p[2], `\`, "")
		switch p[1] {
		case "SUMMARY", "FN":
			f.f1 = v
		case "LOCATION", "NOTE":
			f.f2 = v
		}
	}
	put(t, filepath.Join(m.root, u, "src"), "imp-"+filepath.Base(rel), string(data))
	m.files[u]["imp-"+filepath.Base(rel)] = f
}

func (m *model) syncUser(t *rapid.T, u string) *Result {
	m.seed++
	res, err := Sync(context.Background(), Options{User: u, Source: filepath.Join(m.root, u, "src"), Repo: m.repo,
		Mailbox: filepath.Join(m.root, u, "mb"), Now: tick, Rand: rand.New(rand.NewPCG(m.seed, 3))})
	if err != nil {
		var es *EmptySideError
		if errors.As(err, &es) {
			t.Skip("empty side")
		}
		t.Fatalf("sync %s: %v", u, err)
	}
	t.Logf("sync %s: rev %d changes %v conflicts %d deleted %d", u, res.Rev, res.Changes, len(res.Conflicts), res.Deleted)
	for tok := range m.pending[u] {
		if !m.superseded[tok] {
			m.live[tok] = true
		}
	}
	m.pending[u] = map[string]bool{}
	return res
}

func (m *model) sync(t *rapid.T) {
	m.syncUser(t, rapid.SampledFrom(users).Draw(t, "user"))
}

func (m *model) loseState(t *rapid.T) {
	u := rapid.SampledFrom(users).Draw(t, "user")
	if err := m.store.Delete(context.Background(), snapshot.StateKey(u)); err != nil {
		t.Fatal(err)
	}
	// half the time the local copy in the mailbox folder is gone too
	if rapid.Bool().Draw(t, "alsoLocalCopy") {
		if err := os.Remove(filepath.Join(m.root, u, "mb", ".pstsync", "state-"+FileName(u)+".json")); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	before := m.items(t)
	res := m.syncUser(t, u)
	if res.Deleted != 0 {
		t.Fatalf("a sync after lost state deleted %d item(s)", res.Deleted)
	}
	after := m.items(t)
	for k := range before {
		if !after[k] {
			t.Fatalf("a sync after lost state removed %s", k)
		}
	}
}

func (m *model) items(t *rapid.T) map[string]bool {
	lt, err := m.repo.Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	if lt == nil {
		return out
	}
	for c, items := range lt.Collections {
		for uid := range items {
			out[c+"/"+uid] = true
		}
	}
	return out
}

func (m *model) check(t *rapid.T) {
	ctx := context.Background()
	lt, err := m.repo.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if lt == nil {
		return
	}
	var all strings.Builder
	for _, items := range lt.Collections {
		for uid, e := range items {
			base, _, _ := strings.Cut(uid, "-conflict-")
			if !m.created[base] {
				t.Fatalf("shared UID %q was never created (a duplicate identity)", uid)
			}
			b, err := m.repo.GetObject(ctx, e.Hash)
			if err != nil {
				t.Fatal(err)
			}
			all.Write(b)
		}
	}
	text := strings.ReplaceAll(all.String(), "\r\n ", "")
	for tok := range m.live {
		if !strings.Contains(text, tok) {
			t.Fatalf("edit %s lost: not in revision %d", tok, lt.Rev)
		}
	}
	for _, u := range users {
		data, err := os.ReadFile(filepath.Join(m.root, u, "mb", CalendarFile))
		if err != nil {
			continue
		}
		seen := map[string]bool{}
		for _, mt := range regexp.MustCompile(`(?m)^UID:(.*)\r$`).FindAllStringSubmatch(strings.ReplaceAll(string(data), "\r\n ", ""), -1) {
			if seen[mt[1]] {
				t.Fatalf("%s's calendar.ics lists %s twice", u, mt[1])
			}
			seen[mt[1]] = true
		}
	}
}

// quietRound: every user syncs with no edits in between, twice; the
// second round commits nothing and leaves every mailbox equal.
func (m *model) quietRound(t *rapid.T) {
	for _, u := range users {
		m.syncUser(t, u)
	}
	for _, u := range users {
		if res := m.syncUser(t, u); res.Committed {
			t.Fatalf("quiet round: %s committed %v", u, res.Changes)
		}
	}
	m.check(t)
	for _, name := range []string{CalendarFile, ContactsFile} {
		first := ""
		for i, u := range users {
			data, err := os.ReadFile(filepath.Join(m.root, u, "mb", name))
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = string(data)
			} else if string(data) != first {
				t.Fatalf("after a quiet round %s's %s differs from %s's", u, name, users[0])
			}
		}
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
