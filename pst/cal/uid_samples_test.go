package cal

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/pst"
)

// copyOfMeeting is one item that carries a PidLidGlobalObjectId.
type copyOfMeeting struct {
	sample, folder, class, subject string
	nid                            uint32
	uid                            string // UID of the converted VEVENT
}

// TestSampleUIDsAcrossCopies: every copy of one meeting — whatever the
// file, folder or message class — gets the same UID in its converted
// VEVENT. Items are grouped by PidLidGlobalObjectId with the instance date
// zeroed ([MS-OXOCAL] 2.2.1.27: that is what identifies a meeting across
// the organizer's and the attendees' stores).
//
// The samples hold no organizer/attendee pair: no sample has an
// IPM.Schedule.Meeting.* item (checked below, so that a new sample with
// one joins this test), and no GlobalObjectId occurs in two files. The
// pairs available are within sedatools__ContactCalendar-test.pst: each
// calendar item and its copies in Éléments supprimés (deleted items),
// saved at different times. The organizer/attendee case itself (a meeting
// request carrying the instance date in its id) is TestUID's
// "instance-date-zeroed".
func TestSampleUIDsAcrossCopies(t *testing.T) {
	testutil.Sample(t, "sedatools__ContactCalendar-test.pst") // the copies checked below
	groups := map[string][]copyOfMeeting{}
	var meetingMsgs []string
	for _, path := range testutil.AllSamples(t) {
		name := filepath.Base(path)
		f, err := pst.Open(path)
		if err != nil {
			continue // damaged samples are the reader's tests' business
		}
		err = f.Walk(context.Background(), func(fo *pst.Folder) error {
			refs, err := fo.Items()
			if err != nil {
				return nil
			}
			for _, r := range refs {
				m, err := f.Message(r.NID)
				if err != nil || !IsEvent(m.Class()) {
					continue
				}
				if IsMeetingMessage(m.Class()) {
					meetingMsgs = append(meetingMsgs, fmt.Sprintf("%s %s %#x", name, m.Class(), r.NID))
				}
				g := m.Props.Binary(id(m.Props, meeting(lidGlobalObjectID)))
				if len(g) < 20 {
					continue
				}
				key := fmt.Sprintf("%X", append(append(append([]byte(nil), g[:16]...), 0, 0, 0, 0), g[20:]...))
				c, err := Event(m, Options{})
				if err != nil {
					t.Errorf("%s %#x: %v", name, r.NID, err)
					continue
				}
				uid := ""
				for _, ch := range c.Children {
					if ch.Name == "VEVENT" {
						uid = value(ch, "UID")
						break
					}
				}
				groups[key] = append(groups[key], copyOfMeeting{name, fo.PathString(), m.Class(), m.Subject(), r.NID, uid})
			}
			return nil
		})
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if len(meetingMsgs) > 0 {
		t.Errorf("samples now hold meeting messages %v: pair them with their calendar items here", meetingMsgs)
	}
	shared, crossFile := 0, 0
	for key, cs := range groups {
		files := map[string]bool{}
		for _, c := range cs {
			files[c.sample] = true
			if c.uid != cs[0].uid {
				t.Errorf("copies of meeting %s…: UID %s (%s %s %#x) and %s (%s %s %#x)", key[:40],
					cs[0].uid, cs[0].sample, cs[0].folder, cs[0].nid, c.uid, c.sample, c.folder, c.nid)
			}
		}
		if len(cs) > 1 {
			shared++
		}
		if len(files) > 1 {
			crossFile++
		}
	}
	// ContactCalendar-test.pst: 4 meetings, each in Calendrier and in
	// Éléments supprimés (5, 5, 5 and 4 copies).
	var sizes []string
	for _, cs := range groups {
		if cs[0].sample == "sedatools__ContactCalendar-test.pst" {
			folders := map[string]bool{}
			for _, c := range cs {
				folders[c.folder[strings.LastIndex(c.folder, "/")+1:]] = true
			}
			sizes = append(sizes, fmt.Sprintf("%s:%d:%d", cs[0].subject, len(cs), len(folders)))
		}
	}
	sort.Strings(sizes)
	want := "[Rdv 30-07-2019-15-00:5:2 Rdv loop 01-08-2019-1Tue-13-00:5:2 Rdv loop 01-08-2019-Mon-14-00:5:2 Rdv test-a 31-07-2019-12-00:4:2]"
	if fmt.Sprint(sizes) != want {
		t.Errorf("ContactCalendar-test.pst meetings (subject:copies:folders) %v, want %s", sizes, want)
	}
	t.Logf("%d meetings with a GlobalObjectId, %d with several copies, %d across files", len(groups), shared, crossFile)
}
