package freebusy

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/sink"
)

func event(t *testing.T, body string) *merge.Doc {
	t.Helper()
	text := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" + strings.ReplaceAll(strings.TrimSpace(body), "\n", "\r\n") + "\r\nEND:VCALENDAR\r\n"
	d, err := merge.DecodeCalendar([]byte(text))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	return d
}

func ev(uid, extra string) string {
	return "BEGIN:VEVENT\nUID:" + uid + "\nDTSTAMP:20260101T000000Z\n" + strings.TrimSpace(extra) + "\nEND:VEVENT"
}

var now = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC) // a Thursday

func periods(ps []Period) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Type+" "+p.Start.Format("01-02T15:04")+"/"+p.End.Format("01-02T15:04"))
	}
	return strings.Join(s, "\n")
}

func TestCompute(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	tests := []struct {
		name string
		body string
		want string
	}{
		{"busy event in a zone", ev("a", "DTSTART;TZID=Europe/Berlin:20261207T090000\nDTEND;TZID=Europe/Berlin:20261207T100000\nSUMMARY:x"),
			"BUSY 12-07T08:00/12-07T09:00"},
		{"private is busy, nothing else", ev("p", "DTSTART:20261208T120000Z\nDTEND:20261208T130000Z\nCLASS:PRIVATE\nSUMMARY:secret"),
			"BUSY 12-08T12:00/12-08T13:00"},
		{"free and cancelled take no time", ev("f", "DTSTART:20261208T120000Z\nDTEND:20261208T130000Z\nTRANSP:TRANSPARENT") + "\n" +
			ev("c", "DTSTART:20261208T140000Z\nDTEND:20261208T150000Z\nSTATUS:CANCELLED") + "\n" +
			ev("f2", "DTSTART:20261208T160000Z\nDTEND:20261208T170000Z\nX-MICROSOFT-CDO-BUSYSTATUS:FREE"), ""},
		{"tentative and out of office", ev("t", "DTSTART:20261208T120000Z\nDTEND:20261208T130000Z\nX-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE") + "\n" +
			ev("o", "DTSTART:20261209T120000Z\nDTEND:20261209T130000Z\nX-MICROSOFT-CDO-BUSYSTATUS:OOF"),
			"BUSY-TENTATIVE 12-08T12:00/12-08T13:00\nBUSY-UNAVAILABLE 12-09T12:00/12-09T13:00"},
		{"all-day in the user's zone", ev("d", "DTSTART;VALUE=DATE:20261210\nDTEND;VALUE=DATE:20261212\nX-MICROSOFT-CDO-BUSYSTATUS:BUSY"),
			"BUSY 12-09T23:00/12-11T23:00"},
		{"weekly series: EXDATE, a moved occurrence, window end", ev("s",
			"DTSTART;TZID=Europe/Berlin:20261130T093000\nDTEND;TZID=Europe/Berlin:20261130T100000\nRRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=20\n"+
				"EXDATE;TZID=Europe/Berlin:20261214T093000") + "\n" +
			ev("s", "RECURRENCE-ID;TZID=Europe/Berlin:20261207T093000\nDTSTART;TZID=Europe/Berlin:20261208T140000\nDTEND;TZID=Europe/Berlin:20261208T150000"),
			"BUSY 11-30T08:30/11-30T09:00\nBUSY 12-08T13:00/12-08T14:00\nBUSY 12-21T08:30/12-21T09:00\nBUSY 12-28T08:30/12-28T09:00\n" +
				"BUSY 01-04T08:30/01-04T09:00\nBUSY 01-11T08:30/01-11T09:00\nBUSY 01-18T08:30/01-18T09:00\nBUSY 01-25T08:30/01-25T09:00\n" +
				"BUSY 02-01T08:30/02-01T09:00\nBUSY 02-08T08:30/02-08T09:00\nBUSY 02-15T08:30/02-15T09:00\nBUSY 02-22T08:30/02-22T09:00"},
		{"overlaps join; outside the window is left out", ev("x", "DTSTART:20261208T120000Z\nDTEND:20261208T130000Z") + "\n" +
			ev("y", "DTSTART:20261208T123000Z\nDTEND:20261208T140000Z") + "\n" +
			ev("old", "DTSTART:20261101T120000Z\nDTEND:20261101T130000Z") + "\n" +
			ev("far", "DTSTART:20270601T120000Z\nDTEND:20270601T130000Z"),
			"BUSY 12-08T12:00/12-08T14:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var docs []*merge.Doc
			for _, part := range strings.Split(tc.body, "END:VEVENT\n") {
				if !strings.HasSuffix(part, "END:VEVENT") {
					part += "END:VEVENT"
				}
				docs = append(docs, event(t, part))
			}
			// Master and override of one series are one doc.
			docs = joinByUID(t, docs)
			_, ps, errs := Compute(docs, Options{Now: now, Local: berlin, Name: "anna"})
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if got := periods(ps); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// joinByUID decodes master and overrides of a UID as one calendar.
func joinByUID(t *testing.T, docs []*merge.Doc) []*merge.Doc {
	by := map[string][]*merge.Doc{}
	var order []string
	for _, d := range docs {
		if by[d.UID] == nil {
			order = append(order, d.UID)
		}
		by[d.UID] = append(by[d.UID], d)
	}
	var out []*merge.Doc
	for _, uid := range order {
		ds := by[uid]
		if len(ds) == 1 {
			out = append(out, ds[0])
			continue
		}
		var b bytes.Buffer
		b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n")
		for _, d := range ds {
			c, err := merge.ToCalendar(d)
			if err != nil {
				t.Fatal(err)
			}
			var e bytes.Buffer
			if err := sink.EncodeICS(&e, c); err != nil {
				t.Fatal(err)
			}
			s := e.String()
			s = s[strings.Index(s, "BEGIN:VEVENT"):strings.LastIndex(s, "END:VCALENDAR")]
			b.WriteString(s)
		}
		b.WriteString("END:VCALENDAR\r\n")
		d, err := merge.DecodeCalendar(b.Bytes())
		if err != nil {
			t.Fatalf("%v\n%s", err, b.String())
		}
		out = append(out, d)
	}
	return out
}

// TestWriteGolden writes a file and compares it whole, then has ical.js
// parse it (scripts/js/check.js --strict checks VFREEBUSY's required
// properties and UTC periods).
func TestWriteGolden(t *testing.T) {
	docs := []*merge.Doc{
		event(t, ev("a", "DTSTART;TZID=Europe/Berlin:20261207T090000\nDTEND;TZID=Europe/Berlin:20261207T100000\nSUMMARY:Budget\nLOCATION:Room 1")),
		event(t, ev("p", "DTSTART:20261208T120000Z\nDTEND:20261208T130000Z\nCLASS:PRIVATE\nSUMMARY:doctor\nX-MICROSOFT-CDO-BUSYSTATUS:OOF")),
	}
	dir := filepath.Join(t.TempDir(), "freebusy")
	path, errs, err := Write(dir, docs, Options{Now: now, Name: "anna", Email: "anna@example.com"})
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	if filepath.Base(path) != "anna.vfb" {
		t.Errorf("file %s", path)
	}
	got, _ := os.ReadFile(path)
	want := strings.Join([]string{
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//pstsync//pstsync//EN", "METHOD:PUBLISH",
		"BEGIN:VFREEBUSY", "UID:pstsync-freebusy-anna", "DTSTAMP:20261203T100000Z",
		"DTSTART:20261126T000000Z", "DTEND:20270225T000000Z",
		"FREEBUSY;FBTYPE=BUSY:20261207T080000Z/20261207T090000Z",
		"FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20261208T120000Z/20261208T130000Z",
		"ORGANIZER;CN=anna:mailto:anna@example.com",
		"END:VFREEBUSY", "END:VCALENDAR", ""}, "\r\n")
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	for _, secret := range []string{"Budget", "Room 1", "doctor"} {
		if strings.Contains(string(got), secret) {
			t.Errorf("free/busy file leaks %q", secret)
		}
	}
	checkICALJS(t, path)
}

// icalJS returns node and scripts/js/check.js; it skips when they are
// missing, and fails under CI=true.
func icalJS(t *testing.T) (string, string) {
	t.Helper()
	node, err := exec.LookPath("node")
	js := filepath.Join(testutil.Root(t), "scripts", "js")
	if _, serr := os.Stat(filepath.Join(js, "node_modules", "ical.js", "package.json")); err != nil || serr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node or ical.js missing (npm ci --prefix %s)", js)
		}
		t.Skipf("node or ical.js missing (npm ci --prefix %s)", js)
	}
	return node, filepath.Join(js, "check.js")
}

func checkICALJS(t *testing.T, paths ...string) {
	t.Helper()
	node, script := icalJS(t)
	out, err := exec.Command(node, append([]string{script, "--strict"}, paths...)...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), " 0 failed") || !strings.Contains(string(out), "1 ") {
		t.Fatalf("ical.js: %v\n%s", err, out)
	}
}

func TestSearchPath(t *testing.T) {
	for dir, want := range map[string]string{
		`\\nas\office\freebusy`:  `file://\\nas\office\freebusy\%NAME%.vfb`,
		`\\nas\office\freebusy\`: `file://\\nas\office\freebusy\%NAME%.vfb`,
		`C:\Shared\freebusy`:     `file:///C:/Shared/freebusy/%NAME%.vfb`,
		`/srv/office/freebusy`:   `file:///srv/office/freebusy/%NAME%.vfb`,
	} {
		if got := SearchPath(dir); got != want {
			t.Errorf("SearchPath(%q) = %q, want %q", dir, got, want)
		}
	}
	if got := DefaultDir("/srv/office/store"); got != "/srv/office/freebusy" {
		t.Errorf("DefaultDir: %s", got)
	}
}

// TestICALJSRejectsBadFreeBusy shows the checker can fail: a VFREEBUSY
// without UID, with a reversed and a floating period.
func TestICALJSRejectsBadFreeBusy(t *testing.T) {
	node, script := icalJS(t)
	bad := filepath.Join(t.TempDir(), "bad.vfb")
	os.WriteFile(bad, []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VFREEBUSY\r\nDTSTAMP:20261203T100000Z\r\n"+
		"FREEBUSY:20261207T090000Z/20261207T080000Z\r\nFREEBUSY:20261207T090000/20261207T100000\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n"), 0o644)
	out, err := exec.Command(node, script, "--strict", bad).CombinedOutput()
	for _, want := range []string{"needs exactly one UID", "start not before end", "not UTC"} {
		if err == nil || !strings.Contains(string(out), want) {
			t.Errorf("check.js on a bad file: %v, output lacks %q:\n%s", err, want, out)
		}
	}
}

// TestLongAndDenseSeries: a daily series from 1990 is expanded in the
// window; a secondly one is refused with an error, not a hang.
func TestLongAndDenseSeries(t *testing.T) {
	daily := event(t, ev("d", "DTSTART:19900101T080000Z\nDTEND:19900101T083000Z\nRRULE:FREQ=DAILY"))
	dense := event(t, ev("s", "DTSTART:20261201T080000Z\nDTEND:20261201T080001Z\nRRULE:FREQ=SECONDLY"))
	_, ps, errs := Compute([]*merge.Doc{daily, dense}, Options{Now: now})
	if len(ps) != 91 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "event s: more than 5000 occurrences") {
		t.Errorf("%d periods, errors %v", len(ps), errs)
	}
}

// TestSinglePeriodsSameAsCalendar: the periods of an event read from its
// fields (singlePeriods) are the ones its calendar gives (calendarPeriods),
// for the events of the tests above, odd ones, and every event of the
// foreign data of package merge; an event it cannot read is left to the
// calendar path, which reports it.
func TestSinglePeriodsSameAsCalendar(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	bodies := []string{
		"DTSTART;TZID=Europe/Berlin:20261207T090000\nDTEND;TZID=Europe/Berlin:20261207T100000",
		"DTSTART;TZID=W. Europe Standard Time:20261207T090000\nDTEND;TZID=W. Europe Standard Time:20261207T100000",
		"DTSTART;TZID=Nowhere/Else:20261207T090000\nDTEND;TZID=Nowhere/Else:20261207T100000",
		"DTSTART:20261208T120000Z\nDURATION:PT90M\nSTATUS:TENTATIVE",
		"DTSTART:20261208T120000Z\nDURATION:bad",
		"DTSTART:20261208T120000Z",
		"DTSTART;VALUE=DATE:20261210\nTRANSP:TRANSPARENT\nX-MICROSOFT-CDO-BUSYSTATUS:WORKINGELSEWHERE",
		"DTSTART;VALUE=DATE:20261210",
		"DTSTART:20261208T120000\nDTEND:20261208T110000",
		"DTSTART:2026-12-08\nDTEND:20261208T130000Z",
		"DTSTART:20261125T230000Z\nDTEND:20261126T010000Z\nSTATUS:cancelled",
		"DTSTART:20270224T230000Z\nDTEND:20270225T010000Z\nX-MICROSOFT-CDO-BUSYSTATUS:oof",
		"DTSTART:20250301T080000Z\nDTEND:20250301T083000Z",
		"DTSTART:20261208T120000Z\nDTEND:20261208T130000Z\nRRULE:FREQ=DAILY;COUNT=3",
		"SUMMARY:no start",
	}
	var docs []*merge.Doc
	for i, b := range bodies {
		docs = append(docs, event(t, ev(fmt.Sprintf("e%d", i), b)))
	}
	paths, _ := filepath.Glob(filepath.Join(testutil.Root(t), "merge", "testdata", "foreign", "*", "*.ics"))
	if len(paths) < 50 {
		t.Fatalf("only %d foreign calendars", len(paths))
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range merge.ReadICSFile(data).Docs {
			if d.Kind == merge.KindEvent {
				docs = append(docs, d)
			}
		}
	}
	fast := 0
	for _, o := range []Options{{Now: now, Local: berlin}, {Now: time.Date(2008, 1, 1, 0, 0, 0, 0, time.UTC), Before: 50 * 365 * 24 * time.Hour, After: 50 * 365 * 24 * time.Hour}} {
		before, after := cmp.Or(o.Before, DefaultBefore), cmp.Or(o.After, DefaultAfter)
		day := o.Now.UTC().Truncate(24 * time.Hour)
		from, to := day.Add(-before), day.Add(after)
		local := cmp.Or(o.Local, time.UTC)
		for _, d := range docs {
			got, ok := singlePeriods(d, from, to, local)
			if !ok {
				continue
			}
			fast++
			want, err := calendarPeriods(d, from, to, local)
			if err != nil {
				t.Errorf("%s: read from the fields, but the calendar gives %v", d.UID, err)
				continue
			}
			if periods(got) != periods(want) {
				t.Errorf("%s: from the fields\n%s\nfrom the calendar\n%s", d.UID, periods(got), periods(want))
			}
		}
	}
	if fast < 100 {
		t.Errorf("only %d events read from their fields", fast)
	}
}
