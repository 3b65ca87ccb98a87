package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/sink"
)

var t0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

var alice = Author{User: "alice", Host: "PC-ALICE"}

func openRepo(t testing.TB, s sink.Store, opts ...Option) *Repo {
	t.Helper()
	r, err := Open(context.Background(), s, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return r
}

// items describes collections by content: collection -> uid -> object bytes.
type items map[string]map[string]string

// build writes the objects of its and returns the collections.
func build(t testing.TB, r *Repo, its items) map[string]map[string]Entry {
	t.Helper()
	cols := map[string]map[string]Entry{}
	for name, c := range its {
		cols[name] = map[string]Entry{}
		for uid, content := range c {
			h, err := r.PutObject(context.Background(), []byte(content))
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			kind := "event"
			if name == "contacts" {
				kind = "contact"
			}
			cols[name][uid] = Entry{Hash: h, Kind: kind, Title: "title of " + uid}
		}
	}
	return cols
}

// commit commits its as the next revision after parent.
func commit(t testing.TB, r *Repo, parent int64, author Author, its items) *Manifest {
	t.Helper()
	var prev map[string]map[string]Entry
	if parent > 0 {
		p, err := r.Manifest(context.Background(), parent)
		if err != nil {
			t.Fatalf("Manifest(%d): %v", parent, err)
		}
		prev = p.Collections
	}
	cols := build(t, r, its)
	m := &Manifest{Parent: parent, Author: author, Time: t0.Add(time.Duration(parent) * time.Hour),
		Collections: cols, Changes: Diff(prev, cols, author.User)}
	out, err := r.Commit(context.Background(), m)
	if err != nil {
		t.Fatalf("Commit after %d: %v", parent, err)
	}
	return out
}

func TestEmptyRepo(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, newMemStore())
	m, err := r.Latest(ctx)
	if m != nil || err != nil {
		t.Fatalf("Latest on empty repo = %v, %v; want nil, nil", m, err)
	}
	log, err := r.Log(ctx)
	if err != nil || len(log) != 0 {
		t.Fatalf("Log = %v, %v", log, err)
	}
	probs, err := r.Check(ctx)
	if err != nil || len(probs) != 0 {
		t.Fatalf("Check = %v, %v", probs, err)
	}
}

func TestCommitSequence(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	r := openRepo(t, s)
	other := openRepo(t, s) // another PC on the same store

	m1 := commit(t, r, 0, alice, items{"calendar": {"e1": "BEGIN:VEVENT 1"}})
	if m1.Rev != 1 || m1.Parent != 0 || m1.Version != FormatVersion {
		t.Fatalf("first commit: rev %d parent %d version %d", m1.Rev, m1.Parent, m1.Version)
	}
	// The other repo sees it through the probe.
	got, err := other.Latest(ctx)
	if err != nil || got == nil || got.Rev != 1 {
		t.Fatalf("other.Latest = %+v, %v", got, err)
	}
	bob := Author{User: "bob", Host: "PC-BOB"}
	m2 := commit(t, other, 1, bob, items{"calendar": {"e1": "BEGIN:VEVENT 1", "e2": "BEGIN:VEVENT 2"}})
	m3 := commit(t, other, 2, bob, items{"calendar": {"e2": "BEGIN:VEVENT 2"}, "contacts": {"c1": "BEGIN:VCARD"}})

	got, err = r.Latest(ctx)
	if err != nil || got.Rev != 3 {
		t.Fatalf("r.Latest after 3 commits elsewhere = %+v, %v", got, err)
	}
	if !reflect.DeepEqual(got.Collections, m3.Collections) || got.Author != bob || !got.Time.Equal(m3.Time) {
		t.Errorf("latest differs from what was committed:\n got %+v\nwant %+v", got, m3)
	}
	want := []Change{
		{Collection: "calendar", UID: "e1", Op: OpDelete, By: "bob", Title: "title of e1"},
		{Collection: "contacts", UID: "c1", Op: OpAdd, By: "bob", Title: "title of c1"},
	}
	if !reflect.DeepEqual(got.Changes, want) {
		t.Errorf("changes of rev 3 = %+v, want %+v", got.Changes, want)
	}
	old, err := r.Manifest(ctx, 2)
	if err != nil || !reflect.DeepEqual(old.Collections, m2.Collections) {
		t.Errorf("Manifest(2) = %+v, %v", old, err)
	}
	revs, err := r.Revisions(ctx)
	if err != nil || !reflect.DeepEqual(revs, []int64{1, 2, 3}) {
		t.Errorf("Revisions = %v, %v", revs, err)
	}
	// The caller's copy is its own.
	got.Collections["calendar"]["x"] = Entry{}
	again, _ := r.Latest(ctx)
	if _, ok := again.Collections["calendar"]["x"]; ok {
		t.Error("modifying Latest's result changed the repository's cached manifest")
	}
	if _, err := r.Manifest(ctx, 4); !sink.IsNotExist(err) {
		t.Errorf("Manifest(4) err = %v, want not-exist", err)
	}
}

func TestCommitConflicts(t *testing.T) {
	ctx := context.Background()
	t.Run("stale parent writes nothing", func(t *testing.T) {
		cs := newCounting(newMemStore())
		r := openRepo(t, cs)
		commit(t, r, 0, alice, items{"calendar": {"e1": "one"}})
		commit(t, r, 1, alice, items{"calendar": {"e1": "two"}})
		before := cs.puts.Load()
		_, err := r.Commit(ctx, &Manifest{Parent: 1, Author: alice, Time: t0})
		if !IsConflict(err) || !errors.Is(err, ErrConflict) || !errors.Is(err, sink.ErrPrecondition) {
			t.Fatalf("commit on stale parent: err = %v, want a conflict", err)
		}
		var ce *ConflictError
		if !errors.As(err, &ce) || ce.Rev != 2 || ce.Latest != 2 {
			t.Errorf("ConflictError = %+v", ce)
		}
		if n := cs.puts.Load() - before; n != 0 {
			t.Errorf("a stale commit made %d Puts", n)
		}
	})
	t.Run("lost race on put-if-absent", func(t *testing.T) {
		cs := newCounting(newMemStore())
		r := openRepo(t, cs)
		winner := openRepo(t, cs)
		commit(t, r, 0, alice, items{"calendar": {"e1": "one"}})
		raced := false
		cs.beforePut = func(key string) {
			if key == RevisionKey(2) && !raced {
				raced = true
				commit(t, winner, 1, Author{User: "bob"}, items{"calendar": {"e1": "bob's"}})
			}
		}
		cols := build(t, r, items{"calendar": {"e1": "alice's"}})
		_, err := r.Commit(ctx, &Manifest{Parent: 1, Author: alice, Time: t0, Collections: cols})
		if !IsConflict(err) {
			t.Fatalf("losing writer: err = %v, want a conflict", err)
		}
		cs.beforePut = nil
		m, err := r.Latest(ctx)
		if err != nil || m.Rev != 2 || m.Author.User != "bob" {
			t.Fatalf("after the race Latest = %+v, %v; want bob's revision 2", m, err)
		}
		if cs.putOK[RevisionKey(2)] != 1 {
			t.Errorf("revision 2 written %d times", cs.putOK[RevisionKey(2)])
		}
		// Retry on top of the winner.
		m.Parent, m.Rev, m.Author = 2, 0, alice
		m.Collections["calendar"]["e2"] = cols["calendar"]["e1"]
		out, err := r.Commit(ctx, m)
		if err != nil || out.Rev != 3 {
			t.Fatalf("retry: %+v, %v", out, err)
		}
	})
}

func TestCommitValidation(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, newMemStore())
	h, _ := r.PutObject(ctx, []byte("x"))
	good := func() *Manifest {
		return &Manifest{Author: alice, Time: t0, Collections: map[string]map[string]Entry{"calendar": {"u": {Hash: h, Kind: "event"}}}}
	}
	tests := []struct {
		name   string
		modify func(m *Manifest)
	}{
		{"no author", func(m *Manifest) { m.Author = Author{} }},
		{"no time", func(m *Manifest) { m.Time = time.Time{} }},
		{"bad hash", func(m *Manifest) { m.Collections["calendar"]["u"] = Entry{Hash: "abc"} }},
		{"upper-case hash", func(m *Manifest) { m.Collections["calendar"]["u"] = Entry{Hash: strings.ToUpper(h)} }},
		{"empty uid", func(m *Manifest) { m.Collections["calendar"][""] = Entry{Hash: h} }},
		{"empty collection", func(m *Manifest) { m.Collections[""] = map[string]Entry{} }},
		{"bad op", func(m *Manifest) { m.Changes = []Change{{Collection: "calendar", UID: "u", Op: "rename"}} }},
		{"rev not parent+1", func(m *Manifest) { m.Rev = 5 }},
		{"negative parent", func(m *Manifest) { m.Parent = -1 }},
		{"conflicts not JSON", func(m *Manifest) { m.Conflicts = json.RawMessage("[{") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := good()
			tc.modify(m)
			_, err := r.Commit(ctx, m)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := r.Commit(ctx, good()); err != nil {
		t.Fatalf("the good manifest: %v", err)
	}
}

func TestCommitVerifiesObjects(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	writer := openRepo(t, s)
	h, _ := writer.PutObject(ctx, []byte("stored"))
	absent := HashOf([]byte("never stored"))
	for _, n := range []int{1, 40} { // below and above the per-object listing limit
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			r := openRepo(t, s) // knows nothing of the objects written
			cols := map[string]map[string]Entry{"calendar": {"ok": {Hash: h, Kind: "event"}}}
			for i := range n {
				cols["calendar"][fmt.Sprint("missing", i)] = Entry{Hash: HashOf(fmt.Appendf(nil, "absent %d", i)), Kind: "event"}
			}
			cols["calendar"]["missing0"] = Entry{Hash: absent, Kind: "event"}
			latest, _ := r.Latest(ctx)
			var parent int64
			if latest != nil {
				parent = latest.Rev
			}
			_, err := r.Commit(ctx, &Manifest{Parent: parent, Author: alice, Time: t0, Collections: cols})
			if !errors.Is(err, ErrObjectMissing) || IsConflict(err) {
				t.Fatalf("err = %v, want ErrObjectMissing", err)
			}
			if keys, _ := s.List(ctx, revisionsPrefix); len(keys) != int(parent) {
				t.Fatalf("a refused commit wrote a revision: %v", keys)
			}
			delete(cols["calendar"], "missing0")
			for i := 1; i < n; i++ {
				delete(cols["calendar"], fmt.Sprint("missing", i))
			}
			if _, err := r.Commit(ctx, &Manifest{Parent: parent, Author: alice, Time: t0, Collections: cols}); err != nil {
				t.Fatalf("commit of stored objects: %v", err)
			}
		})
	}
	t.Run("disabled", func(t *testing.T) {
		r := openRepo(t, s, VerifyObjects(false))
		latest, _ := r.Latest(ctx)
		cols := map[string]map[string]Entry{"calendar": {"x": {Hash: absent, Kind: "event"}}}
		if _, err := r.Commit(ctx, &Manifest{Parent: latest.Rev, Author: alice, Time: t0, Collections: cols}); err != nil {
			t.Fatalf("commit without verification: %v", err)
		}
	})
}

func TestObjects(t *testing.T) {
	ctx := context.Background()
	cs := newCounting(newMemStore())
	r := openRepo(t, cs)
	data := []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
	h, err := r.PutObject(ctx, data)
	if err != nil || h != HashOf(data) || !ValidHash(h) {
		t.Fatalf("PutObject = %q, %v", h, err)
	}
	if _, _, err := cs.Store.Get(ctx, "objects/"+h[:2]+"/"+h); err != nil {
		t.Fatalf("object not at objects/hh/hash: %v", err)
	}
	// Written once per repo; another repo finding it present is fine.
	puts := cs.puts.Load()
	if _, err := r.PutObject(ctx, data); err != nil || cs.puts.Load() != puts {
		t.Errorf("second PutObject: err %v, %d more puts", err, cs.puts.Load()-puts)
	}
	if h2, err := openRepo(t, cs).PutObject(ctx, data); err != nil || h2 != h {
		t.Errorf("PutObject of a present object from another repo: %q, %v", h2, err)
	}
	got, err := r.GetObject(ctx, h)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("GetObject = %q, %v", got, err)
	}

	damaged := bytes.Clone(data)
	damaged[3] ^= 1
	if _, err := cs.Put(ctx, ObjectKey(h), damaged, sink.Cond{}); err != nil {
		t.Fatal(err)
	}
	got, err = r.GetObject(ctx, h)
	var ce *CorruptObjectError
	if got != nil || !errors.Is(err, ErrCorruptObject) || !errors.As(err, &ce) || ce.Hash != h || ce.Actual != HashOf(damaged) {
		t.Fatalf("GetObject of a damaged object = %q, %v", got, err)
	}
	if !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("error does not say corrupt: %v", err)
	}

	if _, err := r.GetObject(ctx, HashOf([]byte("absent"))); !sink.IsNotExist(err) {
		t.Errorf("missing object: err = %v", err)
	}
	if _, err := r.GetObject(ctx, "../../etc/passwd"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad hash: err = %v", err)
	}
}

func TestConflictsRecord(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	r := openRepo(t, s)
	commit(t, r, 0, alice, items{"calendar": {"e1": "one"}})
	conflicts := json.RawMessage(`[{"collection":"calendar","uid":"e1","field":"SUMMARY"}]`)
	cols := build(t, r, items{"calendar": {"e1": "two", "e1-conflict": "three"}})
	m, err := r.Commit(ctx, &Manifest{Parent: 1, Author: alice, Time: t0, Collections: cols, Conflicts: conflicts,
		Changes: []Change{{Collection: "calendar", UID: "e1-conflict", Op: OpConflictCopy, By: "alice"}}})
	if err != nil {
		t.Fatal(err)
	}
	if m.ConflictsHash != HashOf(conflicts) {
		t.Errorf("ConflictsHash = %q", m.ConflictsHash)
	}
	data, _, err := s.Get(ctx, "conflicts/000000000002.json")
	if err != nil || !bytes.Equal(data, conflicts) {
		t.Fatalf("conflicts file = %q, %v", data, err)
	}
	got, err := r.Conflicts(ctx, 2)
	if err != nil || !bytes.Equal(got, conflicts) {
		t.Fatalf("Conflicts(2) = %q, %v", got, err)
	}
	// The copy lost or damaged: the object referenced by the manifest serves.
	for _, damage := range []func(){
		func() { s.Delete(ctx, ConflictsKey(2)) },
		func() { s.Put(ctx, ConflictsKey(2), []byte("[]"), sink.Cond{}) },
	} {
		damage()
		got, err = openRepo(t, s).Conflicts(ctx, 2)
		if err != nil || !bytes.Equal(got, conflicts) {
			t.Fatalf("Conflicts(2) after damage = %q, %v", got, err)
		}
	}
	if got, err := r.Conflicts(ctx, 1); got != nil || err != nil {
		t.Errorf("Conflicts(1) = %q, %v; want none", got, err)
	}
	log, _ := r.Log(ctx)
	if !log[0].Conflicts || log[1].Conflicts || log[0].Counts[OpConflictCopy] != 1 {
		t.Errorf("log = %+v", log)
	}
}

func TestLatestTolerance(t *testing.T) {
	ctx := context.Background()
	cs := newCounting(newMemStore())
	w := openRepo(t, cs)
	commit(t, w, 0, alice, items{"calendar": {"e1": "one"}})
	commit(t, w, 1, alice, items{"calendar": {"e1": "two"}})
	// Stray keys under revisions/ are not revisions.
	for _, k := range []string{"revisions/tmp-123", "revisions/000000000009.json.tmp", "revisions/9.json", "revisions/-00000000009.json"} {
		cs.Store.Put(ctx, k, []byte("junk"), sink.Cond{})
	}
	// Revision 2 listed but not yet readable (being created) the first time.
	hidden := 1
	cs.getHook = func(key string) ([]byte, string, error, bool) {
		if key == RevisionKey(2) && hidden > 0 {
			hidden--
			return nil, "", fmt.Errorf("hidden: %w", sink.ErrNotExist), true
		}
		return nil, "", nil, false
	}
	r := openRepo(t, cs)
	m, err := r.Latest(ctx)
	if err != nil || m.Rev != 2 {
		t.Fatalf("Latest = %+v, %v", m, err)
	}
	cs.getHook = nil

	// Several revisions appear at once: the probe lists again.
	commit(t, w, 2, alice, items{"calendar": {"e1": "three"}})
	commit(t, w, 3, alice, items{"calendar": {"e1": "four"}})
	commit(t, w, 4, alice, items{"calendar": {"e1": "five"}})
	if m, err := r.Latest(ctx); err != nil || m.Rev != 5 {
		t.Fatalf("Latest after 3 commits elsewhere = %+v, %v", m, err)
	}
	// Nothing new: one Get, no listing, no manifest re-read.
	gets, lists := cs.gets.Load(), cs.lists.Load()
	if _, err := r.Latest(ctx); err != nil {
		t.Fatal(err)
	}
	if g, l := cs.gets.Load()-gets, cs.lists.Load()-lists; g != 1 || l != 0 {
		t.Errorf("an up-to-date Latest made %d Gets and %d Lists, want 1 and 0", g, l)
	}
	// A damaged latest manifest (with the head that names it) is an
	// error, never an older revision.
	data, _, _ := cs.Store.Get(ctx, RevisionKey(5))
	cs.Store.Put(ctx, RevisionKey(5), data[:len(data)/2], sink.Cond{})
	cs.Store.Put(ctx, headKey, []byte("{"), sink.Cond{})
	if _, err := Open(ctx, cs); !errors.Is(err, ErrCorruptManifest) {
		t.Errorf("Open with a truncated latest manifest: %v", err)
	}
}

func TestLog(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	r := openRepo(t, s)
	bob := Author{User: "bob", Host: "PC-BOB"}
	commit(t, r, 0, alice, items{"calendar": {"a": "1", "b": "2"}})
	commit(t, r, 1, bob, items{"calendar": {"a": "1x", "c": "3"}, "contacts": {"k": "4"}})
	// Revision 3 unreadable: it is listed with an error, not dropped.
	s.Put(ctx, RevisionKey(3), []byte("{"), sink.Cond{})
	log, err := r.Log(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 3 {
		t.Fatalf("log has %d entries: %+v", len(log), log)
	}
	if log[0].Rev != 3 || log[0].Error == "" {
		t.Errorf("entry 0 = %+v, want the unreadable revision 3", log[0])
	}
	want := LogEntry{Rev: 2, Parent: 1, Author: bob, Time: t0.Add(time.Hour), Items: 3,
		Counts: map[Op]int{OpAdd: 2, OpModify: 1, OpDelete: 1}}
	if !reflect.DeepEqual(log[1], want) {
		t.Errorf("entry 1 = %+v\nwant %+v", log[1], want)
	}
	if log[2].Rev != 1 || log[2].Author != alice || log[2].Counts[OpAdd] != 2 || log[2].Items != 2 {
		t.Errorf("entry 2 = %+v", log[2])
	}
}

func TestRestore(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, newMemStore())
	m1 := commit(t, r, 0, alice, items{"calendar": {"a": "1", "b": "2"}, "contacts": {"k": "k"}})
	commit(t, r, 1, alice, items{"calendar": {"a": "1x", "c": "3"}, "contacts": {"k": "k"}})
	admin := Author{User: "admin", Host: "SERVER"}
	now := t0.Add(48 * time.Hour)
	m3, err := r.Restore(ctx, 1, admin, now)
	if err != nil {
		t.Fatal(err)
	}
	if m3.Rev != 3 || m3.Parent != 2 || m3.Author != admin || !m3.Time.Equal(now) {
		t.Errorf("restored revision header: %+v", m3)
	}
	if !reflect.DeepEqual(m3.Collections, m1.Collections) {
		t.Errorf("restored collections differ from revision 1")
	}
	want := []Change{
		{Collection: "calendar", UID: "a", Op: OpModify, By: "admin", Title: "title of a"},
		{Collection: "calendar", UID: "b", Op: OpAdd, By: "admin", Title: "title of b"},
		{Collection: "calendar", UID: "c", Op: OpDelete, By: "admin", Title: "title of c"},
	}
	if !reflect.DeepEqual(m3.Changes, want) {
		t.Errorf("changes = %+v\nwant %+v", m3.Changes, want)
	}
	latest, _ := r.Latest(ctx)
	if latest.Rev != 3 || !reflect.DeepEqual(latest.Collections, m1.Collections) {
		t.Errorf("latest after restore: rev %d", latest.Rev)
	}
	if _, err := r.Restore(ctx, 7, admin, now); !sink.IsNotExist(err) {
		t.Errorf("restore of a missing revision: %v", err)
	}
}

func TestDiff(t *testing.T) {
	e := func(h string) Entry { return Entry{Hash: HashOf([]byte(h)), Kind: "event"} }
	from := map[string]map[string]Entry{"cal": {"same": e("s"), "mod": e("1"), "gone": e("g")}, "old": {"x": e("x")}}
	to := map[string]map[string]Entry{"cal": {"same": e("s"), "mod": e("2"), "new": e("n")}, "fresh": {"y": e("y")}}
	got := Diff(from, to, "u")
	want := []Change{
		{Collection: "cal", UID: "gone", Op: OpDelete, By: "u"}, {Collection: "cal", UID: "mod", Op: OpModify, By: "u"},
		{Collection: "cal", UID: "new", Op: OpAdd, By: "u"}, {Collection: "fresh", UID: "y", Op: OpAdd, By: "u"},
		{Collection: "old", UID: "x", Op: OpDelete, By: "u"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Diff = %+v\nwant %+v", got, want)
	}
	if d := Diff(to, to, "u"); len(d) != 0 {
		t.Errorf("Diff of equal collections = %v", d)
	}
}

func TestManifestEncodingDeterministic(t *testing.T) {
	h := func(s string) string { return HashOf([]byte(s)) }
	mk := func(order []string) *Manifest {
		m := &Manifest{Rev: 4, Parent: 3, Author: alice, Time: t0, Collections: map[string]map[string]Entry{}}
		for _, u := range order {
			c := "calendar"
			if strings.HasPrefix(u, "c") {
				c = "contacts"
			}
			if m.Collections[c] == nil {
				m.Collections[c] = map[string]Entry{}
			}
			m.Collections[c][u] = Entry{Hash: h(u), Kind: "k", Title: "<" + u + "> & co"}
			m.Changes = append(m.Changes, Change{Collection: c, UID: u, Op: OpAdd, By: "alice"})
		}
		return m
	}
	a, err := mk([]string{"e1", "c2", "e3", "c1", "e2"}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := mk([]string{"e2", "c1", "e3", "c2", "e1"}).Encode()
	if !bytes.Equal(a, b) {
		t.Fatalf("encodings differ:\n%s\n%s", a, b)
	}
	s := string(a)
	if !strings.Contains(s, `"version":1`) || !strings.Contains(s, `"<e1> & co"`) {
		t.Errorf("encoding lacks version or escapes titles oddly: %s", s)
	}
	_, changes, _ := strings.Cut(s, `"changes"`)
	order := []string{`"uid":"e1"`, `"uid":"e2"`, `"uid":"e3"`, `"uid":"c1"`, `"uid":"c2"`}
	for i := 1; i < len(order); i++ {
		if strings.Index(changes, order[i-1]) > strings.Index(changes, order[i]) {
			t.Errorf("changes not sorted by collection and UID: %s", changes)
		}
	}
	m, err := ParseManifest(a)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := m.Encode()
	if !bytes.Equal(a, again) {
		t.Errorf("round trip changed the bytes")
	}
}

func TestParseManifestRejects(t *testing.T) {
	good, err := (&Manifest{Rev: 2, Parent: 1, Author: alice, Time: t0, Collections: map[string]map[string]Entry{
		"calendar": {"u": {Hash: HashOf(nil), Kind: "event"}}}}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseManifest(good); err != nil {
		t.Fatalf("good manifest: %v", err)
	}
	tests := map[string]string{
		"truncated":       string(good[:len(good)/2]),
		"empty":           "",
		"trailing data":   string(good) + "{}",
		"trailing brace":  string(good) + "}",
		"newer version":   strings.Replace(string(good), `"version":1`, `"version":2`, 1),
		"no version":      strings.Replace(string(good), `"version":1,`, ``, 1),
		"not sequential":  strings.Replace(string(good), `"parent":1`, `"parent":0`, 1),
		"bad hash":        strings.Replace(string(good), HashOf(nil), "e3b0", 1),
		"no author":       strings.Replace(string(good), `"user":"alice"`, `"user":""`, 1),
		"wrong type":      strings.Replace(string(good), `"rev":2`, `"rev":"2"`, 1),
		"array":           "[]",
		"null":            "null",
		"collections arr": strings.Replace(string(good), `"collections":{`, `"collections":[{`, 1),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			if m, err := ParseManifest([]byte(data)); !errors.Is(err, ErrCorruptManifest) {
				t.Errorf("ParseManifest = %+v, %v; want ErrCorruptManifest", m, err)
			}
		})
	}
}
