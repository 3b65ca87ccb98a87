package syncer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/snapshot"
)

// The tests write their source files moments before each sync: by the
// racily-clean rule none of them would have its metadata kept, and every
// test would read every file as before. So the package's tests see files
// through a clock an hour ahead (their metadata kept, unchanged files not
// read: the model test and the scenarios then run on the metadata
// shortcut); the tests of the rule itself use the real clock
// (realFileClock).
func init() { fileClock = func() time.Time { return time.Now().Add(time.Hour) } }

func realFileClock(t *testing.T) {
	old := fileClock
	fileClock = time.Now
	t.Cleanup(func() { fileClock = old })
}

// readSide reads dir with a FolderReader against prev (the last read).
func readSide(t *testing.T, dir string, prev *PrevSide) *Side {
	t.Helper()
	fr := &FolderReader{Dir: dir, MaxFileSize: DefaultMaxFileSize}
	s, err := fr.ReadSide(context.Background(), prev)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// prevOf is what a run that read s would know next time.
func prevOf(s *Side) *PrevSide {
	p := &PrevSide{Sources: map[string]snapshot.Source{}}
	for _, it := range s.Items {
		uid := ""
		if it.Doc != nil {
			uid = it.Doc.UID
		} else {
			uid = it.Key[strings.LastIndex(it.Key, "#")+1:]
		}
		p.Links = append(p.Links, snapshot.Link{Key: it.Key, UID: uid, Collection: it.Collection, Source: it.Source,
			Marker: snapshot.Marker{Hash: snapshot.HashOf([]byte(it.Key))}})
	}
	for _, src := range s.Sources {
		p.Sources[src.Key] = src
	}
	return p
}

func decodedSummary(t *testing.T, s *Side, source string) string {
	t.Helper()
	for _, it := range s.Items {
		if it.Source == source {
			if it.Doc == nil {
				return ""
			}
			return it.Doc.Title()
		}
	}
	t.Fatalf("no item from %s", source)
	return ""
}

// TestStatUnchangedNotRead: a file whose metadata is as it was is not
// read; one rewritten in place with its size and modification time kept
// (touch -d) is read, told by its status-change time.
func TestStatUnchangedNotRead(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "a.ics", icsEvent("a", "Alpha"))
	put(t, dir, "b.ics", icsEvent("b", "Bravo"))
	put(t, dir, "sub/c.vcf", vcfCard("c", "Charlie"))
	s1 := readSide(t, dir, &PrevSide{Sources: map[string]snapshot.Source{}})
	if s1.FilesRead != 3 {
		t.Fatalf("first read: %d files read, want 3", s1.FilesRead)
	}
	for _, src := range s1.Sources {
		if src.Stat.IsZero() || src.Stat.Size == 0 || src.Stat.Inode == 0 {
			t.Errorf("source %s: no metadata kept: %+v", src.Key, src.Stat)
		}
	}
	prev := prevOf(s1)
	s2 := readSide(t, dir, prev)
	if s2.FilesRead != 0 || s2.Decoded != 0 || len(s2.Items) != 3 {
		t.Fatalf("unchanged files: %d read, %d decoded, %d items; want 0, 0, 3", s2.FilesRead, s2.Decoded, len(s2.Items))
	}
	for i, src := range s2.Sources {
		if src != s1.Sources[i] {
			t.Errorf("source %s as kept: %+v, want %+v", src.Key, src, s1.Sources[i])
		}
	}

	// Rewritten in place: same size, modification time put back.
	p := filepath.Join(dir, "b.ics")
	before, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // a status-change time of its own
	if err := os.WriteFile(p, []byte(icsEvent("b", "Bravi")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, before.ModTime(), before.ModTime()); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("the rewrite changed size or time: %d %v → %d %v", before.Size(), before.ModTime(), after.Size(), after.ModTime())
	}
	s3 := readSide(t, dir, prev)
	if s3.FilesRead != 1 {
		t.Errorf("after rewriting b.ics in place: %d files read, want 1", s3.FilesRead)
	}
	if got := decodedSummary(t, s3, "b.ics"); got != "Bravi" {
		t.Errorf("b.ics read as %q, want the new summary Bravi", got)
	}
	if got := decodedSummary(t, s3, "a.ics"); got != "" {
		t.Errorf("a.ics decoded (%q) although unchanged", got)
	}

	// Truncated in place with its time kept: read, cut short, not clean.
	data := icsEvent("a", "Alpha")
	pa := filepath.Join(dir, "a.ics")
	fa, _ := os.Stat(pa)
	if err := os.WriteFile(pa, []byte(data[:len(data)-20]), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(pa, fa.ModTime(), fa.ModTime()); err != nil {
		t.Fatal(err)
	}
	s4 := readSide(t, dir, prev)
	for _, src := range s4.Sources {
		if src.Key == "a.ics" && src.Clean {
			t.Errorf("truncated a.ics taken as clean: %+v", src)
		}
	}
	// A file that is gone is gone, whatever its metadata said.
	remove(t, dir, "sub/c.vcf")
	s5 := readSide(t, dir, prev)
	for _, src := range s5.Sources {
		if src.Key == "sub/c.vcf" {
			t.Errorf("removed file still a source: %+v", src)
		}
	}
}

// TestStatRacilyClean: a file changed within racyWindow before the read
// keeps no metadata, so a change in the same clock tick, size and times
// kept, is still seen by the next run.
func TestStatRacilyClean(t *testing.T) {
	realFileClock(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "a.ics")
	if err := os.WriteFile(p, []byte(icsEvent("a", "Alpha")), 0o644); err != nil {
		t.Fatal(err)
	}
	put(t, dir, "old.ics", icsEvent("o", "Old")) // modification time 2025, status change now
	s1 := readSide(t, dir, &PrevSide{Sources: map[string]snapshot.Source{}})
	for _, src := range s1.Sources {
		if !src.Stat.IsZero() {
			t.Errorf("%s changed just now, yet its metadata was kept: %+v", src.Key, src.Stat)
		}
	}
	fi, _ := os.Stat(p)
	if err := os.WriteFile(p, []byte(icsEvent("a", "Alphi")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	s2 := readSide(t, dir, prevOf(s1))
	if got := decodedSummary(t, s2, "a.ics"); got != "Alphi" {
		t.Errorf("a.ics edited in the same second as the last read: read as %q, want Alphi", got)
	}
}

// TestStatSync: through Sync, a file rewritten in place with its size
// and modification time kept reaches the store; a quiet run reads no
// file and writes nothing.
func TestStatSync(t *testing.T) {
	e := newEnv(t)
	put(t, e.src("alice"), "a.ics", icsEvent("a", "Alpha"))
	put(t, e.src("alice"), "b.ics", icsEvent("b", "Bravo"))
	e.sync("alice")
	res := e.sync("alice")
	if res.Committed || res.Decoded != 0 {
		t.Errorf("quiet run: committed %v, decoded %d", res.Committed, res.Decoded)
	}
	p := filepath.Join(e.src("alice"), "a.ics")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if err := os.WriteFile(p, []byte(icsEvent("a", "Alphi")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	res = e.sync("alice")
	if !res.Committed || res.Modified != 1 {
		t.Fatalf("in-place rewrite: committed %v, modified %d", res.Committed, res.Modified)
	}
	if got := e.object(Calendar, "a"); !strings.Contains(got, "Alphi") {
		t.Errorf("stored a:\n%s", got)
	}
}
