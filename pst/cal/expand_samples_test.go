package cal

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/pst"
	"github.com/pstsync/pstsync/sink"
)

// The expected occurrences below are facts about the sample PSTs, written
// down from sources other than this package:
//
//   - pffexport (libpff) and readpst print each item's start and end in UTC
//     and a recurrence description: "chaque lundi de 14:00 à 14:30" with
//     "Last effective time: Jan 30, 2020 23:00 UTC" (= 31-01-2020 00:00 in
//     Paris) for the weekly series, "le premier mardi tous les 1 mois de
//     13:00 à 13:30" for the monthly one, "every Tuesday from 8:00 AM to
//     8:30 AM" with last effective time in 4500 (no end) for dist-list;
//     readpst writes COUNT=26 and COUNT=6 (the number of Mondays from
//     05-08-2019 and first Tuesdays from 06-08-2019 up to 31-01-2020);
//   - the subjects encode the wall-clock time: "Rdv loop 01-08-2019-Mon-14-00"
//     is every Monday at 14:00, "Rdv loop 01-08-2019-1Tue-13-00" the first
//     Tuesday at 13:00 (Paris, where the PST was made: French folder names);
//   - the recurrence blob fields, read field by field against [MS-OXOCAL]
//     2.2.1.44 (not through our RRULE): deleted instance dates 12-08-2019
//     (weekly) and 06-08-2019 (monthly: the first instance was deleted),
//     modified instance dates 19-08, 26-08, 02-09, 09-09-2019; the
//     ExceptionInfo of 19-08 moves it to 15:00-15:30, that of 26-08 sets
//     the subject "Rdv loop 01-08-2019-Mon-14-00 modified", 02-09 changes
//     the location, 09-09 only the attendees (attachment object); for
//     dist-list deleted 09-08-2016 and modified 23-08 (to 9:00, body "This
//     is the appointment at 9") and 30-08 (to 10:00, "This is the one at
//     10"), the times also being in the bodies of the exception objects.
//
// Times are wall-clock times of the series' zone (Europe/Paris for
// ContactCalendar-test.pst, America/Los_Angeles for dist-list.pst: its
// start 15:00 UTC is 8:00 PDT), which must not move when daylight saving
// time ends (27-10-2019 in Paris, 06-11-2016 in Los Angeles).

const mondaySubject = "Rdv loop 01-08-2019-Mon-14-00"

// mondaySeries is the weekly series in the Calendrier folder (nid 0x200324).
var mondaySeries = []occ{
	{"2019-08-05 14:00", "2019-08-05 14:30", mondaySubject, false},
	// 2019-08-12 deleted
	{"2019-08-19 15:00", "2019-08-19 15:30", mondaySubject, true},
	{"2019-08-26 14:00", "2019-08-26 14:30", mondaySubject + " modified", true},
	{"2019-09-02 14:00", "2019-09-02 14:30", mondaySubject, true},
	{"2019-09-09 14:00", "2019-09-09 14:30", mondaySubject, true},
	{"2019-09-16 14:00", "2019-09-16 14:30", mondaySubject, false},
	{"2019-09-23 14:00", "2019-09-23 14:30", mondaySubject, false},
	{"2019-09-30 14:00", "2019-09-30 14:30", mondaySubject, false},
	{"2019-10-07 14:00", "2019-10-07 14:30", mondaySubject, false},
	{"2019-10-14 14:00", "2019-10-14 14:30", mondaySubject, false},
	{"2019-10-21 14:00", "2019-10-21 14:30", mondaySubject, false},
	{"2019-10-28 14:00", "2019-10-28 14:30", mondaySubject, false}, // first after the change to CET
	{"2019-11-04 14:00", "2019-11-04 14:30", mondaySubject, false},
	{"2019-11-11 14:00", "2019-11-11 14:30", mondaySubject, false},
	{"2019-11-18 14:00", "2019-11-18 14:30", mondaySubject, false},
	{"2019-11-25 14:00", "2019-11-25 14:30", mondaySubject, false},
	{"2019-12-02 14:00", "2019-12-02 14:30", mondaySubject, false},
	{"2019-12-09 14:00", "2019-12-09 14:30", mondaySubject, false},
	{"2019-12-16 14:00", "2019-12-16 14:30", mondaySubject, false},
	{"2019-12-23 14:00", "2019-12-23 14:30", mondaySubject, false},
	{"2019-12-30 14:00", "2019-12-30 14:30", mondaySubject, false},
	{"2020-01-06 14:00", "2020-01-06 14:30", mondaySubject, false},
	{"2020-01-13 14:00", "2020-01-13 14:30", mondaySubject, false},
	{"2020-01-20 14:00", "2020-01-20 14:30", mondaySubject, false},
	{"2020-01-27 14:00", "2020-01-27 14:30", mondaySubject, false}, // the 26th Monday; none after 31-01-2020
}

const tuesdaySubject = "Rdv loop 01-08-2019-1Tue-13-00"

// firstTuesdaySeries is the monthly series (nid 0x2003c4): 06-08-2019, the
// first instance, is deleted.
var firstTuesdaySeries = []occ{
	{"2019-09-03 13:00", "2019-09-03 13:30", tuesdaySubject, false},
	{"2019-10-01 13:00", "2019-10-01 13:30", tuesdaySubject, false},
	{"2019-11-05 13:00", "2019-11-05 13:30", tuesdaySubject, false},
	{"2019-12-03 13:00", "2019-12-03 13:30", tuesdaySubject, false},
	{"2020-01-07 13:00", "2020-01-07 13:30", tuesdaySubject, false},
}

// firstTuesdayDates is the same monthly series as dates. (The issue calls
// it "the all-day monthly series"; no item of the sample is all-day: its
// PidLidAppointmentSubType is false everywhere and pffexport/readpst show
// 13:00-13:30.)
var firstTuesdayDates = []string{"2019-09-03", "2019-10-01", "2019-11-05", "2019-12-03", "2020-01-07"}

// distListSeries is the never-ending weekly series of dist-list.pst up to
// 29-11-2016.
var distListSeries = []occ{
	{"2016-08-02 08:00", "2016-08-02 08:30", "Test appointment", false},
	// 2016-08-09 deleted
	{"2016-08-16 08:00", "2016-08-16 08:30", "Test appointment", false},
	{"2016-08-23 09:00", "2016-08-23 09:30", "Test appointment", true},
	{"2016-08-30 10:00", "2016-08-30 10:30", "Test appointment", true},
	{"2016-09-06 08:00", "2016-09-06 08:30", "Test appointment", false},
	{"2016-09-13 08:00", "2016-09-13 08:30", "Test appointment", false},
	{"2016-09-20 08:00", "2016-09-20 08:30", "Test appointment", false},
	{"2016-09-27 08:00", "2016-09-27 08:30", "Test appointment", false},
	{"2016-10-04 08:00", "2016-10-04 08:30", "Test appointment", false},
	{"2016-10-11 08:00", "2016-10-11 08:30", "Test appointment", false},
	{"2016-10-18 08:00", "2016-10-18 08:30", "Test appointment", false},
	{"2016-10-25 08:00", "2016-10-25 08:30", "Test appointment", false},
	{"2016-11-01 08:00", "2016-11-01 08:30", "Test appointment", false},
	{"2016-11-08 08:00", "2016-11-08 08:30", "Test appointment", false}, // after the change to PST
	{"2016-11-15 08:00", "2016-11-15 08:30", "Test appointment", false},
	{"2016-11-22 08:00", "2016-11-22 08:30", "Test appointment", false},
	{"2016-11-29 08:00", "2016-11-29 08:30", "Test appointment", false},
}

// seriesCase is one recurring appointment of a sample with its expected
// occurrences up to last.
type seriesCase struct {
	name   string
	sample string
	nid    uint32
	zone   string
	last   time.Time
	want   []occ
	absent []string // dates that must not occur (deleted instances)
}

var seriesCases = []seriesCase{
	{"weekly-monday", "sedatools__ContactCalendar-test.pst", 0x200324, "Europe/Paris", date(2020, 12, 31), mondaySeries, []string{"2019-08-12"}},
	{"monthly-first-tuesday", "sedatools__ContactCalendar-test.pst", 0x2003c4, "Europe/Paris", date(2020, 12, 31), firstTuesdaySeries, []string{"2019-08-06"}},
	{"dist-list-weekly-tuesday", "java-libpst__dist-list.pst", 0x2000c4, "America/Los_Angeles", date(2016, 11, 29), distListSeries, []string{"2016-08-09"}},
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// findSeries returns the converted calendar of one item of a sample.
func findSeries(t *testing.T, sample string, nid uint32) *ical.Calendar {
	t.Helper()
	for _, c := range convertSample(t, sample) {
		if c.nid == nid && c.cal != nil {
			return c.cal
		}
	}
	t.Fatalf("%s: item %#x not found", sample, nid)
	return nil
}

func checkAbsent(t *testing.T, got []occ, absent []string) {
	t.Helper()
	for _, d := range absent {
		for _, o := range got {
			if o.Start[:10] == d {
				t.Errorf("deleted instance of %s occurs: %v", d, o)
			}
		}
	}
}

func TestExpandSampleSeries(t *testing.T) {
	for _, tc := range seriesCases {
		t.Run(tc.name, func(t *testing.T) {
			c := findSeries(t, tc.sample, tc.nid)
			got, starts, loc, err := expandRRule(c, tc.last)
			if err != nil {
				t.Fatal(err)
			}
			if loc.String() != tc.zone {
				t.Errorf("zone %s, want %s", loc, tc.zone)
			}
			if d := diffOccs(got, tc.want); d != "" {
				t.Errorf("rrule-go expansion differs:\n%s", d)
			}
			checkAbsent(t, got, tc.absent)
			if err := checkVTimezones(c, starts); err != nil {
				t.Error(err)
			}
		})
	}
	t.Run("monthly-first-tuesday-dates", func(t *testing.T) {
		got, _, _, err := expandRRule(findSeries(t, "sedatools__ContactCalendar-test.pst", 0x2003c4), date(2020, 12, 31))
		if err != nil {
			t.Fatal(err)
		}
		var dates []string
		for _, o := range got {
			dates = append(dates, o.Start[:10])
		}
		if fmt.Sprint(dates) != fmt.Sprint(firstTuesdayDates) {
			t.Errorf("dates %v, want %v", dates, firstTuesdayDates)
		}
	})
}

// The deleted-items copies of ContactCalendar-test.pst are earlier states
// of the two series (one per save): per nid, the number of occurrences and
// the modified instances, from the blobs' deleted and modified dates.
func TestExpandSampleSeriesCopies(t *testing.T) {
	type copyCase struct {
		nid      uint32
		n        int
		modified []string // starts of modified occurrences
	}
	for _, tc := range []copyCase{
		{0x200044, 25, nil},
		{0x2000c4, 25, nil},
		{0x200164, 25, []string{"2019-08-19 15:00", "2019-08-26 14:00"}},
		{0x200244, 25, []string{"2019-08-19 15:00", "2019-08-26 14:00"}},
		{0x200064, 5, nil},
		{0x2000e4, 5, nil},
		{0x2001c4, 5, nil},
		{0x2002a4, 5, nil},
	} {
		t.Run(fmt.Sprintf("%#x", tc.nid), func(t *testing.T) {
			c := findSeries(t, "sedatools__ContactCalendar-test.pst", tc.nid)
			got, starts, _, err := expandRRule(c, date(2020, 12, 31))
			if err != nil {
				t.Fatal(err)
			}
			var mod []string
			for _, o := range got {
				if o.Modified {
					mod = append(mod, o.Start)
				}
			}
			if len(got) != tc.n || fmt.Sprint(mod) != fmt.Sprint(tc.modified) {
				t.Errorf("%d occurrences, modified %v; want %d, %v", len(got), mod, tc.n, tc.modified)
			}
			checkAbsent(t, got, []string{"2019-08-12", "2019-08-06"})
			if err := checkVTimezones(c, starts); err != nil {
				t.Error(err)
			}
		})
	}
}

// seriesFile is an encoded recurring appointment with its rrule-go
// expansion through last in zone.
type seriesFile struct {
	occs []occ
	last time.Time
	zone string
}

// sampleSeriesFiles encodes every recurring appointment of every sample
// as an .ics file in dir and returns, per file, the rrule-go expansion up
// to two years after its start (or its end).
func sampleSeriesFiles(t *testing.T, dir string) map[string]seriesFile {
	t.Helper()
	// most of the series are in ContactCalendar-test.pst, which only the
	// shared samples hold
	testutil.Sample(t, "sedatools__ContactCalendar-test.pst")
	out := map[string]seriesFile{}
	n := 0
	for _, path := range testutil.AllSamples(t) {
		name := filepath.Base(path)
		if f, err := pst.Open(path); err != nil {
			continue // damaged samples are the reader's tests' business
		} else {
			f.Close()
		}
		for _, cv := range events(convertSample(t, name)) {
			master := children(cv.cal, ical.CompEvent)[0]
			if master.Props.Get(ical.PropRecurrenceRule) == nil {
				continue
			}
			start, _, _, err := icsTime(master.Props.Get(ical.PropDateTimeStart))
			if err != nil {
				t.Fatal(err)
			}
			last := start.AddDate(2, 0, 0)
			occs, starts, loc, err := expandRRule(cv.cal, last)
			if err != nil {
				t.Errorf("%s %#x: %v", name, cv.nid, err)
				continue
			}
			if err := checkVTimezones(cv.cal, starts); err != nil {
				t.Errorf("%s %#x: %v", name, cv.nid, err)
			}
			var buf bytes.Buffer
			if err := sink.EncodeICS(&buf, cv.cal); err != nil {
				t.Fatal(err)
			}
			file := fmt.Sprintf("%s/%s-%x.ics", dir, name, cv.nid)
			if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			out[file] = seriesFile{occs, last, loc.String()}
			n++
		}
	}
	if n < 11 {
		t.Errorf("%d recurring appointments over all samples, want at least 11", n)
	}
	return out
}

// TestExpandEverySampleSeries expands every recurring appointment of every
// sample with rrule-go: no override may miss its instance, no DTSTART may
// fall outside its rule, and the VTIMEZONE must agree with the IANA zone.
func TestExpandEverySampleSeries(t *testing.T) {
	sampleSeriesFiles(t, t.TempDir())
}

// TestSampleExceptionObjects: the exception attachment objects carry the
// changed body (dist-list.pst: AROExceptionalBody, bodies "This is the
// appointment at 9" and "This is the one at 10", as pffexport shows) and
// the changed attendees (ContactCalendar-test.pst: test-a invited to the
// instances of 26-08 and 09-09-2019 only).
func TestSampleExceptionObjects(t *testing.T) {
	rids := func(c *ical.Calendar) map[string]*ical.Component {
		out := map[string]*ical.Component{}
		for _, ev := range children(c, ical.CompEvent) {
			out[value(ev, ical.PropRecurrenceID)] = ev
		}
		return out
	}
	dl := rids(findSeries(t, "java-libpst__dist-list.pst", 0x2000c4))
	for rid, want := range map[string]string{"": "This is a complete test", "20160823T080000": "This is the appointment at 9", "20160830T080000": "This is the one at 10"} {
		if ev := dl[rid]; ev == nil || textValue(ev, ical.PropDescription) != want {
			t.Errorf("dist-list %q: DESCRIPTION %q, want %q", rid, textValue(ev, ical.PropDescription), want)
		}
	}
	cc := rids(findSeries(t, "sedatools__ContactCalendar-test.pst", 0x200324))
	for rid, want := range map[string]string{
		"":                "mailto:test-b@programmevitam.fr",
		"20190819T140000": "mailto:test-b@programmevitam.fr",
		"20190826T140000": "mailto:test-b@programmevitam.fr mailto:test-a@programmevitam.fr",
		"20190902T140000": "mailto:test-b@programmevitam.fr", // no recipients in the object: the series' list
		"20190909T140000": "mailto:test-b@programmevitam.fr mailto:test-a@programmevitam.fr",
	} {
		ev := cc[rid]
		if ev == nil {
			t.Errorf("ContactCalendar: no VEVENT %q", rid)
			continue
		}
		var got []string
		for _, a := range ev.Props.Values(ical.PropAttendee) {
			got = append(got, a.Value)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("ContactCalendar %q: ATTENDEE %v, want %s", rid, got, want)
		}
		if org := value(ev, ical.PropOrganizer); org != "mailto:test@programmevitam.fr" {
			t.Errorf("ContactCalendar %q: ORGANIZER %q", rid, org)
		}
	}
}
