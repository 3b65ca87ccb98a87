package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/snapshot"
)

var uidRE = regexp.MustCompile(`(?m)^UID:(.*?)\r?$`)

var update = flag.Bool("update", false, "rewrite the golden files of fixtures/")

type scenario struct {
	Description string `json:"description"`
	Steps       []struct {
		User string            `json:"user"`
		Put  map[string]string `json:"put"`
		// PutText writes inline content; KeepTime keeps the file's
		// modification time (and the edit keeps its size).
		PutText  map[string]string `json:"put_text"`
		KeepTime bool              `json:"keep_time"`
		Remove   []string          `json:"remove"`
		Generate *struct {
			Prefix string
			Count  int
		} `json:"generate"`
		Import string `json:"import"`
		// ImportAll imports every item of the mailbox, as a client does:
		// into the file holding the item's UID, else a new file.
		ImportAll bool `json:"import_all"`
		// Symlink makes NAME a link to TARGET ("/dev/zero", or a file
		// under the scenario's outside/ folder).
		Symlink map[string]string `json:"symlink"`
		// Outside writes files outside every source folder (link
		// targets).
		Outside         map[string]string `json:"outside"`
		Fifo            []string          `json:"fifo"`
		LoseState       bool              `json:"lose_state"`
		Machine         string            `json:"machine"`
		Sync            bool              `json:"sync"`
		AllowMassDelete bool              `json:"allow_mass_delete"`
		ExpectError     string            `json:"expect_error"`
	} `json:"steps"`
}

// TestFixtures replays fixtures/scenarios/*.json and compares the outcome
// with fixtures/golden/NAME/: steps.txt (each sync's outcome, the final
// snapshot) and, per user, the whole mailbox a client reads
// (calendar.ics, contacts.vcf, incoming/, conflicts.json). -update
// rewrites them.
func TestFixtures(t *testing.T) {
	root := filepath.Join(testutil.Root(t), "fixtures")
	files, err := filepath.Glob(filepath.Join(root, "scenarios", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios in %s: %v", root, err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			data := read(t, f)
			var sc scenario
			dec := json.NewDecoder(strings.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&sc); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			got := replay(t, root, &sc)
			dir := filepath.Join(root, "golden", name)
			if *update {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				for _, rel := range slices.Sorted(maps.Keys(got)) {
					p := filepath.Join(dir, filepath.FromSlash(rel))
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, []byte(got[rel]), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			want := map[string]string{}
			err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				want[filepath.ToSlash(rel)] = read(t, p)
				return nil
			})
			if err != nil {
				t.Fatalf("%v (run go test ./syncer -run Fixtures -update)", err)
			}
			for _, rel := range slices.Sorted(maps.Keys(want)) {
				if _, ok := got[rel]; !ok {
					t.Errorf("%s: expected %s, not produced", name, rel)
				}
			}
			for _, rel := range slices.Sorted(maps.Keys(got)) {
				w, ok := want[rel]
				switch {
				case !ok:
					t.Errorf("%s: produced %s, not in %s (-update rewrites it):\n%s", name, rel, dir, got[rel])
				case w != got[rel]:
					t.Errorf("%s: %s differs (-update rewrites it):\n--- got\n%s--- want\n%s", name, rel, got[rel], w)
				}
			}
		})
	}
}

// goldenFiles are the mailbox files compared in full.
func goldenFile(rel string) bool {
	return rel == CalendarFile || rel == ContactsFile || rel == ConflictsJSON || strings.HasPrefix(rel, IncomingDir+"/")
}

func replay(t *testing.T, root string, sc *scenario) map[string]string {
	e := newEnv(t)
	clk := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { clk = clk.Add(time.Second); return clk }
	outside := filepath.Join(e.root, "outside")
	var out strings.Builder
	fmt.Fprintf(&out, "# %s\n", sc.Description)
	usersSeen := map[string]bool{}
	for i, st := range sc.Steps {
		usersSeen[st.User] = true
		src := e.src(st.User)
		if err := os.MkdirAll(src, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range slices.Sorted(maps.Keys(st.Put)) {
			put(t, src, name, read(t, filepath.Join(root, "items", st.Put[name])))
		}
		for _, name := range slices.Sorted(maps.Keys(st.Outside)) {
			put(t, outside, name, strings.ReplaceAll(st.Outside[name], "\n", "\r\n"))
		}
		for _, name := range slices.Sorted(maps.Keys(st.PutText)) {
			p := filepath.Join(src, name)
			info, statErr := os.Stat(p)
			put(t, src, name, strings.ReplaceAll(st.PutText[name], "\n", "\r\n"))
			if st.KeepTime && statErr == nil {
				if err := os.Chtimes(p, info.ModTime(), info.ModTime()); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, name := range slices.Sorted(maps.Keys(st.Symlink)) {
			target := st.Symlink[name]
			if !filepath.IsAbs(target) {
				target = filepath.Join(outside, target)
			}
			if err := os.Symlink(target, filepath.Join(src, name)); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range st.Fifo {
			if err := mkfifo(filepath.Join(src, name)); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range st.Remove {
			remove(t, src, name)
		}
		if g := st.Generate; g != nil {
			for n := 1; n <= g.Count; n++ {
				uid := fmt.Sprintf("%s%d", g.Prefix, n)
				put(t, src, uid+".ics", icsEvent(uid, "Generated "+uid))
			}
		}
		if st.Import != "" {
			coll, uid, _ := strings.Cut(st.Import, "/")
			ext := ".ics"
			if coll == Contacts {
				ext = ".vcf"
			}
			put(t, src, FileName(uid)+ext, read(t, filepath.Join(e.mailbox(st.User), coll, FileName(uid)+ext)))
		}
		if st.ImportAll {
			importAll(t, e.mailbox(st.User), src)
		}
		if st.LoseState {
			if err := e.store.Delete(context.Background(), snapshot.StateKey(st.User)); err != nil {
				t.Fatal(err)
			}
		}
		if !st.Sync {
			continue
		}
		o := e.opts(st.User)
		o.Now = now
		o.Rand = rand.New(rand.NewPCG(uint64(i), 1))
		o.AllowMassDelete = st.AllowMassDelete
		o.Machine = st.Machine
		if o.Machine == "" {
			o.Machine = "pc-" + st.User
		}
		res, err := Sync(context.Background(), o)
		kind := ""
		switch {
		case errors.Is(err, ErrEmptySide):
			kind = "empty-side"
		case errors.Is(err, ErrMassDelete):
			kind = "mass-delete"
		case errors.Is(err, ErrOtherMachine):
			kind = "other-machine"
		case err != nil:
			t.Fatalf("step %d: sync %s: %v", i+1, st.User, err)
		}
		if kind != st.ExpectError {
			t.Fatalf("step %d: sync %s: error %q (%v), want %q", i+1, st.User, kind, err, st.ExpectError)
		}
		if err != nil {
			fmt.Fprintf(&out, "step %d: %s: refused (%s)\n", i+1, st.User, kind)
			continue
		}
		fmt.Fprintf(&out, "step %d: %s: %s\n", i+1, st.User, res.Summary())
		for _, c := range res.Conflicts {
			fmt.Fprintf(&out, "  conflict %s/%s %s %s: ours (%s) %s theirs (%s) %s -> %s\n", c.Collection, c.UID, c.Kind, c.Field, c.OursBy, str(c.Ours), c.TheirsBy, str(c.Theirs), c.Resolution)
		}
		for _, p := range res.Problems {
			fmt.Fprintf(&out, "  not read: %s\n", strings.ReplaceAll(p.String(), e.root, "ROOT"))
		}
		for _, d := range res.Duplicates {
			fmt.Fprintf(&out, "  duplicate: %s\n", d)
		}
	}
	got := map[string]string{}
	m := e.latest()
	if m == nil {
		out.WriteString("final: empty\n")
	} else {
		fmt.Fprintf(&out, "final: revision %d\n", m.Rev)
		var lines []string
		for coll, items := range m.Collections {
			for uid, en := range items {
				lines = append(lines, fmt.Sprintf("  %s/%s %q", coll, uid, en.Title))
			}
		}
		sort.Strings(lines)
		out.WriteString(strings.Join(lines, "\n") + "\n")
	}
	got["steps.txt"] = out.String()
	for u := range usersSeen {
		mb := e.mailbox(u)
		_ = filepath.WalkDir(mb, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			rel, _ := filepath.Rel(mb, p)
			rel = filepath.ToSlash(rel)
			if goldenFile(rel) {
				got[u+"/"+rel] = strings.ReplaceAll(read(t, p), "\r\n", "\n")
			}
			return nil
		})
	}
	return got
}

// importAll imports every item of a mailbox's calendar/ and contacts/ into
// src the way a client does: into the file that holds the item's UID,
// else into a new file.
func importAll(t fataler, mailbox, src string) {
	t.Helper()
	byUID := map[string]string{}
	ents, _ := os.ReadDir(src)
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			continue
		}
		for _, u := range uidRE.FindAllStringSubmatch(strings.ReplaceAll(string(data), "\r\n ", ""), -1) {
			if _, ok := byUID[u[1]]; !ok {
				byUID[u[1]] = e.Name()
			}
		}
	}
	for _, d := range []string{CalendarDir, ContactsDir} {
		items, _ := os.ReadDir(filepath.Join(mailbox, d))
		for _, it := range items {
			data, err := os.ReadFile(filepath.Join(mailbox, d, it.Name()))
			if err != nil {
				t.Fatal(err)
			}
			m := uidRE.FindStringSubmatch(strings.ReplaceAll(string(data), "\r\n ", ""))
			if m == nil {
				continue
			}
			name, ok := byUID[m[1]]
			if !ok {
				name = "imp-" + it.Name()
			}
			if old, err := os.ReadFile(filepath.Join(src, name)); err == nil && string(old) == string(data) {
				continue
			}
			put(t, src, name, string(data))
		}
	}
}

func str(p *string) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%q", *p)
}
