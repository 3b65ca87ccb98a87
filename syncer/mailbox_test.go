package syncer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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
