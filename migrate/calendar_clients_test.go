package migrate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/pst"
	"github.com/pstsync/pstsync/sink"
)

// meetingMessage builds a meeting message of class with the named
// properties Outlook sets on one.
func meetingMessage(class string) *pst.Message {
	namer := pst.MapNamer{
		{Set: pst.PSETIDAppointment, LID: 0x820D}: 0x8000, // PidLidAppointmentStartWhole
		{Set: pst.PSETIDAppointment, LID: 0x820E}: 0x8001, // PidLidAppointmentEndWhole
		{Set: pst.PSETIDMeeting, LID: 0x0003}:     0x8002, // PidLidGlobalObjectId
	}
	goid := append([]byte{0x04, 0x00, 0x00, 0x00, 0x82, 0x00, 0xE0, 0x00, 0x74, 0xC5, 0xB7, 0x10, 0x1A, 0x82, 0xE0, 0x08},
		make([]byte, 20)...)
	goid = append(goid, 0x10, 0, 0, 0)
	goid = append(goid, []byte("0123456789abcdef")...)
	props := pst.NewProps(namer,
		pst.Property{ID: pst.TagMessageClass, Type: pst.TypeString, Value: class},
		pst.Property{ID: pst.TagSubject, Type: pst.TypeString, Value: "Budget review"},
		pst.Property{ID: pst.TagSenderName, Type: pst.TypeString, Value: "Alice"},
		pst.Property{ID: pst.TagSenderSMTPAddress, Type: pst.TypeString, Value: "alice@example.com"},
		pst.Property{ID: 0x8000, Type: pst.TypeTime, Value: time.Date(2024, 3, 5, 9, 0, 0, 0, time.UTC)},
		pst.Property{ID: 0x8001, Type: pst.TypeTime, Value: time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC)},
		pst.Property{ID: 0x8002, Type: pst.TypeBinary, Value: goid},
	)
	rcpt := pst.NewProps(nil,
		pst.Property{ID: pst.TagRecipientType, Type: pst.TypeInt32, Value: int32(1)},
		pst.Property{ID: pst.TagDisplayName, Type: pst.TypeString, Value: "Bob"},
		pst.Property{ID: pst.TagSMTPAddress, Type: pst.TypeString, Value: "bob@example.com"},
	)
	return &pst.Message{NID: 0x200044, Props: props, Recipients: []*pst.Props{rcpt}}
}

// TestMeetingMessageICS: requests, responses and cancellations get a
// METHOD:REQUEST, REPLY or CANCEL calendar; the .ics lands beside the .eml
// of the same item in the folder's directory.
func TestMeetingMessageICS(t *testing.T) {
	for class, method := range map[string]string{
		"IPM.Schedule.Meeting.Request":   "REQUEST",
		"IPM.Schedule.Meeting.Resp.Pos":  "REPLY",
		"IPM.Schedule.Meeting.Resp.Tent": "REPLY",
		"IPM.Schedule.Meeting.Resp.Neg":  "REPLY",
		"IPM.Schedule.Meeting.Canceled":  "CANCEL",
	} {
		t.Run(class, func(t *testing.T) {
			name, data, err := meetingICS(meetingMessage(class), "Budget review_200044")
			if err != nil {
				t.Fatal(err)
			}
			if name != "Budget review_200044.ics" {
				t.Errorf("file name %q", name)
			}
			c, err := ical.NewDecoder(bytes.NewReader(data)).Decode()
			if err != nil {
				t.Fatalf("decode: %v\n%s", err, data)
			}
			if got := c.Props.Get(ical.PropMethod); got == nil || got.Value != method {
				t.Errorf("METHOD = %v, want %s", got, method)
			}
			var ev *ical.Component
			for _, ch := range c.Children {
				if ch.Name == ical.CompEvent {
					ev = ch
				}
			}
			if ev == nil || !strings.HasPrefix(ev.Props.Get(ical.PropUID).Value, "040000008200E00074C5B7101A82E008") {
				t.Fatalf("VEVENT %v", ev)
			}
		})
	}

	out := t.TempDir()
	mw, err := sink.NewMailWriter(sink.FormatEML, out)
	if err != nil {
		t.Fatal(err)
	}
	batch := sink.NewBatch()
	fo := &pst.Folder{Name: "Inbox", Path: []string{"Top", "Inbox"}}
	name, data, err := meetingICS(meetingMessage("IPM.Schedule.Meeting.Request"), "Budget review_200044")
	if err != nil {
		t.Fatal(err)
	}
	r := result{mail: &sink.MailItem{Raw: []byte("Subject: Budget review\r\n\r\nhi\r\n"), Name: "Budget review", Key: "200044"}, extraFile: name, extraData: data}
	if err := write(context.Background(), mw, batch, out, fo, r, 1); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := batch.Sync(); err != nil {
		t.Fatal(err)
	}
	var emls, icss []string
	filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
		switch {
		case err != nil || fi.IsDir():
		case strings.HasSuffix(p, ".eml"):
			emls = append(emls, p)
		case strings.HasSuffix(p, ".ics"):
			icss = append(icss, p)
		}
		return nil
	})
	if len(emls) != 1 || len(icss) != 1 || filepath.Dir(emls[0]) != filepath.Dir(icss[0]) {
		t.Errorf("files %v and %v, want one .eml and one .ics in the same directory", emls, icss)
	}
}

// TestExportedSeriesExpand exports the samples with recurring
// appointments and expands the exported series with ical.js
// (scripts/js/expand.js): the weekly series of ContactCalendar-test.pst
// has its 25 occurrences without the deleted 12-08-2019, the monthly one
// its 5, dist-list.pst's keeps 8:00 Los Angeles time after the change to
// PST. The occurrence-by-occurrence tables are in pst/cal.
func TestExportedSeriesExpand(t *testing.T) {
	node, js := testutil.NeedICALJS(t)
	out := t.TempDir()
	samples := []string{testutil.Sample(t, "sedatools__ContactCalendar-test.pst"), testutil.Sample(t, "java-libpst__dist-list.pst")}
	rep, err := Export(context.Background(), samples, Options{Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Complete {
		t.Fatalf("export incomplete: %+v", rep.Totals)
	}
	var files []string
	filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".ics") {
			files = append(files, p)
		}
		return nil
	})
	cmd := exec.Command(node, append([]string{filepath.Join(js, "expand.js"), "--until", "2020-12-31"}, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("expand.js: %v\n%s", err, stderr.String())
	}
	type line struct {
		File, Summary string
		LocalStart    string `json:"local_start"`
		TZID          string
	}
	count := map[string]int{} // occurrences per Calendrier/Calendar series
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Base(filepath.Dir(l.File))
		if dir != "Calendrier" && dir != "Calendar" {
			continue
		}
		if strings.HasPrefix(l.LocalStart, "2019-08-12") {
			t.Errorf("deleted occurrence present: %+v", l)
		}
		if strings.HasPrefix(l.Summary, "Test appointment") && l.LocalStart == "2016-11-08 08:00" && l.TZID != "America/Los_Angeles" {
			t.Errorf("dist-list occurrence %+v", l)
		}
		if strings.HasPrefix(l.Summary, "Test appointment") && l.LocalStart[:10] <= "2016-11-29" {
			count["dist-list"]++
		} else {
			count[strings.TrimSuffix(l.Summary, " modified")]++
		}
	}
	for k, want := range map[string]int{"Rdv loop 01-08-2019-Mon-14-00": 25, "Rdv loop 01-08-2019-1Tue-13-00": 5, "dist-list": 17} {
		if count[k] != want {
			t.Errorf("%s: %d occurrences in the exported calendar, want %d (all: %v)", k, count[k], want, count)
		}
	}
}
