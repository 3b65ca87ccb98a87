package syncer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/snapshot"
)

// TestMailboxWorkersLostObject: the mailbox's item files are fetched and
// written by several workers; an object lost from the store costs only its
// own file, the files written are listed in order, the combined calendar
// holds the others, and the next run (the object back) completes the
// mailbox.
func TestMailboxWorkersLostObject(t *testing.T) {
	e := newEnv(t)
	const n = 40
	for i := range n {
		put(t, e.src("alice"), fmt.Sprintf("e%02d.ics", i), icsEvent(fmt.Sprintf("E%02d", i), fmt.Sprintf("Event %d", i)))
	}
	e.sync("alice")
	lost := e.latest().Collections[Calendar]["E17"].Hash
	key := snapshot.ObjectKey(lost)
	data, _, err := e.store.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Delete(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	res := e.sync("bob")
	var want []string
	for i := range n {
		if i != 17 {
			want = append(want, fmt.Sprintf("%s/E%02d.ics", CalendarDir, i))
		}
	}
	var items []string
	for _, f := range res.Files {
		if strings.HasPrefix(f, CalendarDir+"/") {
			items = append(items, f)
		}
	}
	if !slices.Equal(items, want) {
		t.Errorf("item files written:\n%v\nwant\n%v", items, want)
	}
	if _, err := os.Stat(filepath.Join(e.mailbox("bob"), CalendarDir, "E17.ics")); !os.IsNotExist(err) {
		t.Errorf("the lost item's file: %v", err)
	}
	all := read(t, filepath.Join(e.mailbox("bob"), CalendarFile))
	if got := strings.Count(all, "BEGIN:VEVENT"); got != n-1 || strings.Contains(all, "UID:E17") {
		t.Errorf("calendar.ics holds %d events (E17: %v)", got, strings.Contains(all, "UID:E17"))
	}
	if idx := readIndex(e.mailbox("bob")); idx == nil || idx.Rev != 0 || len(idx.Files) != n-1 {
		t.Errorf("index after a lost object: %+v", idx)
	}
	if _, err := e.store.Put(context.Background(), key, data, sinkCondNone()); err != nil {
		t.Fatal(err)
	}
	res = e.sync("bob")
	if !slices.Equal(res.Files[:1], []string{CalendarDir + "/E17.ics"}) {
		t.Errorf("the next run wrote %v first, want the item file that was missing", res.Files)
	}
	all = read(t, filepath.Join(e.mailbox("bob"), CalendarFile))
	if got := strings.Count(all, "BEGIN:VEVENT"); got != n {
		t.Errorf("calendar.ics holds %d events after the object is back, want %d", got, n)
	}
}

// TestMailboxNewFolder: a first delivery makes calendar/ whole in one step
// (nothing hidden left beside it); when the folder is made meanwhile (here
// by the item source itself), its files are written one by one into it,
// and what was there stays; a hidden folder left by an interrupted run is
// removed.
func TestMailboxNewFolder(t *testing.T) {
	for _, meanwhile := range []bool{false, true} {
		t.Run(fmt.Sprintf("made meanwhile %v", meanwhile), func(t *testing.T) {
			dir := t.TempDir()
			leftover := filepath.Join(dir, ".pstsync-new-calendar-x")
			if err := os.MkdirAll(leftover, 0o755); err != nil {
				t.Fatal(err)
			}
			items := map[merge.Key]ViewItem{}
			for i := range 40 {
				items[merge.Key{Coll: Calendar, UID: fmt.Sprintf("u%02d", i)}] = ViewItem{Hash: fmt.Sprintf("h%02d", i), Kind: merge.KindEvent}
			}
			var once sync.Once
			v := &View{User: "ann", Rev: 1, Items: items, Incoming: map[merge.Key]bool{},
				Bytes: func(_ context.Context, k merge.Key, _ ViewItem) ([]byte, error) {
					if meanwhile {
						once.Do(func() {
							if err := os.MkdirAll(filepath.Join(dir, CalendarDir), 0o755); err != nil {
								t.Error(err)
							}
							if err := os.WriteFile(filepath.Join(dir, CalendarDir, "theirs.ics"), []byte("theirs"), 0o644); err != nil {
								t.Error(err)
							}
						})
					}
					return []byte(icsEventText(k.UID)), nil
				}}
			written, err := (&Mailbox{Dir: dir}).Deliver(context.Background(), v)
			if err != nil {
				t.Fatal(err)
			}
			ents, err := os.ReadDir(filepath.Join(dir, CalendarDir))
			if err != nil {
				t.Fatal(err)
			}
			want := 40
			if meanwhile {
				want++
			}
			if len(ents) != want {
				t.Fatalf("%d files in calendar/, want %d", len(ents), want)
			}
			for k := range items {
				p := filepath.Join(dir, filepath.FromSlash(vdirPath(k.Coll, k.UID, merge.KindEvent)))
				if got := read(t, p); got != icsEventText(k.UID) {
					t.Fatalf("%s: %q", p, got)
				}
			}
			if meanwhile && read(t, filepath.Join(dir, CalendarDir, "theirs.ics")) != "theirs" {
				t.Fatal("a file of the folder made meanwhile was changed")
			}
			top, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range top {
				if strings.HasPrefix(e.Name(), ".pstsync-new-") {
					t.Errorf("left beside the mailbox: %s", e.Name())
				}
			}
			if n := len(written); n < 40 {
				t.Errorf("%d files reported written", n)
			}
			if idx := readIndex(dir); idx == nil || len(idx.Files) != 40 {
				t.Fatalf("index: %+v", idx)
			}
		})
	}
}

func icsEventText(uid string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\nSUMMARY:s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}
