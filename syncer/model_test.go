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
	"time"

	"pgregory.net/rapid"

	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/outlook/fake"
	"github.com/pstsync/pstsync/sink/memstore"
	"github.com/pstsync/pstsync/snapshot"
)

// The model-based test runs random histories of three users on source
// folders, the way an office uses the sync: users create items, edit them
// (one of two fields: the same or different fields as colleagues),
// delete them, damage files (cut short, garbled or emptied), lose their
// state, and sync in random order; after every sync the user imports the whole
// mailbox (each delivered item into the file holding its UID, else a new
// file: what a client's import does). Checked after every run:
//   - no value a user wrote and synced is lost without a recorded
//     conflict: each is in the latest revision or in a recorded conflict,
//     unless a user who had it replaced or deleted it;
//   - nothing is deleted unless a user deleted it;
//   - every conflict of the run is in the revision's record and in the
//     user's conflicts.json;
//   - no UID twice in a mailbox, and every shared UID is a created one (or
//     a conflict copy / duplicate of one);
//   - a sync after lost state deletes nothing;
//   - nothing written into a private appointment reaches the store or a
//     colleague's mailbox (they get the busy time).
//
// (Two items with one UID are covered by the scenarios duplicate-uid,
// bad-file-does-not-stop and imported-copy: with two files holding one UID
// a client's import by UID is ambiguous, which this model's import is not
// meant to decide.)
//
// At the end, quiet rounds (everyone syncs and imports, nobody edits):
// from the second round on no run commits, and every mailbox is the same.
//
// Histories: PSTSYNC_RAPID_CHECKS (default 150, about 20 s; 20 with -short), or
// -rapid.checks when given. A longer run: PSTSYNC_RAPID_CHECKS=2000.
func TestModel(t *testing.T) {
	checks := setRapidChecks(t, 150, 20, "PSTSYNC_RAPID_CHECKS")
	start := time.Now()
	rapid.Check(t, modelHistory)
	t.Logf("%d histories in %s", checks, time.Since(start).Round(time.Millisecond))
}

// setRapidChecks sets how many histories rapid.Check runs in this test:
// def (short with -short), or the number in the environment variable env,
// unless -rapid.checks was given. It returns the number and restores the
// flag when the test ends.
func setRapidChecks(t *testing.T, def, short int, env string) int {
	t.Helper()
	checks := def
	if testing.Short() {
		checks = short
	}
	if v := os.Getenv(env); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("%s=%q: %v", env, v, err)
		}
		checks = n
	}
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "rapid.checks" })
	if f := flag.Lookup("rapid.checks"); f != nil && !explicit {
		old := f.Value.String()
		_ = f.Value.Set(strconv.Itoa(checks))
		t.Cleanup(func() { _ = f.Value.Set(old) })
	}
	return checks
}

// modelHistory is one random history of the model, checked as it goes.
func modelHistory(rt *rapid.T) { runModel(rt, false) }

// runModel runs one history; withOutlook makes the last user's side a
// (fake) Outlook (model_outlook_test.go).
func runModel(rt *rapid.T, withOutlook bool) {
	m := newModel(rt)
	defer os.RemoveAll(m.root)
	if withOutlook {
		m.useOutlook(users[len(users)-1])
	}
	rt.Repeat(map[string]func(*rapid.T){
		"create":    m.create,
		"edit":      m.edit,
		"delete":    m.delete,
		"damage":    m.damage,
		"sync":      m.sync,
		"loseState": m.loseState,
		"move":      m.move,
		"":          func(*rapid.T) {},
	})
	m.quietRounds(rt)
}

// TestModelRegressions replays every history the model once failed on
// (testdata/rapid/TestModel/*.fail, written by rapid).
func TestModelRegressions(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "rapid", "TestModel", "*.fail"))
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

// file is one item file of a user's source folder, as the model knows it.
type file struct {
	coll    string
	uid     string
	f1, f2  string // SUMMARY/LOCATION or FN/NOTE
	damaged bool   // cut short or garbled on disk
	private bool   // CLASS:PRIVATE (an appointment)
}

type model struct {
	root    string
	repo    *snapshot.Repo
	store   *memstore.Store
	files   map[string]map[string]*file // user → file name → item
	next    int
	created map[string]bool // UIDs created
	// pending: tokens a user wrote that no sync of theirs read yet.
	pending map[string]map[string]bool
	// live: synced and not superseded; superseded: replaced or deleted
	// by a user who had them.
	live, superseded map[string]bool
	// conflicts: the text of every conflict recorded so far.
	conflicts strings.Builder
	// deletedUIDs: shared UIDs some user deleted an item of.
	deletedUIDs map[string]bool
	// secret: tokens written into private appointments (never to be in
	// the store or a colleague's mailbox); private: their UIDs.
	secret, private map[string]bool
	secretBy        map[string]string // secret token → the user who wrote it
	seed            uint64
	clock           time.Time
	// ol is the (fake) Outlook of user olUser ("" : everyone on source
	// folders): their items are in Outlook, keyed by EntryID in files.
	ol     *fake.Outlook
	olUser string
	olBad  map[string]bool // EntryIDs Outlook fails to give at the next sync
	olLost bool            // the Outlook user's state was lost
	// olSwitch: every third sync of the Outlook user reads the PST file
	// (Outlook closed) instead of Outlook.
	olSwitch bool
}

func newModel(t *rapid.T) *model {
	root, err := os.MkdirTemp("", "pstsync-model-")
	if err != nil {
		t.Fatal(err)
	}
	m := &model{root: root, store: memstore.New(), files: map[string]map[string]*file{}, created: map[string]bool{},
		pending: map[string]map[string]bool{}, live: map[string]bool{}, superseded: map[string]bool{},
		deletedUIDs: map[string]bool{}, secret: map[string]bool{}, private: map[string]bool{}, secretBy: map[string]string{}, clock: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	m.repo, err = snapshot.Open(context.Background(), m.store)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		m.files[u] = map[string]*file{}
		m.pending[u] = map[string]bool{}
		if err := os.MkdirAll(m.src(u), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func (m *model) src(u string) string { return filepath.Join(m.root, u, "src") }
func (m *model) mb(u string) string  { return filepath.Join(m.root, u, "mb") }

func (m *model) token() string { m.next++; return fmt.Sprintf("t%dx", m.next) }

func content(f *file) string {
	if f.coll == Calendar && f.private {
		return icsEvent(f.uid, f.f1, "LOCATION:"+f.f2, "CLASS:PRIVATE")
	}
	if f.coll == Calendar {
		return icsEvent(f.uid, f.f1, "LOCATION:"+f.f2)
	}
	return vcfCard(f.uid, f.f1, "NOTE:"+f.f2)
}

func (m *model) write(t *rapid.T, u, name string, f *file) {
	if u == m.olUser {
		m.olWrite(t, name, f)
		return
	}
	put(t, m.src(u), name, content(f))
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
	if coll == Calendar && rapid.IntRange(0, 4).Draw(t, "private") == 0 {
		f.private = true
		m.private[f.uid] = true
		m.secret[f.f1], m.secret[f.f2] = true, true
		m.secretBy[f.f1], m.secretBy[f.f2] = u, u
		m.create1(t, u, f.uid+".ics", f)
		return
	}
	m.pending[u][f.f1], m.pending[u][f.f2] = true, true
	m.create1(t, u, f.uid+ext, f)
}

func (m *model) pick(t *rapid.T, u string) (string, *file) {
	var names []string
	for n, f := range m.files[u] {
		if !f.damaged {
			names = append(names, n)
		}
	}
	slices.Sort(names)
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
	if g.private {
		m.secret[tok] = true // shared as busy time only
		m.secretBy[tok] = u
	} else {
		m.pending[u][tok] = true
	}
	t.Logf("edit %s %s: %+v", u, name, g)
	m.write(t, u, name, &g)
}

func (m *model) delete(t *rapid.T) {
	u := rapid.SampledFrom(users).Draw(t, "user")
	name, f := m.pick(t, u)
	n := 0
	for _, g := range m.files[u] {
		if g.coll == f.coll && !g.damaged {
			n++
		}
	}
	if n < 2 {
		t.Skip("would empty the collection (refused: tested elsewhere)")
	}
	m.supersede(f.f1 + " " + f.f2)
	m.deletedUIDs[f.uid] = true
	if u == m.olUser {
		m.olDelete(t, name, f)
	} else if err := os.Remove(filepath.Join(m.src(u), name)); err != nil {
		t.Fatal(err)
	}
	t.Logf("delete %s %s (%s)", u, name, f.uid)
	delete(m.files[u], name)
}

// damage cuts a file short, garbles or empties it; its item has no
// opinion until a later import writes the file again.
func (m *model) damage(t *rapid.T) {
	u := rapid.SampledFrom(users).Draw(t, "user")
	if u == m.olUser {
		m.olDamage(t)
		return
	}
	name, f := m.pick(t, u)
	data := content(f)
	switch rapid.IntRange(0, 2).Draw(t, "how") {
	case 0: // cut short
		data = data[:strings.LastIndex(data, "END:")]
	case 1: // garbled
		data = strings.Replace(data, "BEGIN:", "BEGIN-", 1)
	case 2: // emptied
		data = ""
	}
	put(t, m.src(u), name, data)
	f.damaged = true
	t.Logf("damage %s %s", u, name)
}

var propRE = regexp.MustCompile(`(?m)^(SUMMARY|LOCATION|FN|NOTE):(.*)\r?$`)

// importAll imports every item of the user's mailbox into their source
// folder: into the file holding the item's UID (also a damaged one: the
// import writes it anew), else a new file.
func (m *model) importAll(t *rapid.T, u string) {
	byUID := map[string]string{}
	for n, f := range m.files[u] {
		if old, ok := byUID[f.uid]; !ok || n < old {
			byUID[f.uid] = n
		}
	}
	for _, d := range []string{CalendarDir, ContactsDir} {
		ents, _ := os.ReadDir(filepath.Join(m.mb(u), d))
		for _, e := range ents {
			data, err := os.ReadFile(filepath.Join(m.mb(u), d, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			text := strings.ReplaceAll(string(data), "\r\n ", "")
			uid := uidRE.FindStringSubmatch(text)[1]
			f := &file{coll: Calendar, uid: uid, private: strings.Contains(text, "\nCLASS:PRIVATE")}
			if d == ContactsDir {
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
			name, ok := byUID[uid]
			if !ok {
				name = "imp-" + e.Name()
			}
			if old := m.files[u][name]; old != nil && !old.damaged && old.f1 == f.f1 && old.f2 == f.f2 {
				continue
			}
			if old := m.files[u][name]; old != nil {
				// The import replaces what the file held: the user
				// replaced those values (a value lost by the sync itself
				// was caught by the check that ran before the import; an
				// unsynced edit in a damaged file never counted as synced).
				for _, tok := range tokenRE.FindAllString(old.f1+" "+old.f2, -1) {
					delete(m.pending[u], tok)
					if !strings.Contains(f.f1+" "+f.f2, tok) {
						m.supersede(tok)
					}
				}
			}
			put(t, m.src(u), name, string(data))
			m.files[u][name] = f
		}
	}
}

func (m *model) syncUser(t *rapid.T, u string) *Result {
	m.seed++
	before := m.items(t)
	o := Options{User: u, Source: m.src(u), Repo: m.repo, Mailbox: m.mb(u),
		Machine: "pc-" + u, Now: func() time.Time { m.clock = m.clock.Add(time.Second); return m.clock },
		Rand: rand.New(rand.NewPCG(m.seed, 3))}
	if u == m.olUser {
		o.Source, o.Outlook = "", &unreadable{Bridge: m.ol, bad: m.olBad}
		if m.olClosed() {
			o.Outlook, o.PST, o.pstReader = nil, "closed.pst", &pstOfOutlook{o: o.Outlook}
		}
		defer func() { m.olBad = map[string]bool{} }()
	}
	res, err := Sync(context.Background(), o)
	if err != nil {
		var es *EmptySideError
		if errors.As(err, &es) {
			t.Skip("empty side")
		}
		t.Fatalf("sync %s: %v", u, err)
	}
	t.Logf("sync %s: rev %d changes %v conflicts %d deleted %d problems %d duplicates %v decoded %d outlook %+v", u, res.Rev, res.Changes, len(res.Conflicts), res.Deleted, len(res.Problems), res.Duplicates, res.Decoded, res.Outlook)
	for _, f := range m.files[u] {
		if f.damaged {
			continue
		}
		for _, tok := range tokenRE.FindAllString(f.f1+" "+f.f2, -1) {
			if m.pending[u][tok] && !m.superseded[tok] {
				m.live[tok] = true
			}
			delete(m.pending[u], tok)
		}
	}
	m.checkConflicts(t, u, res)
	m.checkDeletions(t, before)
	m.check(t)
	if u == m.olUser {
		m.olRefresh(t, u)
		return res
	}
	m.importAll(t, u)
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
	m.olLost = m.olLost || u == m.olUser
	if rapid.Bool().Draw(t, "alsoLocalCopy") {
		if err := os.Remove(filepath.Join(m.mb(u), ".pstsync", "state-"+FileName(u)+".json")); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	res := m.syncUser(t, u)
	if res.Deleted != 0 {
		t.Fatalf("a sync after lost state deleted %d item(s)", res.Deleted)
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

// checkDeletions: an item gone from the snapshot was deleted by a user.
func (m *model) checkDeletions(t *rapid.T, before map[string]bool) {
	after := m.items(t)
	for k := range before {
		if after[k] {
			continue
		}
		_, uid, _ := strings.Cut(k, "/")
		base, _, _ := strings.Cut(uid, "-dup-") // a copy's file holds the original UID
		if !m.deletedUIDs[uid] && !m.deletedUIDs[base] {
			t.Fatalf("%s was deleted although no user deleted it", k)
		}
	}
}

// checkConflicts: every conflict of the run is recorded with the revision
// and in the user's conflicts.json.
func (m *model) checkConflicts(t *rapid.T, u string, res *Result) {
	if len(res.Conflicts) == 0 {
		return
	}
	if !res.Committed {
		t.Fatalf("%d conflict(s) but no revision recorded them", len(res.Conflicts))
	}
	rec, err := RevisionConflicts(context.Background(), m.repo, res.Rev)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(m.mb(u), ConflictsJSON))
	if err != nil {
		t.Fatal(err)
	}
	js := string(data)
	for _, c := range res.Conflicts {
		found := false
		for _, r := range rec {
			found = found || (r.UID == c.UID && r.Field == c.Field && r.Kind == c.Kind)
		}
		if !found {
			t.Fatalf("conflict %s/%s %s not in revision %d's record", c.Collection, c.UID, c.Field, res.Rev)
		}
		if !strings.Contains(js, `"uid": "`+c.UID+`"`) {
			t.Fatalf("conflict %s/%s not in %s's conflicts.json", c.Collection, c.UID, u)
		}
		m.conflicts.WriteString(conflictText(c))
	}
}

func conflictText(c merge.Conflict) string {
	s := c.UID + " " + c.Field
	for _, p := range []*string{c.Base, c.Ours, c.Theirs} {
		if p != nil {
			s += " " + *p
		}
	}
	return s + "\n"
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
			base, _, _ = strings.Cut(base, "-dup-")
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
	text := strings.ReplaceAll(all.String(), "\r\n ", "") + m.conflicts.String()
	for _, tok := range tokenRE.FindAllString(text, -1) {
		if m.secret[tok] {
			t.Fatalf("%s of a private appointment is in the store", tok)
		}
	}
	for tok := range m.live {
		if !strings.Contains(text, tok) {
			t.Fatalf("value %s lost: not in revision %d nor in a recorded conflict", tok, lt.Rev)
		}
	}
	for _, u := range users {
		for _, name := range []string{CalendarFile, ContactsFile} {
			data, err := os.ReadFile(filepath.Join(m.mb(u), name))
			if err != nil {
				continue
			}
			for _, tok := range tokenRE.FindAllString(string(data), -1) {
				if m.secret[tok] && m.secretBy[tok] != u {
					t.Fatalf("%s of %s's private appointment is in %s's %s", tok, m.secretBy[tok], u, name)
				}
			}
			seen := map[string]bool{}
			for _, mt := range uidRE.FindAllStringSubmatch(strings.ReplaceAll(string(data), "\r\n ", ""), -1) {
				if seen[mt[1]] {
					t.Fatalf("%s's %s lists %s twice", u, name, mt[1])
				}
				seen[mt[1]] = true
			}
		}
	}
}

// quietRounds: everyone syncs and imports, nobody edits. From the second
// round on nothing is committed, and every mailbox ends the same.
func (m *model) quietRounds(t *rapid.T) {
	m.olBad = map[string]bool{} // Outlook gives every item again
	for round := 1; round <= 3; round++ {
		for _, u := range users {
			if res := m.syncUser(t, u); res.Committed && round > 1 {
				t.Fatalf("quiet round %d: %s committed %v", round, u, res.Changes)
			} else if round > 1 && res.Outlook != nil && !quietOL(res.Outlook) {
				t.Fatalf("quiet round %d: %s's sync wrote into Outlook: %+v", round, u, res.Outlook)
			}
		}
	}
	for _, name := range []string{CalendarFile, ContactsFile} {
		first := ""
		for i, u := range users {
			data, err := os.ReadFile(filepath.Join(m.mb(u), name))
			if err != nil {
				t.Fatal(err)
			}
			if name == CalendarFile {
				data = []byte(m.withoutPrivate(string(data)))
			}
			if i == 0 {
				first = string(data)
			} else if string(data) != first {
				t.Fatalf("after the quiet rounds %s's %s differs from %s's:\n%s\n---\n%s", u, name, users[0], data, first)
			}
		}
	}
}

var vtimezoneRE = regexp.MustCompile(`(?s)BEGIN:VTIMEZONE\r\n.*?END:VTIMEZONE\r\n`)

// withoutPrivate drops the private appointments from a calendar.ics (the
// owner's mailbox has their own version, everyone else's the busy time),
// and the time zones (an owner's version read from Outlook brings its
// own).
func (m *model) withoutPrivate(cal string) string {
	cal = vtimezoneRE.ReplaceAllString(cal, "")
	var out strings.Builder
	for _, block := range strings.SplitAfter(cal, "END:VEVENT\r\n") {
		if mt := uidRE.FindStringSubmatch(strings.ReplaceAll(block, "\r\n ", "")); mt != nil && m.private[mt[1]] {
			if i := strings.Index(block, "BEGIN:VEVENT"); i >= 0 {
				out.WriteString(block[:i])
			}
			continue
		}
		out.WriteString(block)
	}
	return out.String()
}
