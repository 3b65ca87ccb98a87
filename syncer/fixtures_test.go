package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/snapshot"
)

var update = flag.Bool("update", false, "rewrite the golden files of fixtures/")

type scenario struct {
	Description string `json:"description"`
	Steps       []struct {
		User     string            `json:"user"`
		Put      map[string]string `json:"put"`
		Remove   []string          `json:"remove"`
		Generate *struct {
			Prefix string
			Count  int
		} `json:"generate"`
		Import          string `json:"import"`
		LoseState       bool   `json:"lose_state"`
		Sync            bool   `json:"sync"`
		AllowMassDelete bool   `json:"allow_mass_delete"`
		ExpectError     string `json:"expect_error"`
	} `json:"steps"`
}

// TestFixtures replays fixtures/scenarios/*.json and compares the outcome
// with fixtures/golden/*.txt (-update rewrites them).
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
			golden := filepath.Join(root, "golden", name+".txt")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./syncer -run Fixtures -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s (-update rewrites it):\n--- got\n%s--- want\n%s", name, golden, got, want)
			}
		})
	}
}

func replay(t *testing.T, root string, sc *scenario) string {
	e := newEnv(t)
	var out strings.Builder
	fmt.Fprintf(&out, "# %s\n", sc.Description)
	for i, st := range sc.Steps {
		src := e.src(st.User)
		if err := os.MkdirAll(src, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range slices.Sorted(maps.Keys(st.Put)) {
			put(t, src, name, read(t, filepath.Join(root, "items", st.Put[name])))
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
		if st.LoseState {
			if err := e.store.Delete(context.Background(), snapshot.StateKey(st.User)); err != nil {
				t.Fatal(err)
			}
		}
		if !st.Sync {
			continue
		}
		o := e.opts(st.User)
		o.AllowMassDelete = st.AllowMassDelete
		res, err := Sync(context.Background(), o)
		kind := ""
		switch {
		case errors.Is(err, ErrEmptySide):
			kind = "empty-side"
		case errors.Is(err, ErrMassDelete):
			kind = "mass-delete"
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
	}
	m := e.latest()
	if m == nil {
		return out.String() + "final: empty\n"
	}
	fmt.Fprintf(&out, "final: revision %d\n", m.Rev)
	var lines []string
	for coll, items := range m.Collections {
		for uid, en := range items {
			lines = append(lines, fmt.Sprintf("  %s/%s %q", coll, uid, en.Title))
		}
	}
	sort.Strings(lines)
	return out.String() + strings.Join(lines, "\n") + "\n"
}

func str(p *string) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%q", *p)
}
