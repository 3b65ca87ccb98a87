package outlook

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"maps"
	"slices"
	"strings"
	"time"

	_ "image/jpeg" // Outlook stores contact pictures as JPEG

	"github.com/pstsync/pstsync/merge"
)

// The fixed set of `pstsync outlook selftest`: one item of each kind the
// sync must bring through Outlook unchanged. Dates are in the week of
// base so the series is current.
const (
	selftestSeries = `BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//pstsync//pstsync//EN
BEGIN:VEVENT
UID:pstsync-selftest-series
DTSTAMP:20250101T000000Z
DTSTART;TZID=Europe/Berlin:{{MON}}T093000
DTEND;TZID=Europe/Berlin:{{MON}}T100000
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=6
EXDATE;TZID=Europe/Berlin:{{MON3}}T093000
SUMMARY:pstsync selftest: weekly team meeting
LOCATION:Room 1
DESCRIPTION:Agenda:\n1. news\n2. plans
CATEGORIES:Team,pstsync
CLASS:PUBLIC
PRIORITY:5
TRANSP:OPAQUE
X-MICROSOFT-CDO-BUSYSTATUS:BUSY
ORGANIZER;CN=Office User:mailto:user@example.com
ATTENDEE;CN=Ann Example;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:ann@example.com
ATTENDEE;CN=Bob Example;PARTSTAT=NEEDS-ACTION;ROLE=OPT-PARTICIPANT;RSVP=TRUE:mailto:bob@example.com
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:pstsync selftest: weekly team meeting
TRIGGER:-PT10M
END:VALARM
END:VEVENT
BEGIN:VEVENT
UID:pstsync-selftest-series
DTSTAMP:20250101T000000Z
RECURRENCE-ID;TZID=Europe/Berlin:{{MON2}}T093000
DTSTART;TZID=Europe/Berlin:{{TUE2}}T140000
DTEND;TZID=Europe/Berlin:{{TUE2}}T143000
SUMMARY:pstsync selftest: weekly team meeting (moved)
LOCATION:Room 1
DESCRIPTION:Agenda:\n1. news\n2. plans
CATEGORIES:Team,pstsync
CLASS:PUBLIC
PRIORITY:5
TRANSP:OPAQUE
X-MICROSOFT-CDO-BUSYSTATUS:BUSY
ORGANIZER;CN=Office User:mailto:user@example.com
ATTENDEE;CN=Ann Example;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:ann@example.com
ATTENDEE;CN=Bob Example;PARTSTAT=NEEDS-ACTION;ROLE=OPT-PARTICIPANT;RSVP=TRUE:mailto:bob@example.com
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:pstsync selftest: weekly team meeting (moved)
TRIGGER:-PT10M
END:VALARM
END:VEVENT
END:VCALENDAR
`
	selftestAllDay = `BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//pstsync//pstsync//EN
BEGIN:VEVENT
UID:pstsync-selftest-allday
DTSTAMP:20250101T000000Z
DTSTART;VALUE=DATE:{{WED}}
DTEND;VALUE=DATE:{{FRI}}
SUMMARY:pstsync selftest: two-day workshop
CLASS:PUBLIC
PRIORITY:5
TRANSP:TRANSPARENT
X-MICROSOFT-CDO-BUSYSTATUS:FREE
X-MICROSOFT-CDO-ALLDAYEVENT:TRUE
END:VEVENT
END:VCALENDAR
`
	selftestPrivate = `BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//pstsync//pstsync//EN
BEGIN:VEVENT
UID:pstsync-selftest-private
DTSTAMP:20250101T000000Z
DTSTART;TZID=America/New_York:{{THU}}T080000
DTEND;TZID=America/New_York:{{THU}}T090000
SUMMARY:pstsync selftest: doctor
CLASS:PRIVATE
PRIORITY:1
TRANSP:OPAQUE
X-MICROSOFT-CDO-BUSYSTATUS:OOF
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:pstsync selftest: doctor
TRIGGER:-PT60M
END:VALARM
END:VEVENT
END:VCALENDAR
`
	selftestContact = `BEGIN:VCARD
VERSION:4.0
UID:urn:uuid:7c1c3a4e-5f43-4b0c-9b54-000000selftest
KIND:individual
N:Example;Carla;Maria;Dr.;
FN:Dr. Carla Maria Example
ORG:Example Ltd;Sales
TITLE:Head of sales
EMAIL;PREF=1:carla@example.com
EMAIL;PREF=2:carla.example@example.org
TEL;TYPE=work,voice:+49 30 1234567
TEL;TYPE=cell,voice:+49 170 1234567
ADR;TYPE=work;PREF=1:;;Hauptstr. 1;Berlin;;10115;Germany
ADR;TYPE=home:;;Gartenweg 2;Potsdam;;14467;Germany
ADR;TYPE=x-other:;;Seeweg 3;Rostock;;18055;Germany
BDAY:19800229
CATEGORIES:Customers
NOTE:Met at the fair.\nCall in spring.
PHOTO:{{PHOTO}}
END:VCARD
`
)

// SelftestPhoto is the picture of the selftest contact: a 16×16 PNG.
func SelftestPhoto() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			img.Set(x, y, color.RGBA{uint8(16 * x), uint8(16 * y), 128, 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// SelftestItem is one item of the fixed set.
type SelftestItem struct {
	Name string
	Doc  *merge.Doc
}

// SelftestSet returns the fixed set, with dates in the week after now.
func SelftestSet(now time.Time) ([]SelftestItem, error) {
	d := now.UTC()
	mon := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	for mon.Weekday() != time.Monday {
		mon = mon.AddDate(0, 0, 1)
	}
	f := func(t time.Time) string { return t.Format("20060102") }
	r := strings.NewReplacer("{{MON}}", f(mon), "{{MON2}}", f(mon.AddDate(0, 0, 7)), "{{TUE2}}", f(mon.AddDate(0, 0, 8)),
		"{{MON3}}", f(mon.AddDate(0, 0, 14)), "{{WED}}", f(mon.AddDate(0, 0, 2)), "{{FRI}}", f(mon.AddDate(0, 0, 4)),
		"{{THU}}", f(mon.AddDate(0, 0, 3)), "{{PHOTO}}", "data:image/png;base64,"+base64.StdEncoding.EncodeToString(SelftestPhoto()))
	var out []SelftestItem
	for _, x := range []struct{ name, text string }{
		{"weekly series, one moved, one deleted occurrence", selftestSeries},
		{"all-day event", selftestAllDay},
		{"private event", selftestPrivate},
	} {
		doc, err := merge.DecodeCalendar([]byte(strings.ReplaceAll(r.Replace(x.text), "\n", "\r\n")))
		if err != nil {
			return nil, fmt.Errorf("outlook: selftest %s: %w", x.name, err)
		}
		out = append(out, SelftestItem{x.name, doc})
	}
	doc, err := merge.DecodeVCard([]byte(strings.ReplaceAll(r.Replace(selftestContact), "\n", "\r\n")))
	if err != nil {
		return nil, fmt.Errorf("outlook: selftest contact: %w", err)
	}
	out = append(out, SelftestItem{"contact with photo and three addresses", doc})
	return out, nil
}

// Rewritten lists the fields Outlook is known to rewrite on every item it
// saves, which a round trip therefore does not compare by value:
// ORGANIZER becomes the profile's owner (an item created through the
// object model is organised by the PC's user), and PHOTO is re-encoded as
// JPEG (compared as "an image of the same size"). Outlook also keeps
// reminders in minutes (TRIGGER:-PT1H comes back as -PT60M), line ends as
// CRLF, and a contact's FileAs; the conversions write what reads back
// equal, and the fixed set is written in that form.
var Rewritten = []string{"ORGANIZER", "PHOTO"}

// Diff lists the fields in which got differs from want (added, removed or
// changed keys), leaving out the Rewritten ones except for presence, and
// comparing PHOTO by image size.
func Diff(want, got *merge.Doc) []string {
	var out []string
	keys := map[string]bool{}
	for k := range want.Fields {
		keys[k] = true
	}
	for k := range got.Fields {
		keys[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		w, inW := want.Fields[k]
		g, inG := got.Fields[k]
		base := k
		if i := strings.LastIndexByte(k, '/'); i >= 0 && strings.HasPrefix(k, "RID=") {
			base = k[i+1:]
		}
		switch {
		case !inW:
			out = append(out, "added "+g.String())
		case !inG:
			out = append(out, "lost "+w.String())
		case base == "PHOTO":
			if imageSize(w.Value) != imageSize(g.Value) {
				out = append(out, "PHOTO: image size "+imageSize(w.Value)+" became "+imageSize(g.Value))
			}
		case slices.Contains(Rewritten, base):
		case !w.Equal(g):
			out = append(out, "changed "+w.String()+" → "+g.String())
		}
	}
	return out
}

func imageSize(uri string) string {
	_, data, ok := strings.Cut(uri, ";base64,")
	if !ok {
		return "none"
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return "undecodable"
	}
	c, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return "undecodable"
	}
	return fmt.Sprintf("%dx%d", c.Width, c.Height)
}

// Result is one line of the selftest table.
type Result struct {
	Name  string
	Diffs []string // empty: passed
	Err   error
}

// OK reports whether the item came back unchanged.
func (r Result) OK() bool { return r.Err == nil && len(r.Diffs) == 0 }

// Selftest writes the fixed set into a new temporary folder of s (one for
// events, one for contacts), reads every item back, compares, and removes
// the folders again (also after a failure). The error is for what stops
// the test as a whole (Outlook not reachable, folder not creatable).
func Selftest(ctx context.Context, s Session, now time.Time) ([]Result, error) {
	set, err := SelftestSet(now)
	if err != nil {
		return nil, err
	}
	stamp := now.UTC().Format("20060102-150405")
	calF, err := s.CreateFolder(ctx, Calendar, "pstsync selftest "+stamp)
	if err != nil {
		return nil, fmt.Errorf("outlook: selftest: create calendar folder: %w", err)
	}
	defer s.RemoveFolder(context.WithoutCancel(ctx), calF) //nolint:errcheck // best effort; reported below when it fails
	conF, err := s.CreateFolder(ctx, Contacts, "pstsync selftest contacts "+stamp)
	if err != nil {
		return nil, fmt.Errorf("outlook: selftest: create contacts folder: %w", err)
	}
	defer s.RemoveFolder(context.WithoutCancel(ctx), conF) //nolint:errcheck
	var out []Result
	for _, x := range set {
		f := calF
		if x.Doc.Kind == merge.KindContact {
			f = conF
		}
		out = append(out, roundTrip(ctx, s, f, x))
	}
	return out, nil
}

func roundTrip(ctx context.Context, b Bridge, f FolderRef, x SelftestItem) Result {
	r := Result{Name: x.Name}
	w, err := FromDoc(x.Doc)
	if err != nil {
		r.Err = err
		return r
	}
	e, err := b.Write(ctx, f, "", w)
	if err != nil {
		r.Err = fmt.Errorf("write: %w", err)
		return r
	}
	it, err := b.Read(ctx, f, e.ID)
	if err != nil {
		r.Err = fmt.Errorf("read back: %w", err)
		return r
	}
	got, err := ToDoc(it)
	if err != nil {
		r.Err = fmt.Errorf("convert back: %w", err)
		return r
	}
	if got.UID != x.Doc.UID {
		r.Diffs = append(r.Diffs, fmt.Sprintf("UID %s came back as %s", x.Doc.UID, got.UID))
	}
	r.Diffs = append(r.Diffs, Diff(x.Doc, got)...)
	return r
}
