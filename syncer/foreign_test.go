package syncer

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/sink/localstore"
	"github.com/pstsync/pstsync/snapshot"
)

// foreignDir holds calendars and cards from other projects' test data
// (merge's foreign-data test; origins and licences in its SOURCES.tsv).
const foreignDir = "../merge/testdata/foreign"

// foreignSource is one readable foreign file and the items it holds.
type foreignSource struct {
	rel  string
	data []byte
	coll string
	docs []*merge.Doc
}

// readForeign returns the foreign files that read without damage (merge's
// test covers the damaged ones), each item's UID as the sync gives it.
func readForeign(t *testing.T) []foreignSource {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(foreignDir, "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []foreignSource
	for _, p := range paths {
		rel := strings.TrimPrefix(filepath.ToSlash(p), foreignDir+"/")
		rel = strings.ReplaceAll(rel, "/", "__")
		var fi merge.FileItems
		var coll string
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(p) {
		case ".ics":
			fi, coll = merge.ReadICSFile(data), Calendar
		case ".vcf":
			fi, coll = merge.ReadVCFFile(data), Contacts
		default:
			continue
		}
		damaged := !fi.Complete
		for _, pr := range fi.Problems {
			if !errors.Is(pr.Err, merge.ErrNotItem) {
				damaged = true
			}
		}
		if damaged || len(fi.Docs) == 0 {
			continue
		}
		for i, d := range fi.Docs {
			if d.UID == "" {
				d.UID = derivedUID(rel, i)
			}
		}
		out = append(out, foreignSource{rel: rel, data: data, coll: coll, docs: fi.Docs})
	}
	return out
}

// TestForeignDataSync syncs the foreign calendars and cards from one
// user's source folder through a local store into another user's mailbox
// and checks that every item arrives with every field unchanged. Files
// whose UIDs other files use too go to separate rounds (fresh stores):
// the same UID in two files is one item to the sync.
func TestForeignDataSync(t *testing.T) {
	srcs := readForeign(t)
	var rounds [][]foreignSource
	var used []map[string]bool
	items := 0
next:
	for _, s := range srcs {
		uids := map[string]bool{}
		for _, d := range s.docs {
			if uids[s.coll+"\x00"+d.UID] {
				t.Logf("%s: two items with UID %q: left to the sync's duplicate tests", s.rel, d.UID)
				continue next
			}
			uids[s.coll+"\x00"+d.UID] = true
		}
		for i, u := range used {
			clash := false
			for k := range uids {
				if u[k] {
					clash = true
					break
				}
			}
			if !clash {
				rounds[i] = append(rounds[i], s)
				for k := range uids {
					u[k] = true
				}
				continue next
			}
		}
		rounds = append(rounds, []foreignSource{s})
		used = append(used, uids)
	}
	for i, round := range rounds {
		items += syncForeignRound(t, i, round)
	}
	t.Logf("%d items from %d files in %d rounds arrived unchanged", items, len(srcs), len(rounds))
	if items < 300 {
		t.Errorf("only %d items compared", items)
	}
}

func syncForeignRound(t *testing.T, n int, srcs []foreignSource) int {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "store"), 0o755); err != nil {
		t.Fatal(err)
	}
	store, err := localstore.New(filepath.Join(root, "store"))
	if err != nil {
		t.Fatal(err)
	}
	repo, err := snapshot.Open(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	opts := func(user string, seed uint64) Options {
		src := filepath.Join(root, user, "source")
		if err := os.MkdirAll(src, 0o755); err != nil {
			t.Fatal(err)
		}
		return Options{User: user, Host: "test", Source: src, Repo: repo, Mailbox: filepath.Join(root, user, "mailbox"),
			Now: tick, Rand: rand.New(rand.NewPCG(seed, 1))}
	}
	alice := opts("alice", 1)
	for _, s := range srcs {
		put(t, alice.Source, s.rel, string(s.data))
	}
	if _, err := Sync(ctx, alice); err != nil {
		t.Fatalf("round %d: sync alice: %v", n, err)
	}
	bob := opts("bob", 2)
	if _, err := Sync(ctx, bob); err != nil {
		t.Fatalf("round %d: sync bob: %v", n, err)
	}
	count := 0
	for _, s := range srcs {
		for _, d := range s.docs {
			private := merge.IsPrivate(d)
			if private && d.Kind == merge.KindContact {
				continue // private contacts are not shared (issue 13)
			}
			count++
			rel := vdirPath(s.coll, d.UID, d.Kind)
			data, err := os.ReadFile(filepath.Join(bob.Mailbox, rel))
			if err != nil {
				t.Errorf("%s: item %q did not arrive: %v", s.rel, d.UID, err)
				continue
			}
			got, err := ParseObject(data, d.Kind)
			if err != nil {
				t.Errorf("%s: item %q: %v", s.rel, d.UID, err)
				continue
			}
			if private {
				continue // shared as busy time only (issue 13): arrival is all to check
			}
			if got.UID != d.UID || !merge.SameFields(d, got) {
				t.Errorf("%s: item %q arrived changed: %v", s.rel, d.UID, merge.ChangedKeys(d, got))
			}
			if !slices.Equal(merge.Canonical(got), merge.Canonical(d)) {
				t.Errorf("%s: item %q: mailbox bytes differ from its canonical form", s.rel, d.UID)
			}
		}
	}
	return count
}

// TestForeignParsingCausesDoNotStopTheSync: the files that used to stop
// every sync at parsing (issue 13) sync now.
func TestForeignParsingCausesDoNotStopTheSync(t *testing.T) {
	e := newEnv(t)
	android, err := os.ReadFile(filepath.Join(foreignDir, "android-vcard", "v21_complicated.vcf"))
	if err != nil {
		t.Fatal(err)
	}
	put(t, e.src("alice"), "android.vcf", string(android))
	put(t, e.src("alice"), "empty-param.ics", strings.NewReplacer(
		"DTSTART:20250301T100000Z", "DTSTART;;VALUE=DATE:20250301",
		"DTEND:20250301T110000Z", "DTEND;;VALUE=DATE:20250302").Replace(icsEvent("ep", "Empty parameter")))
	put(t, e.src("alice"), "two-masters.ics", strings.Replace(icsEvent("tm", "First"), "END:VCALENDAR",
		"BEGIN:VEVENT\r\nUID:tm\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250302T100000Z\r\nSUMMARY:Second\r\nEND:VEVENT\r\nEND:VCALENDAR", 1))
	e.sync("alice")
	m := e.latest()
	if _, ok := m.Collections[Calendar]["ep"]; !ok {
		t.Error("the event with an empty parameter was not synced")
	} else if obj := e.object(Calendar, "ep"); !strings.Contains(obj, "DTSTART;VALUE=DATE:20250301\r\n") {
		t.Errorf("DTSTART changed:\n%s", obj)
	}
	if _, ok := m.Collections[Calendar]["tm"]; !ok {
		t.Error("the event with two masters was not synced")
	}
	if n := len(m.Collections[Contacts]); n != 1 {
		t.Errorf("%d contacts from the Android export, want 1", n)
	}
}
