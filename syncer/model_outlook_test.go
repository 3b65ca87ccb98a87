package syncer

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/outlook"
	"github.com/pstsync/pstsync/outlook/fake"
)

// TestModelOutlook runs the model of TestModel with one of the three users
// on a (fake) Outlook instead of a source folder: their items are created,
// edited (Outlook rewrites every property of an item it saves), deleted
// (to Deleted Items) and moved to another store and back (a new EntryID)
// in Outlook; their syncs read Outlook and write the merged result into
// it, with Outlook's whole-second modification times (the clock moves a
// third of a second per save, so saves share a second and only the change
// key tells them apart). The invariants are TestModel's, plus: nothing of
// a colleague's private appointment is ever in the Outlook user's
// Outlook, and from the second quiet round on no sync commits or writes
// into Outlook.
//
// Histories: PSTSYNC_RAPID_CHECKS_OUTLOOK (default 40, about 10 s; 10 with
// -short).
func TestModelOutlook(t *testing.T) {
	checks := setRapidChecks(t, 40, 10, "PSTSYNC_RAPID_CHECKS_OUTLOOK")
	start := time.Now()
	rapid.Check(t, func(rt *rapid.T) { runModel(rt, true) })
	t.Logf("%d histories in %s", checks, time.Since(start).Round(time.Millisecond))
}

// TestModelOutlookSwitch is TestModelOutlook with every third sync of the
// Outlook user reading the PST file behind Outlook (Outlook closed: the
// PST path, which delivers into the mailbox folder only; emulated over the
// fake's items by pstOfOutlook) instead of Outlook: switching between the
// two paths, in any order and in the quiet rounds too, keeps every
// invariant.
func TestModelOutlookSwitch(t *testing.T) {
	checks := setRapidChecks(t, 40, 10, "PSTSYNC_RAPID_CHECKS_OUTLOOK")
	start := time.Now()
	rapid.Check(t, modelOutlookSwitch)
	t.Logf("%d histories in %s", checks, time.Since(start).Round(time.Millisecond))
}

// modelOutlookSwitch is one history of TestModelOutlookSwitch.
func modelOutlookSwitch(rt *rapid.T) {
	m := newModel(rt)
	defer os.RemoveAll(m.root)
	m.useOutlook(users[len(users)-1])
	m.olSwitch = true
	rt.Repeat(map[string]func(*rapid.T){
		"create": m.create, "edit": m.edit, "delete": m.delete, "damage": m.damage,
		"sync": m.sync, "loseState": m.loseState, "move": m.move, "": func(*rapid.T) {},
	})
	m.quietRounds(rt)
}

// olClosed reports whether this sync of the Outlook user reads the PST
// file (TestModelOutlookSwitch). Not once the Outlook user's state was
// lost: a run from the PST without the state takes what it puts into the
// mailbox folder as delivered (it cannot know that the PC's Outlook
// receives its items through the bridge), so an item the user then edits
// in Outlook, unread by that run, is merged against a version they never
// had (a known limit).
func (m *model) olClosed() bool { return m.olSwitch && !m.olLost && m.seed%3 == 0 }

func (m *model) useOutlook(u string) {
	m.olUser = u
	m.olBad = map[string]bool{}
	m.ol = fake.New()
	m.ol.AddStore("Archive")
	clk := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	m.ol.Now = func() time.Time { clk = clk.Add(time.Second / 3); return clk }
}

func olFolder(coll string) outlook.FolderRef {
	f, _ := outlook.FolderFor(coll)
	return f
}

// create1 puts a new item on the user's side: a file, or an item created
// in Outlook by its user (no pstsync UID: its UID is the one Outlook's
// GlobalObjectID gives).
func (m *model) create1(t *rapid.T, u, name string, f *file) {
	if u != m.olUser {
		m.write(t, u, name, f)
		return
	}
	d, err := parseContent(f)
	if err != nil {
		t.Fatal(err)
	}
	w, err := outlook.FromDoc(d)
	if err != nil {
		t.Fatal(err)
	}
	w.UID = ""
	e, err := m.ol.Write(context.Background(), olFolder(f.coll), "", w)
	if err != nil {
		t.Fatal(err)
	}
	got := m.olFile(t, f.coll, e.ID)
	f.uid = got.uid
	m.created[f.uid] = true
	if f.private {
		m.private[f.uid] = true
	}
	m.files[u][e.ID] = f
	t.Logf("create in Outlook %s: %+v", e.ID, f)
}

func parseContent(f *file) (*merge.Doc, error) {
	if f.coll == Calendar {
		return merge.DecodeCalendar([]byte(content(f)))
	}
	return merge.DecodeVCard([]byte(content(f)))
}

// olWrite is the Outlook user's edit of item id: the item saved with new
// values (the pstsync UID property stays).
func (m *model) olWrite(t *rapid.T, id string, f *file) {
	ctx := context.Background()
	cur, err := m.ol.Read(ctx, olFolder(f.coll), id)
	if err != nil {
		t.Fatal(err)
	}
	d, err := parseContent(f)
	if err != nil {
		t.Fatal(err)
	}
	w, err := outlook.FromDoc(d)
	if err != nil {
		t.Fatal(err)
	}
	w.UID = cur.UID
	if _, err := m.ol.Write(ctx, olFolder(f.coll), id, w); err != nil {
		t.Fatal(err)
	}
	m.files[m.olUser][id] = f
}

func (m *model) olDelete(t *rapid.T, id string, f *file) {
	if err := m.ol.Delete(context.Background(), olFolder(f.coll), id); err != nil {
		t.Fatal(err)
	}
	t.Logf("delete in Outlook %s (%s)", id, f.uid)
	delete(m.files[m.olUser], id)
}

// move moves one of the Outlook user's items to another store and back:
// it comes back with a new EntryID.
func (m *model) move(t *rapid.T) {
	if m.olUser == "" {
		t.Skip("no Outlook")
	}
	id, f := m.pick(t, m.olUser)
	home := olFolder(f.coll)
	other := outlook.FolderRef{Kind: outlook.Named, Name: "Archive/Calendar"}
	if f.coll == Contacts {
		other.Name = "Archive/Contacts"
	}
	id2, err := m.ol.Move(home, id, other)
	if err != nil {
		t.Fatal(err)
	}
	id3, err := m.ol.Move(other, id2, home)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("move in Outlook %s → %s", id, id3)
	delete(m.files[m.olUser], id)
	m.files[m.olUser][id3] = f
}

// olFile reads an Outlook item as the model knows items.
func (m *model) olFile(t *rapid.T, coll, id string) *file {
	it, err := m.ol.Read(context.Background(), olFolder(coll), id)
	if err != nil {
		t.Fatal(err)
	}
	d, err := outlook.ToDoc(it)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(merge.Canonical(d)), "\r\n ", "")
	f := &file{coll: coll, uid: d.UID, private: it.Private()}
	for _, p := range propRE.FindAllStringSubmatch(text, -1) {
		v := strings.ReplaceAll(p[2], `\`, "")
		switch p[1] {
		case "SUMMARY", "FN":
			f.f1 = v
		case "LOCATION", "NOTE":
			f.f2 = v
		}
	}
	return f
}

// olRefresh takes what the sync wrote into Outlook into the model (as
// importAll does for a source folder), and checks that nothing of a
// colleague's private appointment is in it.
func (m *model) olRefresh(t *rapid.T, u string) {
	now := map[string]*file{}
	for _, coll := range []string{Calendar, Contacts} {
		es, err := m.ol.List(context.Background(), olFolder(coll))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			nf := m.olFile(t, coll, e.ID)
			for _, tok := range tokenRE.FindAllString(nf.f1+" "+nf.f2, -1) {
				if m.secret[tok] && m.secretBy[tok] != u {
					t.Fatalf("%s of %s's private appointment is in %s's Outlook", tok, m.secretBy[tok], u)
				}
			}
			now[e.ID] = nf
		}
	}
	for id, nf := range now {
		old := m.files[u][id]
		if old == nil || (old.f1 == nf.f1 && old.f2 == nf.f2) {
			continue
		}
		for _, tok := range tokenRE.FindAllString(old.f1+" "+old.f2, -1) {
			delete(m.pending[u], tok)
			if !strings.Contains(nf.f1+" "+nf.f2, tok) {
				m.supersede(tok)
			}
		}
	}
	m.files[u] = now
	m.checkRewrites(t)
}

// outlookAdded are fields Outlook adds to every appointment it saves (its
// defaults): the model's colleagues never write them.
var outlookAdded = []string{"PRIORITY", "TRANSP", "X-MICROSOFT-CDO-BUSYSTATUS", "ORGANIZER"}

// checkRewrites: Outlook's own rewriting of an item pstsync delivered
// into it is never shared as the Outlook user's edit: no colleague's
// appointment (UID "U…", conflict copies included) ever gets a field
// only Outlook adds. Not checked once the Outlook user's state was lost:
// without the local copy what was delivered is unknown, and with it the
// record of Outlook's rewriting of an item that could not be read in that
// run goes with the item's link (a known limit).
func (m *model) checkRewrites(t *rapid.T) {
	if m.olLost {
		return
	}
	lt, err := m.repo.Latest(context.Background())
	if err != nil || lt == nil {
		return
	}
	for uid, en := range lt.Collections[Calendar] {
		if !strings.HasPrefix(uid, "U") {
			continue
		}
		data, err := m.repo.GetObject(context.Background(), en.Hash)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ParseObject(data, merge.KindEvent)
		if err != nil {
			t.Fatal(err)
		}
		for k := range d.Fields {
			name := k[strings.LastIndex(k, "/")+1:]
			if slices.Contains(outlookAdded, name) {
				t.Fatalf("%s: field %s, which only Outlook adds, reached the store:\n%s", uid, k, data)
			}
		}
	}
}

// TestModelOutlookRegressions replays every history TestModelOutlook and
// TestModelOutlookSwitch once failed on (testdata/rapid/TestModelOutlook*/
// *.fail): a colleague's busy time delivered into Outlook (shown there as
// private) could not be removed or updated, so quiet rounds kept trying;
// Outlook's own fields reached the store as the user's edit; an item
// unreadable after a lost state was created again; switching to the PST
// re-shared Outlook's rewriting.
func TestModelOutlookRegressions(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "rapid", "TestModelOutlook", "*.fail"))
	switched, _ := filepath.Glob(filepath.Join("testdata", "rapid", "TestModelOutlookSwitch", "*.fail"))
	failfile, checks := flag.Lookup("rapid.failfile"), flag.Lookup("rapid.checks")
	oldFile, oldChecks := failfile.Value.String(), checks.Value.String()
	defer func() {
		_ = failfile.Value.Set(oldFile)
		_ = checks.Value.Set(oldChecks)
	}()
	_ = checks.Value.Set("1")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_ = failfile.Value.Set(f)
			rapid.Check(t, func(rt *rapid.T) { runModel(rt, true) })
		})
	}
	for _, f := range switched {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_ = failfile.Value.Set(f)
			rapid.Check(t, modelOutlookSwitch)
		})
	}
}

// unreadable is a Bridge whose Read fails for some items (a damaged item
// Outlook cannot give), as the Outlook side's damage.
type unreadable struct {
	outlook.Bridge
	bad map[string]bool
}

func (u *unreadable) Read(ctx context.Context, f outlook.FolderRef, id string) (*outlook.Item, error) {
	if u.bad[id] {
		return nil, errors.New("MAPI_E_CORRUPT_DATA")
	}
	return u.Bridge.Read(ctx, f, id)
}

// olDamage is the Outlook side's damage: the user edits an item, and at
// the next sync Outlook cannot give it (its folder is then not read
// completely: no deletions from it, the edit waits for a later sync).
func (m *model) olDamage(t *rapid.T) {
	u := m.olUser
	id, f := m.pick(t, u)
	g := *f
	tok := m.token()
	m.supersede(g.f2)
	g.f2 = tok
	if g.private {
		m.secret[tok] = true
		m.secretBy[tok] = u
	} else {
		m.pending[u][tok] = true
	}
	m.olWrite(t, id, &g)
	g.damaged = true
	m.olBad[id] = true
	t.Logf("damage in Outlook %s: %+v", id, g)
}
