package merge

import (
	"bytes"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/<case>/")

// readSide reads testdata/<case>/<side>.vcf or .ics as a one-item
// collection (empty when the file is absent: the item was deleted).
func readSide(t *testing.T, dir, side string) (map[string]*Doc, string) {
	t.Helper()
	for _, ext := range []string{".vcf", ".ics"} {
		data, err := os.ReadFile(filepath.Join(dir, side+ext))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var d *Doc
		if ext == ".vcf" {
			c, err := vcard.NewDecoder(bytes.NewReader(data)).Decode()
			if err != nil {
				t.Fatalf("%s: %v", side, err)
			}
			if d, err = FromVCard(c); err != nil {
				t.Fatalf("%s: %v", side, err)
			}
		} else {
			c, err := ical.NewDecoder(bytes.NewReader(data)).Decode()
			if err != nil {
				t.Fatalf("%s: %v", side, err)
			}
			if d, err = FromCalendar(c); err != nil {
				t.Fatalf("%s: %v", side, err)
			}
		}
		return map[string]*Doc{d.UID: d}, ext
	}
	return map[string]*Doc{}, ""
}

func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "*", "base.*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, b := range dirs {
		dir := filepath.Dir(b)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			base, ext := readSide(t, dir, "base")
			ours, _ := readSide(t, dir, "ours")
			theirs, _ := readSide(t, dir, "theirs")
			r := MergeCollection(base, ours, theirs, Options{Collection: filepath.Base(dir), OursBy: "alice", TheirsBy: "bob"})
			var merged bytes.Buffer
			for _, uid := range slices.Sorted(maps.Keys(r.Merged)) {
				merged.Write(Canonical(r.Merged[uid]))
			}
			if r.Conflicts == nil {
				r.Conflicts = []Conflict{}
			}
			conflicts, err := json.MarshalIndent(r.Conflicts, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			conflicts = append(conflicts, '\n')
			for name, got := range map[string][]byte{"merged" + ext: merged.Bytes(), "conflicts.json": conflicts} {
				p := filepath.Join(dir, name)
				if *update {
					if err := os.WriteFile(p, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(p)
				if err != nil {
					t.Fatalf("%v (run with -update to create)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs (run with -update to accept):\n%s", p, got)
				}
			}
			// Merging the result with itself is a fixed point.
			again := MergeCollection(r.Merged, r.Merged, r.Merged, Options{})
			if len(again.Conflicts) != 0 || len(again.Merged) != len(r.Merged) {
				t.Error("result is not a fixed point")
			}
		})
	}
}
