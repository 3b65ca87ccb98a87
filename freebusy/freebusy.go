// Package freebusy publishes a user's busy times as an iCalendar VFREEBUSY
// file (RFC 5545 3.6.4), for Outlook's Scheduling Assistant: Outlook reads
// "%NAME%.vfb" through its Internet Free/Busy search path (Options →
// Calendar → Free/Busy Options → Search location), e.g.
// file://\\server\share\pstsync-freebusy\%NAME%.vfb.
//
// The file holds busy times only — no summaries, places or attendees —
// so private items are included like every other: as busy time. Free and
// cancelled items are left out; tentative items are BUSY-TENTATIVE and
// out-of-office items BUSY-UNAVAILABLE, as Outlook publishes them.
// Recurring events are expanded over the window (by default from one week
// before now to twelve weeks after it: Outlook's Scheduling Assistant
// looks ahead, and a week back covers "what was I doing"), with EXDATE and
// moved occurrences (RECURRENCE-ID) applied. All-day events are whole
// days in the user's time zone.
//
// Compute is pure; Write puts the file in place atomically.
package freebusy

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"

	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/pst/cal"
	"github.com/pstsync/pstsync/sink"
)

// Free/busy types (FBTYPE).
const (
	Busy            = "BUSY"
	BusyTentative   = "BUSY-TENTATIVE"
	BusyUnavailable = "BUSY-UNAVAILABLE"
)

// Default window around now.
const (
	DefaultBefore = 7 * 24 * time.Hour
	DefaultAfter  = 12 * 7 * 24 * time.Hour
)

// Period is one busy interval (UTC).
type Period struct {
	Start, End time.Time
	Type       string
}

// Options tune Compute. The zero value uses the default window around
// Now and UTC for all-day events.
type Options struct {
	// Now is the time of publishing (DTSTAMP; the window is around it).
	Now time.Time
	// Before and After bound the window (DefaultBefore, DefaultAfter when
	// zero).
	Before, After time.Duration
	// Local is the user's zone, for all-day events (UTC when nil).
	Local *time.Location
	// Name is the user's name (the file's name and the ORGANIZER's CN);
	// Email the address Outlook looks the user up by (ORGANIZER).
	Name, Email string
}

// maxOccurrences bounds the occurrences of one series in the window, and
// maxSteps the occurrences walked to reach the window's end.
const (
	maxOccurrences = 5000
	maxSteps       = 1_000_000
)

// Compute returns the VFREEBUSY calendar of a user's calendar docs (the
// merged docs of one user's calendar collection) and the busy periods in
// it. Docs that are not events are ignored; an event that cannot be read
// is skipped and named in the returned error list (the file is still
// complete for the others).
func Compute(docs []*merge.Doc, o Options) (*ical.Calendar, []Period, []error) {
	if o.Before == 0 {
		o.Before = DefaultBefore
	}
	if o.After == 0 {
		o.After = DefaultAfter
	}
	if o.Local == nil {
		o.Local = time.UTC
	}
	now := o.Now.UTC().Truncate(time.Second)
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).Add(-o.Before)
	to := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).Add(o.After)
	var ps []Period
	var errs []error
	for _, d := range docs {
		if d == nil || d.Kind != merge.KindEvent {
			continue
		}
		got, err := eventPeriods(d, from, to, o.Local)
		if err != nil {
			errs = append(errs, fmt.Errorf("freebusy: event %s: %w", d.UID, err))
			continue
		}
		ps = append(ps, got...)
	}
	ps = Normalize(ps)
	return Calendar(ps, from, to, now, o), ps, errs
}

// Normalize sorts periods and joins overlapping or touching ones of the
// same type; where types overlap, the busier one wins the overlap only by
// being listed (RFC 5545 allows overlapping periods of different types).
func Normalize(ps []Period) []Period {
	slices.SortFunc(ps, func(a, b Period) int {
		return cmp.Or(strings.Compare(a.Type, b.Type), a.Start.Compare(b.Start), a.End.Compare(b.End))
	})
	var out []Period
	for _, p := range ps {
		if n := len(out); n > 0 && out[n-1].Type == p.Type && !p.Start.After(out[n-1].End) {
			if p.End.After(out[n-1].End) {
				out[n-1].End = p.End
			}
			continue
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Period) int {
		return cmp.Or(a.Start.Compare(b.Start), a.End.Compare(b.End), strings.Compare(a.Type, b.Type))
	})
	return out
}

// Calendar builds the VCALENDAR with one VFREEBUSY.
func Calendar(ps []Period, from, to, now time.Time, o Options) *ical.Calendar {
	c := ical.NewCalendar()
	c.Props.SetText(ical.PropVersion, "2.0")
	c.Props.SetText(ical.PropProductID, cal.ProdID)
	c.Props.SetText(ical.PropMethod, "PUBLISH")
	fb := ical.NewComponent(ical.CompFreeBusy)
	fb.Props.SetText(ical.PropUID, "pstsync-freebusy-"+strings.ToLower(sink.SafeName(o.Name)))
	fb.Props.SetDateTime(ical.PropDateTimeStamp, now.UTC())
	if o.Email != "" {
		org := ical.NewProp(ical.PropOrganizer)
		org.Value = "mailto:" + o.Email
		if o.Name != "" {
			org.Params.Set(ical.ParamCommonName, o.Name)
		}
		fb.Props.Set(org)
	}
	fb.Props.SetDateTime(ical.PropDateTimeStart, from.UTC())
	fb.Props.SetDateTime(ical.PropDateTimeEnd, to.UTC())
	for _, p := range ps {
		prop := ical.NewProp(ical.PropFreeBusy)
		prop.Params.Set(ical.ParamFreeBusyType, p.Type)
		prop.Value = p.Start.UTC().Format("20060102T150405Z") + "/" + p.End.UTC().Format("20060102T150405Z")
		fb.Props.Add(prop)
	}
	c.Children = append(c.Children, fb)
	return c
}

// fbType is the free/busy type of an event, "" when it takes no time.
func fbType(p ical.Props) string {
	text := func(n string) string {
		if pr := p.Get(n); pr != nil {
			return strings.ToUpper(strings.TrimSpace(pr.Value))
		}
		return ""
	}
	if text(ical.PropStatus) == "CANCELLED" {
		return ""
	}
	switch text("X-MICROSOFT-CDO-BUSYSTATUS") {
	case "FREE":
		return ""
	case "TENTATIVE":
		return BusyTentative
	case "OOF":
		return BusyUnavailable
	case "BUSY", "WORKINGELSEWHERE":
		return Busy
	}
	if text(ical.PropTransparency) == "TRANSPARENT" {
		return ""
	}
	if text(ical.PropStatus) == "TENTATIVE" {
		return BusyTentative
	}
	return Busy
}

// addPeriod appends the part of [s, e) within [from, to) to out, as a
// period of type typ ("" takes no time).
func addPeriod(out []Period, s, e, from, to time.Time, typ string) []Period {
	if typ == "" || !e.After(s) || !e.After(from) || !s.Before(to) {
		return out
	}
	return append(out, Period{Start: maxTime(s, from).UTC(), End: minTime(e, to).UTC(), Type: typ})
}

// singleProps are the properties a single event's periods depend on.
var singleProps = []string{ical.PropDateTimeStart, ical.PropDateTimeEnd, ical.PropDuration,
	ical.PropStatus, ical.PropTransparency, "X-MICROSOFT-CDO-BUSYSTATUS"}

// singlePeriods is eventPeriods of an event that does not repeat and has
// no overrides (most of a calendar), read from the Doc's fields as the
// calendar ToCalendar makes would hold them, without making it. ok is
// false for any other event, and for one whose times cannot be read
// (eventPeriods then reports why).
func singlePeriods(d *merge.Doc, from, to time.Time, local *time.Location) (out []Period, ok bool) {
	for k, f := range d.Fields {
		// Overrides, a rule, a component at the calendar's level (which
		// ToCalendar would add as a child), or a second value of a
		// property read here: the whole calendar is needed.
		if strings.HasPrefix(k, "RID=") || f.Name == ical.PropRecurrenceRule || f.Name == ical.PropRecurrenceID ||
			(f.Comp && strings.HasPrefix(k, "VCALENDAR/")) {
			return nil, false
		}
	}
	props := make(ical.Props, len(singleProps))
	for _, name := range singleProps {
		f, ok := d.Fields[name]
		if !ok {
			continue
		}
		if _, two := d.Fields[name+"#2"]; two || f.Comp {
			return nil, false
		}
		props[name] = []ical.Prop{{Name: name, Value: f.Value, Params: ical.Params(f.Params)}}
	}
	s, e, err := span(props, local)
	if err != nil {
		return nil, false
	}
	return addPeriod(nil, s, e, from, to, fbType(props)), true
}

// eventPeriods expands one event (master and overrides) within [from, to).
func eventPeriods(d *merge.Doc, from, to time.Time, local *time.Location) ([]Period, error) {
	if ps, ok := singlePeriods(d, from, to, local); ok {
		return ps, nil
	}
	return calendarPeriods(d, from, to, local)
}

// calendarPeriods is eventPeriods of any event, through its calendar.
func calendarPeriods(d *merge.Doc, from, to time.Time, local *time.Location) ([]Period, error) {
	c, err := merge.ToCalendar(d)
	if err != nil {
		return nil, err
	}
	master, overrides := merge.EventParts(c)
	var out []Period
	add := func(s, e time.Time, typ string) { out = addPeriod(out, s, e, from, to, typ) }
	replaced := map[int64]bool{}
	for _, o := range overrides {
		rid, _, err := when(o.Props.Get(ical.PropRecurrenceID), local)
		if err != nil {
			return nil, fmt.Errorf("RECURRENCE-ID: %w", err)
		}
		replaced[rid.Unix()] = true
		s, e, err := span(o.Props, local)
		if err != nil {
			return nil, err
		}
		add(s, e, fbType(o.Props))
	}
	if master == nil {
		return out, nil
	}
	start, end, err := span(master.Props, local)
	if err != nil {
		return nil, err
	}
	typ := fbType(master.Props)
	rr := master.Props.Get(ical.PropRecurrenceRule)
	if rr == nil {
		if !replaced[start.Unix()] {
			add(start, end, typ)
		}
		return out, nil
	}
	dur := end.Sub(start)
	_, date, _ := when(master.Props.Get(ical.PropDateTimeStart), local)
	loc := start.Location()
	opt, err := rrule.StrToROptionInLocation(rr.Value, loc)
	if err != nil {
		return nil, fmt.Errorf("RRULE %q: %w", rr.Value, err)
	}
	opt.Dtstart = start
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil, fmt.Errorf("RRULE %q: %w", rr.Value, err)
	}
	ex := map[int64]bool{}
	for _, x := range master.Props.Values(ical.PropExceptionDates) {
		for _, v := range strings.Split(x.Value, ",") {
			p := x
			p.Value = v
			t, _, err := when(&p, local)
			if err != nil {
				return nil, fmt.Errorf("EXDATE: %w", err)
			}
			if date {
				t = time.Date(t.Year(), t.Month(), t.Day(), start.Hour(), start.Minute(), 0, 0, loc)
			}
			ex[t.Unix()] = true
		}
	}
	// Walk the occurrences in order (an iterator: a rule such as
	// FREQ=SECONDLY must not be expanded whole), from the window's start.
	next := r.Iterator()
	for n, in := 0, 0; ; n++ {
		s, ok := next()
		if !ok || !s.Before(to) {
			break
		}
		if n >= maxSteps {
			return nil, errors.New("more than a million occurrences before the window ends")
		}
		if !s.Add(dur).After(from) {
			continue
		}
		if in++; in > maxOccurrences {
			return nil, errors.New("more than 5000 occurrences in the window")
		}
		if ex[s.Unix()] || replaced[s.Unix()] {
			continue
		}
		e := s.Add(dur)
		if date {
			// All-day: whole local days, whatever DST does in between.
			days := int(dur.Hours()/24 + 0.5)
			e = time.Date(s.Year(), s.Month(), s.Day()+days, 0, 0, 0, 0, loc)
		}
		add(s, e, typ)
	}
	return out, nil
}

// span returns an event's start and end instants.
func span(p ical.Props, local *time.Location) (time.Time, time.Time, error) {
	s, date, err := when(p.Get(ical.PropDateTimeStart), local)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("DTSTART: %w", err)
	}
	switch {
	case p.Get(ical.PropDateTimeEnd) != nil:
		e, _, err := when(p.Get(ical.PropDateTimeEnd), local)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("DTEND: %w", err)
		}
		return s, e, nil
	case p.Get(ical.PropDuration) != nil:
		d, err := p.Get(ical.PropDuration).Duration()
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("DURATION: %w", err)
		}
		return s, s.Add(d), nil
	case date:
		return s, s.AddDate(0, 0, 1), nil
	}
	return s, s, nil
}

// when reads a DATE or DATE-TIME: dates are midnights in local; times
// with TZID in that zone (IANA, or a Windows name pst/cal maps); floating
// times in local.
func when(p *ical.Prop, local *time.Location) (time.Time, bool, error) {
	if p == nil {
		return time.Time{}, false, errors.New("missing")
	}
	v := p.Value
	if strings.EqualFold(p.Params.Get(ical.ParamValue), "DATE") || len(v) == 8 {
		t, err := time.ParseInLocation("20060102", v, local)
		return t, true, err
	}
	if strings.HasSuffix(v, "Z") {
		t, err := time.Parse("20060102T150405Z", v)
		return t, false, err
	}
	loc := local
	if tzid := p.Params.Get(ical.ParamTimezoneID); tzid != "" {
		name := tzid
		if n := cal.IANAName(tzid); n != "" {
			name = n
		}
		l, err := loadLocation(name)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("unknown time zone %q", tzid)
		}
		loc = l
	}
	t, err := time.ParseInLocation("20060102T150405", v, loc)
	return t, false, err
}

// zones caches time.LoadLocation, which reads the zone's file each time:
// a calendar names a few zones in thousands of events.
var zones sync.Map // name → *time.Location, or nil when unknown

func loadLocation(name string) (*time.Location, error) {
	if v, ok := zones.Load(name); ok {
		if l := v.(*time.Location); l != nil {
			return l, nil
		}
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		zones.Store(name, (*time.Location)(nil))
		return nil, err
	}
	zones.Store(name, l)
	return l, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// FileName is the published file's name for a user: NAME.vfb, as the
// search path's %NAME% expands it (Outlook puts the part of the e-mail
// address before the @ there).
func FileName(name string) string { return sink.SafeName(name) + ".vfb" }

// Write computes the user's free/busy file and puts it atomically at
// dir/NAME.vfb. It returns the path and the events that could not be read
// (the file holds all the others).
func Write(dir string, docs []*merge.Doc, o Options) (string, []error, error) {
	if o.Name == "" {
		return "", nil, errors.New("freebusy: no user name for the file")
	}
	c, _, errs := Compute(docs, o)
	path, err := Publish(dir, c, o)
	return path, errs, err
}

// Publish puts the free/busy calendar c (from Compute) atomically at
// dir/NAME.vfb and returns the path.
func Publish(dir string, c *ical.Calendar, o Options) (string, error) {
	if o.Name == "" {
		return "", errors.New("freebusy: no user name for the file")
	}
	var b bytes.Buffer
	if err := sink.EncodeICS(&b, c); err != nil {
		return "", err
	}
	path := filepath.Join(dir, FileName(o.Name))
	if err := sink.WriteFileAtomic(path, b.Bytes()); err != nil {
		return "", fmt.Errorf("freebusy: write %s: %w", path, err)
	}
	return path, nil
}

// DefaultDir is where a folder store's free/busy files go: a "freebusy"
// folder beside the store folder (not inside: the store holds only
// snapshot data, and these files are published in the clear).
func DefaultDir(storeDir string) string {
	return filepath.Join(filepath.Dir(filepath.Clean(storeDir)), "freebusy")
}

// SearchPath is the value for Outlook's Internet Free/Busy "Search
// location" that finds the files in dir: a file:// URL with %NAME%.vfb. A
// UNC path \\server\share\x becomes file://\\server\share\x\%NAME%.vfb, a
// drive path file:///C:/x/%NAME%.vfb.
func SearchPath(dir string) string {
	d := strings.TrimRight(dir, `\/`)
	switch {
	case strings.HasPrefix(d, `\\`) || strings.HasPrefix(d, "//"):
		return "file://" + strings.ReplaceAll(d, "/", `\`) + `\%NAME%.vfb`
	case len(d) >= 2 && d[1] == ':':
		return "file:///" + strings.ReplaceAll(d, `\`, "/") + "/%NAME%.vfb"
	}
	return "file://" + filepath.ToSlash(d) + "/%NAME%.vfb"
}
