package migrate_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pstsync/pstsync/internal/damage"
	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/migrate"
	"github.com/pstsync/pstsync/pst"
)

// comparable reports whether readpst writes items of kind k as files of
// its own (.eml, .vcf, .ics): the kinds both readers' counts include.
func comparable(k pst.Kind) bool {
	switch k {
	case pst.KindMail, pst.KindContact, pst.KindAppointment, pst.KindJournal:
		return true
	}
	return false
}

// exportCounts exports path (every folder, as readpst does) and returns
// the items written per kind and the file's report; it fails the test
// when the export takes longer than a minute (a hang).
func exportCounts(t *testing.T, path, out string) (map[pst.Kind]int, *migrate.FileReport) {
	t.Helper()
	type done struct {
		rep *migrate.Report
		err error
	}
	ch := make(chan done, 1)
	go func() {
		rep, err := migrate.Export(context.Background(), []string{path}, migrate.Options{Out: out, AllFolders: true, NoSync: true, Workers: 1})
		ch <- done{rep, err}
	}()
	var d done
	select {
	case d = <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("%s: export still running after a minute (hang)", filepath.Base(path))
	}
	if d.err != nil {
		t.Fatalf("%s: export: %v", filepath.Base(path), d.err)
	}
	fr := d.rep.Files[0]
	counts := map[pst.Kind]int{}
	for _, fo := range fr.Folders {
		for class, c := range fo.Classes {
			counts[pst.KindOf(class)] += c.Written
		}
	}
	return counts, fr
}

// readpstCount runs readpst as scripts/compare-readers does and counts
// the items it wrote: .eml (mail), .vcf (contacts), .ics (appointments
// and journal entries), one file per item.
func readpstCount(t *testing.T, readpst, path, out string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	// readpst fails (or crashes) on some damaged files: what it wrote
	// before counts.
	_ = exec.CommandContext(ctx, readpst, "-D", "-j", "0", "-e", "-o", out, path).Run()
	n := 0
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			switch filepath.Ext(p) {
			case ".eml", ".vcf", ".ics":
				n++
			}
		}
		return nil
	})
	return n
}

// itemsOf reads every item of the PST at path with pst.Salvage, by node
// id: its class and subject.
func itemsOf(t *testing.T, path string) map[uint32]string {
	t.Helper()
	out := map[uint32]string{}
	f, err := pst.OpenRecover(path)
	if err != nil {
		return out
	}
	defer f.Close()
	f.Walk(context.Background(), func(fo *pst.Folder) error {
		if fo.IsSearchFolder() {
			return nil
		}
		refs, _ := fo.Items()
		for _, r := range refs {
			if m, err := f.Salvage(r.NID); err == nil {
				out[r.NID] = m.Class()
				m.Release()
			}
		}
		return nil
	})
	return out
}

// TestDamagedFiles runs the damaged-file set (internal/damage: 30 copies
// of each of six samples, as scripts/make-damaged writes them) through the
// export and through readpst. On every file: no crash, no hang, at least
// as many items written as readpst writes (of the kinds it writes), and
// nothing that is not in the intact file: every item read has the node id
// and class of an item of the intact file, and no kind gets more items
// than the intact file has.
func TestDamagedFiles(t *testing.T) {
	readpst := testutil.NeedTool(t, "readpst")
	dir := t.TempDir()
	var mu sync.Mutex
	var lines []string
	totalOurs, totalTheirs, files := 0, 0, 0
	for _, name := range damage.Samples {
		orig, err := os.ReadFile(testutil.Sample(t, name+".pst"))
		if err != nil {
			t.Fatal(err)
		}
		intactPath := filepath.Join(dir, name+".pst")
		if err := os.WriteFile(intactPath, orig, 0o644); err != nil {
			t.Fatal(err)
		}
		intact, _ := exportCounts(t, intactPath, filepath.Join(dir, "intact-"+name))
		intactItems := itemsOf(t, intactPath)
		t.Run(name, func(t *testing.T) {
			for _, c := range damage.Make(name, orig) {
				t.Run(strings.TrimSuffix(strings.TrimPrefix(c.Name, name+"."), ".pst"), func(t *testing.T) {
					t.Parallel()
					path := filepath.Join(dir, c.Name)
					if err := os.WriteFile(path, c.Data, 0o644); err != nil {
						t.Fatal(err)
					}
					ours, fr := exportCounts(t, path, filepath.Join(dir, "ours-"+c.Name))
					theirs := readpstCount(t, readpst, path, filepath.Join(dir, "readpst-"+c.Name))
					n := 0
					for k, v := range ours {
						if comparable(k) {
							n += v
						}
						if v > intact[k] {
							t.Errorf("%s (%s): %d %s items, the intact file has %d", c.Name, c.What, v, k, intact[k])
						}
					}
					if n < theirs {
						t.Errorf("%s (%s): pstsync wrote %d items, readpst %d; report: %+v", c.Name, c.What, n, theirs, fr)
					}
					for nid, class := range itemsOf(t, path) {
						// a class damaged into other bytes is the item's
						// damage, not another item
						if want, ok := intactItems[nid]; !ok || (!strings.EqualFold(want, class) && printable(class)) {
							t.Errorf("%s (%s): item %#x (%s) is not an item of the intact file (%q)", c.Name, c.What, nid, class, want)
						}
					}
					for _, fail := range fr.Failures {
						if strings.Contains(fail.Reason, "internal error") {
							t.Errorf("%s (%s): a panic was recovered: %s", c.Name, c.What, fail.Reason)
						}
					}
					if fr.Error != "" && strings.Contains(fr.Error, "internal error") {
						t.Errorf("%s (%s): a panic was recovered while opening: %s", c.Name, c.What, fr.Error)
					}
					mu.Lock()
					totalOurs += n
					totalTheirs += theirs
					files++
					lines = append(lines, fmt.Sprintf("%s\t%d\t%d", c.Name, n, theirs))
					mu.Unlock()
				})
			}
		})
	}
	t.Logf("%d damaged files: pstsync wrote %d items, readpst %d", files, totalOurs, totalTheirs)
	if files != len(damage.Samples)*damage.PerFile {
		t.Errorf("%d damaged files, want %d", files, len(damage.Samples)*damage.PerFile)
	}
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7E {
			return false
		}
	}
	return true
}
