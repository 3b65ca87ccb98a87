package fake_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/outlook"
	"github.com/pstsync/pstsync/outlook/fake"
	"github.com/pstsync/pstsync/pst"
)

// lossKind names a difference by its field: "lost ATTENDEE", "changed
// RID/DTSTART".
func lossKind(d string) string {
	verb, rest, _ := strings.Cut(d, " ")
	name := rest
	if i := strings.IndexAny(rest, ";:"); i >= 0 {
		name = rest[:i]
	}
	return verb + " " + name
}

// TestSamplesThroughOutlook measures what the write path loses: every
// appointment and contact of the sample PSTs is converted as the PST path
// does (Doc₁), written into the fake Outlook through the typed members,
// read back through the same properties and converters (Doc₂), and the
// differing fields are counted by kind. Every item must come back
// unchanged; README ("Outlook live") quotes the figures.
func TestSamplesThroughOutlook(t *testing.T) {
	ctx := context.Background()
	o := fake.New()
	o.Local, _ = time.LoadLocation("Europe/Paris")
	items, same := 0, 0
	losses := map[string]int{}
	for _, name := range []string{"sedatools__ContactCalendar-test.pst", "java-libpst__dist-list.pst", "aspose__SampleContacts.pst", "aspose__Test_part1.pst", "PstReader__hughbe_Outlook.pst"} {
		f, err := pst.Open(testutil.Sample(t, name))
		if err != nil {
			t.Fatal(err)
		}
		err = f.Walk(ctx, func(fo *pst.Folder) error {
			refs, err := fo.Items()
			if err != nil {
				return err
			}
			for _, r := range refs {
				k := pst.KindOf(r.Class)
				if k != pst.KindAppointment && k != pst.KindContact {
					continue
				}
				m, err := f.Message(r.NID)
				if err != nil {
					return err
				}
				d1, err := outlook.ToDoc(&outlook.Item{Entry: outlook.Entry{ID: fmt.Sprint(r.NID)}, Msg: m})
				if err != nil {
					t.Errorf("%s %d: %v", name, r.NID, err)
					continue
				}
				items++
				w, err := outlook.FromDoc(d1)
				if err != nil {
					losses["refused: "+err.Error()]++
					continue
				}
				folder := outlook.FolderRef{Kind: outlook.Calendar}
				if k == pst.KindContact {
					folder.Kind = outlook.Contacts
				}
				e, err := o.Write(ctx, folder, "", w)
				if err != nil {
					losses["refused by Outlook: "+err.Error()]++
					continue
				}
				it, err := o.Read(ctx, folder, e.ID)
				if err != nil {
					t.Fatal(err)
				}
				d2, err := outlook.ToDoc(it)
				if err != nil {
					t.Fatal(err)
				}
				diffs := outlook.Diff(d1, d2)
				if len(diffs) == 0 {
					same++
				}
				for _, d := range diffs {
					losses[lossKind(d)]++
					t.Logf("%s %s %q: %s", name, k, d1.Title(), d)
				}
			}
			return nil
		})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	var sb strings.Builder
	for _, k := range slices.Sorted(maps.Keys(losses)) {
		fmt.Fprintf(&sb, "%s: %d\n", k, losses[k])
	}
	t.Logf("%d items, %d unchanged; differences by kind:\n%s", items, same, sb.String())
	// Outlook gives every appointment a time zone (UTC times written
	// carry the pstsyncUTC user property and come back as UTC times; an
	// item of real Outlook's own "UTC" zone keeps TZID=Etc/UTC) and takes
	// a series' week start from the user's calendar options (the RRULE
	// written is kept in a user property): every item comes back
	// unchanged.
	if items != 60 || same != items || len(losses) != 0 {
		t.Errorf("%d items, %d unchanged, differences %v; want 60, all unchanged", items, same, losses)
	}
}
