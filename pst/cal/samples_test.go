package cal

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/emersion/go-ical"
	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/pst"
)

// converted is one calendar-like item of a sample converted and re-decoded.
type converted struct {
	folder, class string
	nid           uint32
	cal           *ical.Calendar // nil for sticky notes
	note          string
}

// convertSample converts every calendar-like item of a sample PST; each
// result is encoded and decoded again.
func convertSample(t *testing.T, name string) []converted {
	t.Helper()
	f, err := pst.Open(testutil.Sample(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []converted
	err = f.Walk(context.Background(), func(fo *pst.Folder) error {
		refs, err := fo.Items()
		if err != nil {
			return err
		}
		for _, r := range refs {
			m, err := f.Message(r.NID)
			if err != nil {
				t.Errorf("%s: message %#x: %v", fo.PathString(), r.NID, err)
				continue
			}
			cv := converted{folder: fo.PathString(), class: m.Class(), nid: r.NID}
			var c *ical.Calendar
			switch class := m.Class(); {
			case IsEvent(class):
				c, err = Event(m, Options{})
			case IsTodo(class):
				c, err = Todo(m, Options{})
			case IsJournal(class):
				c, err = Journal(m, Options{})
			case IsNote(class):
				cv.note = NoteText(m)
				out = append(out, cv)
				continue
			default:
				continue
			}
			if err != nil {
				t.Errorf("%s: %s %#x: %v", fo.PathString(), m.Class(), r.NID, err)
				continue
			}
			var buf bytes.Buffer
			if err := ical.NewEncoder(&buf).Encode(c); err != nil {
				t.Errorf("%s: %#x: encode: %v", fo.PathString(), r.NID, err)
				continue
			}
			if cv.cal, err = ical.NewDecoder(&buf).Decode(); err != nil {
				t.Errorf("%s: %#x: decode: %v", fo.PathString(), r.NID, err)
				continue
			}
			out = append(out, cv)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func events(cs []converted) []converted {
	var out []converted
	for _, c := range cs {
		if c.cal != nil && len(children(c.cal, "VEVENT")) > 0 {
			out = append(out, c)
		}
	}
	return out
}

func TestSampleContactCalendar(t *testing.T) {
	evs := events(convertSample(t, "sedatools__ContactCalendar-test.pst"))
	if len(evs) != 19 {
		t.Fatalf("%d appointments, want 19", len(evs))
	}
	recurring := 0
	uidSubjects := map[string]string{}
	var series *ical.Calendar
	for _, c := range evs {
		ev := children(c.cal, "VEVENT")[0]
		if param(ev, "DTSTART", "TZID") != "Europe/Paris" {
			t.Errorf("%#x: DTSTART %q TZID %q", c.nid, value(ev, "DTSTART"), param(ev, "DTSTART", "TZID"))
		}
		if ev.Props.Get("RRULE") != nil {
			recurring++
		}
		uid, subj := value(ev, "UID"), value(ev, "SUMMARY")
		if !strings.HasPrefix(uid, "040000008200E00074C5B7101A82E008") {
			t.Errorf("%#x: UID %q", c.nid, uid)
		}
		if s, ok := uidSubjects[uid]; ok && s != subj {
			t.Errorf("UID %s shared by %q and %q", uid, s, subj)
		}
		uidSubjects[uid] = subj
		if strings.HasSuffix(c.folder, "Calendrier") && subj == "Rdv loop 01-08-2019-Mon-14-00" {
			series = c.cal
		}
	}
	if recurring != 10 {
		t.Errorf("%d recurring appointments, want 10", recurring)
	}
	// The deleted-items copies share UIDs with the calendar items.
	if len(uidSubjects) >= 19 {
		t.Errorf("%d distinct UIDs: copies of one appointment should share theirs", len(uidSubjects))
	}
	if series == nil {
		t.Fatal("weekly series not found in Calendrier")
	}
	vevs := children(series, "VEVENT")
	if len(vevs) != 5 {
		t.Fatalf("series has %d VEVENTs, want master + 4 exceptions", len(vevs))
	}
	m := vevs[0]
	checks := map[string]string{
		"DTSTART":  "20190805T140000",
		"DTEND":    "20190805T143000",
		"RRULE":    "FREQ=WEEKLY;BYDAY=MO;UNTIL=20200131T130000Z",
		"EXDATE":   "20190812T140000",
		"LOCATION": "Test place",
	}
	for k, w := range checks {
		if got := value(m, k); got != w {
			t.Errorf("series %s = %q, want %q", k, got, w)
		}
	}
	if org := value(m, "ORGANIZER"); org != "mailto:test@programmevitam.fr" {
		t.Errorf("ORGANIZER = %q", org)
	}
	if att := m.Props.Values("ATTENDEE"); len(att) != 1 || att[0].Value != "mailto:test-b@programmevitam.fr" {
		t.Errorf("ATTENDEE = %+v", att)
	}
	wantEx := []struct{ rid, start, summary, location string }{
		{"20190819T140000", "20190819T150000", "Rdv loop 01-08-2019-Mon-14-00", "Test place"},
		{"20190826T140000", "20190826T140000", "Rdv loop 01-08-2019-Mon-14-00 modified", "Test place"},
		{"20190902T140000", "20190902T140000", "Rdv loop 01-08-2019-Mon-14-00", "Test place modified"},
	}
	for i, w := range wantEx {
		e := vevs[i+1]
		got := struct{ rid, start, summary, location string }{value(e, "RECURRENCE-ID"), value(e, "DTSTART"), value(e, "SUMMARY"), value(e, "LOCATION")}
		if got != w {
			t.Errorf("exception %d = %+v, want %+v", i, got, w)
		}
	}
	tz := children(series, "VTIMEZONE")
	if len(tz) != 1 || value(tz[0], "TZID") != "Europe/Paris" || len(tz[0].Children) != 2 {
		t.Errorf("VTIMEZONE = %+v", tz)
	}
}

func TestSampleDistList(t *testing.T) {
	evs := events(convertSample(t, "java-libpst__dist-list.pst"))
	if len(evs) != 1 {
		t.Fatalf("%d appointments, want 1", len(evs))
	}
	vevs := children(evs[0].cal, "VEVENT")
	if len(vevs) != 3 {
		t.Fatalf("%d VEVENTs, want master + 2 exceptions", len(vevs))
	}
	m := vevs[0]
	for k, w := range map[string]string{
		"SUMMARY": "Test appointment", "DTSTART": "20160802T080000", "RRULE": "FREQ=WEEKLY;BYDAY=TU;WKST=SU",
		"EXDATE": "20160809T080000", "DESCRIPTION": "This is a complete test",
	} {
		if got := value(m, k); got != w {
			t.Errorf("%s = %q, want %q", k, got, w)
		}
	}
	if param(m, "DTSTART", "TZID") != "America/Los_Angeles" {
		t.Errorf("TZID = %q", param(m, "DTSTART", "TZID"))
	}
	if got := value(vevs[2], "RECURRENCE-ID"); got != "20160830T080000" {
		t.Errorf("second exception RECURRENCE-ID = %q", got)
	}
	if got := value(vevs[2], "DTSTART"); got != "20160830T100000" {
		t.Errorf("second exception DTSTART = %q", got)
	}
}

func TestSample32Bit(t *testing.T) {
	evs := events(convertSample(t, "go-pst__32-bit.pst"))
	if len(evs) != 1 {
		t.Fatalf("%d appointments, want 1", len(evs))
	}
	ev := children(evs[0].cal, "VEVENT")[0]
	for k, w := range map[string]string{
		// The item names its zone only as "(GMT-06:00) Central Time (US &
		// Canada)": 18:30Z is 13:30 CDT in August 2004.
		"SUMMARY": "Updated: Olympus training for new hires", "DTSTART": "20040819T133000", "DTEND": "20040819T143000",
		"SEQUENCE": "1", "X-MICROSOFT-CDO-BUSYSTATUS": "TENTATIVE",
	} {
		if got := value(ev, k); got != w {
			t.Errorf("%s = %q, want %q", k, got, w)
		}
	}
	if tzid := param(ev, "DTSTART", "TZID"); tzid != "America/Chicago" {
		t.Errorf("TZID = %q, want America/Chicago", tzid)
	}
	// The VTIMEZONE carries the US rules of 2004 (first Sunday of April,
	// last Sunday of October) and the 2007 change for later years.
	tz := children(evs[0].cal, "VTIMEZONE")
	if len(tz) != 1 {
		t.Fatalf("%d VTIMEZONEs", len(tz))
	}
	var rules []string
	for _, o := range tz[0].Children {
		rules = append(rules, o.Name+" "+value(o, "DTSTART")+" "+value(o, "RRULE"))
	}
	if len(rules) < 2 || !strings.Contains(strings.Join(rules, "\n"), "DAYLIGHT 19700405T020000 FREQ=YEARLY;BYMONTH=4;BYDAY=1SU") {
		t.Errorf("VTIMEZONE observances:\n%s", strings.Join(rules, "\n"))
	}
	atts := ev.Props.Values("ATTENDEE")
	if len(atts) != 6 {
		t.Fatalf("%d attendees, want 6", len(atts))
	}
	if atts[0].Params.Get("CN") != "Patty Fukasawa" || atts[3].Params.Get("ROLE") != "OPT-PARTICIPANT" {
		t.Errorf("attendees %+v / %+v", atts[0], atts[3])
	}
	if !strings.Contains(value(ev, "DESCRIPTION"), "Olympus training") {
		t.Errorf("DESCRIPTION = %q", value(ev, "DESCRIPTION"))
	}
}

func TestSampleHughbe(t *testing.T) {
	cs := convertSample(t, "PstReader__hughbe_Outlook.pst")
	kinds := map[string]*ical.Component{}
	for _, c := range cs {
		if c.cal == nil {
			continue
		}
		for _, ch := range c.cal.Children {
			if ch.Name != "VTIMEZONE" {
				kinds[ch.Name] = ch
			}
		}
	}
	if len(kinds) != 3 {
		t.Fatalf("components %v, want VEVENT, VTODO, VJOURNAL", kinds)
	}
	if ev := kinds["VEVENT"]; value(ev, "SUMMARY") != "Appointment" || value(ev, "DTSTART") != "20210204T110000" {
		t.Errorf("VEVENT %q %q", value(ev, "SUMMARY"), value(ev, "DTSTART"))
	}
	if td := kinds["VTODO"]; value(td, "SUMMARY") != "Task" || value(td, "STATUS") != "COMPLETED" || value(td, "PERCENT-COMPLETE") != "100" {
		t.Errorf("VTODO %v", td.Props)
	}
	if j := kinds["VJOURNAL"]; value(j, "SUMMARY") != "Journal Entry" || value(j, "X-MS-LOGTYPE") != "Phone Call" || value(j, "DTSTART") != "20210204T120100Z" {
		t.Errorf("VJOURNAL %v", j.Props)
	}
}

func TestSampleAsposeTest(t *testing.T) {
	evs := events(convertSample(t, "aspose__Test_part1.pst"))
	if len(evs) != 9 {
		t.Fatalf("%d appointments, want 9", len(evs))
	}
	for _, c := range evs {
		ev := children(c.cal, "VEVENT")[0]
		if value(ev, "SUMMARY") != "Weekly meeting" || value(ev, "DTSTART") != "20110622T053000Z" || value(ev, "DESCRIPTION") != "The usual weekly meeting" {
			t.Errorf("%#x: %q %q", c.nid, value(ev, "SUMMARY"), value(ev, "DTSTART"))
		}
	}
}
