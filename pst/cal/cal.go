// Package cal converts Outlook calendar-like items to iCalendar models
// (github.com/emersion/go-ical): appointments (IPM.Appointment*) and meeting
// messages (IPM.Schedule.Meeting.*) to VEVENT, tasks (IPM.Task*) to VTODO,
// journal entries (IPM.Activity) to VJOURNAL, following [MS-OXCICAL] where
// it applies. Sticky notes (IPM.StickyNote) become plain text (NoteText).
//
// Every value is derived from the item alone, so converting the same item
// twice gives the same output: DTSTAMP is the last modification time, never
// the current time.
//
// Times: an appointment's DTSTART and DTEND carry the TZID of a VTIMEZONE
// built from the item's own time zone definition (the Windows zone name is
// mapped to an IANA name where known, so clients that look the name up get
// the same rules), and its rules cover every year the series spans (each
// rule set bounded by UNTIL where the next begins). Items that name their
// zone only by PidLidTimeZoneDescription ("(GMT-06:00) Central Time (US &
// Canada)") get the IANA zone's rules when the description maps to one;
// items without zone information get UTC times. All-day events get
// VALUE=DATE dates of the local start and end.
//
// Recurring appointments get RRULE, EXDATE and one VEVENT with a
// RECURRENCE-ID per modified instance (start, end, subject, location,
// busy status, reminder and all-day overrides, and from the exception's
// attachment object its changed body and attendees).
package cal

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-ical"
	"github.com/pstsync/pstsync/pst"
	"github.com/pstsync/pstsync/pst/cal/recur"
)

// ProdID is the PRODID of every calendar produced here.
const ProdID = "-//pstsync//pstsync//EN"

// Options tune the conversion. The zero value is the full conversion.
type Options struct {
	// NoAlarms omits VALARM components.
	NoAlarms bool
	// NoAttendees omits ORGANIZER and ATTENDEE properties.
	NoAttendees bool
}

// ErrWrongClass is returned when an item's message class does not fit the
// converter it was given to.
var ErrWrongClass = errors.New("cal: wrong message class")

const (
	dateFormat     = "20060102"
	utcFormat      = "20060102T150405Z"
	asfMeeting     = 0x1
	asfCanceled    = 0x4
	recipOrganizer = 0x2
)

// kind of a message class for Event.
type kind int

const (
	kindNone kind = iota
	kindAppointment
	kindRequest
	kindReply
	kindCancel
)

func eventKind(class string) kind {
	c := strings.ToLower(class)
	switch {
	case c == "ipm.appointment" || strings.HasPrefix(c, "ipm.appointment."):
		return kindAppointment
	case strings.HasPrefix(c, "ipm.ole.class.{00061055-0000-0000-c000-000000000046}"):
		return kindAppointment // exception embedded in a recurring appointment
	case c == "ipm.schedule.meeting.request" || strings.HasPrefix(c, "ipm.schedule.meeting.request."):
		return kindRequest
	case strings.HasPrefix(c, "ipm.schedule.meeting.resp."):
		return kindReply
	case c == "ipm.schedule.meeting.canceled" || strings.HasPrefix(c, "ipm.schedule.meeting.canceled."):
		return kindCancel
	}
	return kindNone
}

// IsEvent, IsTodo, IsJournal and IsNote report which converter handles a
// message class.
func IsEvent(class string) bool { return eventKind(class) != kindNone }

// IsMeetingMessage reports whether class is a meeting request, response or
// cancellation (IPM.Schedule.Meeting.Request, .Resp.*, .Canceled), which
// Event renders as a METHOD:REQUEST, REPLY or CANCEL calendar.
func IsMeetingMessage(class string) bool {
	switch eventKind(class) {
	case kindRequest, kindReply, kindCancel:
		return true
	}
	return false
}

// IsTodo reports whether Todo handles class.
func IsTodo(class string) bool { return hasClassPrefix(class, "ipm.task") }

// IsJournal reports whether Journal handles class.
func IsJournal(class string) bool { return hasClassPrefix(class, "ipm.activity") }

// IsNote reports whether NoteText handles class.
func IsNote(class string) bool { return hasClassPrefix(class, "ipm.stickynote") }

func hasClassPrefix(class, base string) bool {
	c := strings.ToLower(class)
	return c == base || strings.HasPrefix(c, base+".")
}

func newCalendar(method string) *ical.Calendar {
	c := ical.NewCalendar()
	c.Props.SetText(ical.PropProductID, ProdID)
	c.Props.SetText(ical.PropVersion, "2.0")
	if method != "" {
		c.Props.SetText(ical.PropMethod, method)
	}
	return c
}

// ---------------------------------------------------------------- events

// Event converts an appointment or meeting message to a VCALENDAR holding
// the VTIMEZONEs it needs, the VEVENT and, for recurring appointments, one
// VEVENT per modified instance. Meeting messages set METHOD (REQUEST,
// REPLY, CANCEL).
func Event(m *pst.Message, opts Options) (*ical.Calendar, error) {
	if m == nil || m.Props == nil {
		return nil, fmt.Errorf("cal: event: %w: empty message", ErrWrongClass)
	}
	k := eventKind(m.Class())
	if k == kindNone {
		return nil, fmt.Errorf("cal: event: %w %q", ErrWrongClass, m.Class())
	}
	p := m.Props
	b := &eventBuilder{m: m, p: p, opts: opts, kind: k, zones: map[string]*zone{}}
	b.start, b.hasStart = firstTime(p, id(p, appt(lidAppointmentStartWhole)), id(p, common(lidCommonStart)), pst.TagStartDate)
	b.end, b.hasEnd = firstTime(p, id(p, appt(lidAppointmentEndWhole)), id(p, common(lidCommonEnd)), pst.TagEndDate)
	b.allDay, _ = p.Bool(id(p, appt(lidAppointmentSubType)))
	recurring, _ := p.Bool(id(p, appt(lidRecurring)))
	var pat *recur.Pattern
	if blob := p.Binary(id(p, appt(lidAppointmentRecur))); recurring && len(blob) > 0 {
		var err error
		if pat, err = recur.Parse(blob); err != nil {
			// A damaged pattern leaves a correct single event.
			pat = nil
		}
	}
	fromYear, toYear := b.start.Year(), b.end.Year()
	if pat != nil {
		toYear = max(toYear, seriesEndYear(pat))
	}
	b.startZone = b.pickZone(pat != nil, lidAppointmentTZDefStartDisply)
	b.endZone = b.pickZone(pat != nil, lidAppointmentTZDefEndDisplay)
	if b.startZone == nil && b.hasStart {
		b.startZone = b.descriptionZone(fromYear-1, min(toYear, fromYear+50)+1)
	}
	if b.endZone == nil || pat != nil {
		b.endZone = b.startZone
	}
	// Outlook gives every appointment a zone: one pstsync wrote with UTC
	// times (UTCProperty) has UTC times again while its zone is UTC
	// itself (Windows "UTC": no offset, no daylight time).
	if p.String(p.NamedStrID(pst.PSPublicStrings, UTCProperty)) != "" {
		if b.startZone.isUTC() {
			b.startZone = nil
		}
		if b.endZone.isUTC() {
			b.endZone = nil
		}
	}

	method := map[kind]string{kindRequest: "REQUEST", kindReply: "REPLY", kindCancel: "CANCEL"}[k]
	c := newCalendar(method)
	ev := b.master()
	events := []*ical.Component{ev}
	if pat != nil {
		events = append(events, b.recurrence(ev, pat)...)
	}
	for _, n := range slices.Sorted(maps.Keys(b.zones)) {
		c.Children = append(c.Children, b.zones[n].vtimezone(fromYear-1, toYear+1))
	}
	c.Children = append(c.Children, events...)
	return c, nil
}

type eventBuilder struct {
	m                  *pst.Message
	p                  *pst.Props
	opts               Options
	kind               kind
	start, end         time.Time
	hasStart, hasEnd   bool
	allDay             bool
	startZone, endZone *zone
	zones              map[string]*zone // used zones by TZID
}

// pickZone chooses the zone definition for DTSTART (lid = StartDisplay) or
// DTEND (EndDisplay). Recurring items use the recurrence zone first, since
// the times in the recurrence blob are local to it.
func (b *eventBuilder) pickZone(recurring bool, lid uint32) *zone {
	p := b.p
	desc := p.String(id(p, appt(lidTimeZoneDescription)))
	var cands []func() (*TZDefinition, error)
	def := func(l uint32) func() (*TZDefinition, error) {
		return func() (*TZDefinition, error) {
			bl := p.Binary(id(p, appt(l)))
			if len(bl) == 0 {
				return nil, errors.New("absent")
			}
			return ParseTZDefinition(bl)
		}
	}
	tzs := func() (*TZDefinition, error) {
		bl := p.Binary(id(p, appt(lidTimeZoneStruct)))
		if len(bl) == 0 {
			return nil, errors.New("absent")
		}
		return ParseTZStruct(bl)
	}
	if recurring {
		cands = append(cands, def(lidAppointmentTZDefRecur), tzs)
	}
	cands = append(cands, def(lid))
	if lid == lidAppointmentTZDefStartDisply {
		cands = append(cands, tzs)
	}
	for _, f := range cands {
		d, err := f()
		if err != nil {
			continue
		}
		name := IANAName(d.KeyName)
		if name == "" && d.KeyName == "" {
			name = IANAName(desc)
		}
		if name == "" {
			name = d.KeyName
		}
		if name == "" {
			name = strings.TrimSpace(desc)
		}
		if name == "" {
			name = "Custom"
		}
		return &zone{tzid: sanitizeParam(name), def: d}
	}
	return nil
}

// descriptionZone builds a zone for an item that names its time zone only
// by PidLidTimeZoneDescription ("(GMT-06:00) Central Time (US & Canada)"):
// when the description maps to an IANA zone, its rules for the years from
// through to come from the IANA database. It returns nil otherwise.
func (b *eventBuilder) descriptionZone(from, to int) *zone {
	name := IANAName(b.p.String(id(b.p, appt(lidTimeZoneDescription))))
	if name == "" {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	return &zone{tzid: name, def: zoneFromLocation(loc, max(from, 1601), max(to, from))}
}

// seriesEndYear returns the last local year a series can reach: the end
// date's year, an upper bound for counted series, and for series without
// end a year far enough for every later zone rule to apply.
func seriesEndYear(p *recur.Pattern) int {
	start := p.StartDate.Year()
	switch p.EndType {
	case recur.EndAfterDate:
		if p.EndDate.Year() >= start {
			return p.EndDate.Year()
		}
	case recur.EndAfterCount:
		n := int64(p.OccurrenceCount)
		per := int64(p.Period)
		var days int64
		switch p.PatternType {
		case recur.PatternDay:
			days = n * per / 1440
		case recur.PatternWeek:
			days = n * per * 7
		default:
			days = n * per * 31
		}
		return start + int(min(days/365+1, 1000))
	}
	return start + 1000
}

// setTime writes a DATE-TIME property for the UTC instant t in zone z (UTC
// when z is nil).
func (b *eventBuilder) setTime(props ical.Props, name string, t time.Time, z *zone, add bool) {
	prop := &ical.Prop{Name: name, Params: ical.Params{}}
	if z == nil {
		prop.Value = t.UTC().Format(utcFormat)
	} else {
		b.zones[z.tzid] = z
		prop.Params.Set(ical.PropTimezoneID, z.tzid)
		prop.Value = z.local(t).Format(floatingFormat)
	}
	if add {
		props.Add(prop)
	} else {
		props.Set(prop)
	}
}

// setLocal writes a DATE-TIME property for floating local time l (from the
// recurrence blob) in zone z.
func (b *eventBuilder) setLocal(props ical.Props, name string, l time.Time, z *zone, add bool) {
	prop := &ical.Prop{Name: name, Params: ical.Params{}}
	if z == nil {
		prop.Value = l.Format(utcFormat) // no zone known: read as UTC
	} else {
		b.zones[z.tzid] = z
		prop.Params.Set(ical.PropTimezoneID, z.tzid)
		prop.Value = l.Format(floatingFormat)
	}
	if add {
		props.Add(prop)
	} else {
		props.Set(prop)
	}
}

func setDate(props ical.Props, name string, d time.Time, add bool) {
	prop := &ical.Prop{Name: name, Params: ical.Params{}}
	prop.SetDate(d)
	if add {
		props.Add(prop)
	} else {
		props.Set(prop)
	}
}

// allDayDate returns the local calendar date of the all-day boundary t. It
// uses the zone when the converted time is a local midnight, else rounds to
// the nearest UTC midnight (right for any zone within ±12 h).
func allDayDate(t time.Time, z *zone) time.Time {
	if z != nil {
		l := z.local(t)
		if l.Hour() == 0 && l.Minute() == 0 {
			return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
		}
	}
	r := t.UTC().Add(12 * time.Hour)
	return time.Date(r.Year(), r.Month(), r.Day(), 0, 0, 0, 0, time.UTC)
}

func (b *eventBuilder) master() *ical.Component {
	p := b.p
	ev := ical.NewComponent(ical.CompEvent)
	ev.Props.SetText(ical.PropUID, UID(b.m))
	setStamp(ev.Props, p)
	if b.hasStart {
		if b.allDay {
			sd := allDayDate(b.start, b.startZone)
			setDate(ev.Props, ical.PropDateTimeStart, sd, false)
			if b.hasEnd {
				ed := allDayDate(b.end, b.endZone)
				if !ed.After(sd) {
					ed = sd.AddDate(0, 0, 1)
				}
				setDate(ev.Props, ical.PropDateTimeEnd, ed, false)
			}
		} else {
			b.setTime(ev.Props, ical.PropDateTimeStart, b.start, b.startZone, false)
			if b.hasEnd && !b.end.Before(b.start) {
				b.setTime(ev.Props, ical.PropDateTimeEnd, b.end, b.endZone, false)
			}
		}
	}
	setText(ev.Props, ical.PropSummary, b.m.Subject())
	setText(ev.Props, ical.PropLocation, p.String(id(p, appt(lidLocation))))
	setText(ev.Props, ical.PropDescription, body(p))
	setCommon(ev.Props, p)
	if n, ok := p.Int(id(p, appt(lidAppointmentSequence))); ok && n >= 0 {
		ev.Props.Set(&ical.Prop{Name: ical.PropSequence, Params: ical.Params{}, Value: strconv.FormatInt(n, 10)})
	}
	if bs, ok := p.Int(id(p, appt(lidBusyStatus))); ok {
		setBusy(ev.Props, bs)
	}
	if b.allDay {
		setText(ev.Props, "X-MICROSOFT-CDO-ALLDAYEVENT", "TRUE")
	}
	state, _ := p.Int(id(p, appt(lidAppointmentStateFlags)))
	if b.kind == kindCancel || state&asfCanceled != 0 {
		ev.Props.SetText(ical.PropStatus, "CANCELLED")
	}
	if !b.opts.NoAttendees {
		b.people(ev, state&asfMeeting != 0, b.m.Recipients)
	}
	if !b.opts.NoAlarms {
		if set, _ := p.Bool(id(p, common(lidReminderSet))); set {
			delta, _ := p.Int(id(p, common(lidReminderDelta)))
			ev.Children = append(ev.Children, alarm(relTrigger(delta), b.m.Subject()))
		}
	}
	return ev
}

// setBusy writes TRANSP and X-MICROSOFT-CDO-BUSYSTATUS for a PidLidBusyStatus.
func setBusy(props ical.Props, bs int64) {
	names := []string{"FREE", "TENTATIVE", "BUSY", "OOF", "WORKINGELSEWHERE"}
	if bs < 0 || bs >= int64(len(names)) {
		return
	}
	transp := "OPAQUE"
	if bs == 0 {
		transp = "TRANSPARENT"
	}
	props.SetText(ical.PropTransparency, transp)
	setText(props, "X-MICROSOFT-CDO-BUSYSTATUS", names[bs])
}

// setCommon writes CLASS, PRIORITY, CATEGORIES, CREATED and LAST-MODIFIED.
func setCommon(props ical.Props, p *pst.Props) {
	if s, ok := p.Int(pst.TagSensitivity); ok {
		class := map[int64]string{0: "PUBLIC", 1: "PRIVATE", 2: "PRIVATE", 3: "CONFIDENTIAL"}[s]
		if class != "" {
			props.SetText(ical.PropClass, class)
		}
	}
	if imp, ok := p.Int(pst.TagImportance); ok {
		pr := map[int64]string{0: "9", 1: "5", 2: "1"}[imp]
		if pr != "" {
			props.Set(&ical.Prop{Name: ical.PropPriority, Params: ical.Params{}, Value: pr})
		}
	}
	if cats := categories(p); len(cats) > 0 {
		prop := ical.NewProp(ical.PropCategories)
		prop.SetTextList(cats)
		props.Set(prop)
	}
	if t, ok := p.Time(pst.TagCreationTime); ok && validTime(t) {
		props.SetDateTime(ical.PropCreated, t.UTC())
	}
	if t, ok := p.Time(pst.TagLastModificationTime); ok && validTime(t) {
		props.SetDateTime(ical.PropLastModified, t.UTC())
	}
}

func categories(p *pst.Props) []string {
	var out []string
	for _, s := range p.Strings(p.NamedStrID(pst.PSPublicStrings, "Keywords")) {
		if s = cleanText(s); strings.TrimSpace(s) != "" {
			out = append(out, strings.ReplaceAll(s, "\n", " "))
		}
	}
	return out
}

// setStamp writes DTSTAMP from the last modification time (then creation,
// submit and delivery times; the Unix epoch when none is known).
func setStamp(props ical.Props, p *pst.Props) {
	stamp := time.Unix(0, 0).UTC()
	for _, tag := range []uint16{pst.TagLastModificationTime, pst.TagCreationTime, pst.TagClientSubmitTime, pst.TagMessageDeliveryTime} {
		if t, ok := p.Time(tag); ok && validTime(t) {
			stamp = t
			break
		}
	}
	props.SetDateTime(ical.PropDateTimeStamp, stamp.UTC())
}

// validTime rejects zero times and the "none" sentinel 4501-01-01.
func validTime(t time.Time) bool {
	return !t.IsZero() && t.Year() > 1601 && t.Year() < 4500
}

func firstTime(p *pst.Props, ids ...uint16) (time.Time, bool) {
	for _, i := range ids {
		if t, ok := p.Time(i); ok && validTime(t) {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func relTrigger(delta int64) string {
	switch {
	case delta == 0:
		return "PT0S"
	case delta < 0:
		return "PT" + strconv.FormatInt(-delta, 10) + "M"
	}
	return "-PT" + strconv.FormatInt(delta, 10) + "M"
}

func alarm(trigger, subject string) *ical.Component {
	a := ical.NewComponent(ical.CompAlarm)
	a.Props.SetText(ical.PropAction, "DISPLAY")
	desc := cleanText(subject)
	if strings.TrimSpace(desc) == "" {
		desc = "Reminder"
	}
	a.Props.SetText(ical.PropDescription, desc)
	tr := &ical.Prop{Name: ical.PropTrigger, Params: ical.Params{}, Value: trigger}
	if strings.HasSuffix(trigger, "Z") {
		tr.Params.Set(ical.ParamValue, string(ical.ValueDateTime))
	}
	a.Props.Set(tr)
	return a
}

// ---------------------------------------------------------------- people

type person struct{ name, addr string }

func (pe person) prop(name string) *ical.Prop {
	prop := &ical.Prop{Name: name, Params: ical.Params{}, Value: "mailto:" + pe.addr}
	if pe.name != "" && pe.name != pe.addr {
		prop.Params.Set(ical.ParamCommonName, sanitizeParam(pe.name))
	}
	return prop
}

func pickAddr(smtp, email, addrType string) string {
	smtp, email = strings.TrimSpace(smtp), strings.TrimSpace(email)
	if strings.Contains(smtp, "@") {
		return smtp
	}
	if strings.Contains(email, "@") {
		return email
	}
	if email != "" && !strings.EqualFold(addrType, "SMTP") {
		return email // e.g. an Exchange DN: better than no address
	}
	return smtp
}

func sender(p *pst.Props) person {
	pe := person{
		name: p.String(pst.TagSentRepresentingName),
		addr: pickAddr(p.String(pst.TagSentRepresentingSMTPAddress), p.String(pst.TagSentRepresentingEmailAddress), p.String(pst.TagSentRepresentingAddrType)),
	}
	if pe.addr == "" {
		pe.addr = pickAddr(p.String(pst.TagSenderSMTPAddress), p.String(pst.TagSenderEmailAddress), p.String(pst.TagSenderAddrType))
	}
	if pe.name == "" {
		pe.name = p.String(pst.TagSenderName)
	}
	return pe
}

func recipient(r *pst.Props) person {
	name := r.String(pst.TagDisplayName)
	if name == "" {
		name = r.String(pst.TagRecipientDisplayName)
	}
	return person{name: name, addr: pickAddr(r.String(pst.TagSMTPAddress), r.String(pst.TagEmailAddress), r.String(pst.TagAddrType))}
}

var partStat = map[int64]string{0: "NEEDS-ACTION", 1: "ACCEPTED", 2: "TENTATIVE", 3: "ACCEPTED", 4: "DECLINED", 5: "NEEDS-ACTION"}

// people writes ORGANIZER and ATTENDEEs from the recipients recips (the
// item's, or those of an exception's attachment object).
func (b *eventBuilder) people(ev *ical.Component, meetingFlag bool, recips []*pst.Props) {
	p := b.p
	org := sender(p)
	var atts []*ical.Prop
	rsvp, _ := p.Bool(pst.TagResponseRequested)
	for _, r := range recips {
		flags, _ := r.Int(pst.TagRecipientFlags)
		pe := recipient(r)
		if flags&recipOrganizer != 0 {
			if org.addr == "" {
				org = pe
			}
			continue
		}
		if pe.addr == "" {
			continue
		}
		if b.kind == kindReply {
			continue // a reply names the responder only
		}
		prop := pe.prop(ical.PropAttendee)
		rt, _ := r.Int(pst.TagRecipientType)
		switch rt {
		case 2:
			prop.Params.Set(ical.ParamRole, "OPT-PARTICIPANT")
		case 3:
			prop.Params.Set(ical.ParamRole, "NON-PARTICIPANT")
			prop.Params.Set(ical.ParamCalendarUserType, "RESOURCE")
		default:
			prop.Params.Set(ical.ParamRole, "REQ-PARTICIPANT")
		}
		ps := "NEEDS-ACTION"
		if st, ok := r.Int(pst.TagRecipientTrackStatus); ok && partStat[st] != "" {
			ps = partStat[st]
		}
		prop.Params.Set(ical.ParamParticipationStatus, ps)
		if rsvp && ps == "NEEDS-ACTION" {
			prop.Params.Set(ical.ParamRSVP, "TRUE")
		}
		atts = append(atts, prop)
	}
	if b.kind == kindReply {
		// The responder is the sender; the organizer is the addressee.
		responder := org
		org = person{}
		for _, r := range recips {
			if t, _ := r.Int(pst.TagRecipientType); t == 1 || t == 0 {
				org = recipient(r)
				break
			}
		}
		if responder.addr != "" {
			prop := responder.prop(ical.PropAttendee)
			c := strings.ToLower(b.m.Class())
			ps := "NEEDS-ACTION"
			switch {
			case strings.HasPrefix(c, "ipm.schedule.meeting.resp.pos"):
				ps = "ACCEPTED"
			case strings.HasPrefix(c, "ipm.schedule.meeting.resp.neg"):
				ps = "DECLINED"
			case strings.HasPrefix(c, "ipm.schedule.meeting.resp.tent"):
				ps = "TENTATIVE"
			}
			prop.Params.Set(ical.ParamParticipationStatus, ps)
			atts = append(atts, prop)
		}
	}
	isMeeting := meetingFlag || len(atts) > 0 || b.kind != kindAppointment
	if isMeeting && org.addr != "" {
		ev.Props.Set(org.prop(ical.PropOrganizer))
	}
	for _, a := range atts {
		ev.Props.Add(a)
	}
}

// ---------------------------------------------------------------- recurrence

// recurrence adds RRULE and EXDATE to the master and returns the
// exception VEVENTs.
func (b *eventBuilder) recurrence(ev *ical.Component, pat *recur.Pattern) []*ical.Component {
	z := b.startZone
	startLocal := b.start
	if z != nil {
		startLocal = z.local(b.start)
	}
	offset := time.Duration(pat.StartTimeOffset) * time.Minute
	var until string
	if pat.EndType == recur.EndAfterDate {
		switch {
		case b.allDay:
			until = pat.EndDate.Format(dateFormat)
		case z != nil:
			until = z.toUTC(pat.EndDate.Add(offset)).Format(utcFormat)
		default:
			until = pat.EndDate.Add(offset).Format(utcFormat)
		}
	}
	rule, err := pat.RRule(startLocal, until)
	if err != nil {
		return nil // unsupported (e.g. Hijri): keep the single event
	}
	ev.Props.Set(&ical.Prop{Name: ical.PropRecurrenceRule, Params: ical.Params{}, Value: b.writtenRule(rule)})

	modified := map[string]bool{}
	for _, e := range pat.Exceptions {
		modified[e.OriginalStart.Format(dateFormat)] = true
	}
	for _, d := range pat.DeletedDates {
		if modified[d.Format(dateFormat)] {
			continue
		}
		b.instanceID(ev.Props, ical.PropExceptionDates, d, offset, true)
	}

	objects := b.exceptionObjects()
	var out []*ical.Component
	for i := range pat.Exceptions {
		e := &pat.Exceptions[i]
		out = append(out, b.exception(ev, e, offset, objects[e.OriginalStart.Format(dateFormat)]))
	}
	return out
}

// RRuleProperty is the user property (a string in PS_PUBLIC_STRINGS) in
// which pstsync's Outlook bridge keeps the RRULE it wrote when the
// recurrence pattern cannot hold all of it: Outlook takes a series' week
// start (WKST) from the user's calendar options, not from the item.
const RRuleProperty = "pstsyncRRULE"

// UTCProperty is the user property (a string in PS_PUBLIC_STRINGS, "1")
// that pstsync's Outlook bridge sets on an appointment it wrote with UTC
// times: Outlook gives it the zone "UTC", and its times are read as UTC
// times again while that is its zone.
const UTCProperty = "pstsyncUTC"

// writtenRule returns the RRULE pstsync wrote (RRuleProperty) when the
// item's pattern is still that rule apart from its WKST, else rule: a
// series whose pattern the user changed in Outlook is read as it is.
func (b *eventBuilder) writtenRule(rule string) string {
	w := strings.TrimSpace(b.p.String(b.p.NamedStrID(pst.PSPublicStrings, RRuleProperty)))
	if w == "" || w == rule || !slices.Equal(ruleParts(w), ruleParts(rule)) {
		return rule
	}
	return w
}

// ruleParts are an RRULE's parts without WKST, upper case, their value
// lists and the parts sorted.
func ruleParts(rule string) []string {
	var out []string
	for _, p := range strings.Split(strings.ToUpper(rule), ";") {
		k, v, _ := strings.Cut(p, "=")
		if p == "" || k == "WKST" {
			continue
		}
		vs := strings.Split(v, ",")
		slices.Sort(vs)
		out = append(out, k+"="+strings.Join(vs, ","))
	}
	slices.Sort(out)
	return out
}

// exceptionObjects indexes the exception attachment objects of a
// recurring appointment (embedded messages of class
// IPM.OLE.CLASS.{00061055-0000-0000-C000-000000000046}) by the local date
// of the instance they replace (PidLidExceptionReplaceTime).
func (b *eventBuilder) exceptionObjects() map[string]*pst.Message {
	out := map[string]*pst.Message{}
	for _, a := range b.m.Attachments {
		if a == nil {
			continue
		}
		em := a.Embedded
		if em == nil || em.Props == nil ||
			!strings.HasPrefix(strings.ToLower(em.Class()), "ipm.ole.class.{00061055-0000-0000-c000-000000000046}") {
			continue
		}
		rt, ok := em.Props.Time(id(em.Props, appt(lidExceptionReplaceTime)))
		if !ok || !validTime(rt) {
			continue
		}
		l := rt.UTC()
		if b.startZone != nil {
			l = b.startZone.local(rt)
		}
		out[l.Format(dateFormat)] = em
	}
	return out
}

// instanceID writes an EXDATE or RECURRENCE-ID for the instance on the
// local date d (which may carry a time already).
func (b *eventBuilder) instanceID(props ical.Props, name string, d time.Time, offset time.Duration, add bool) {
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	if b.allDay {
		setDate(props, name, day, add)
		return
	}
	b.setLocal(props, name, day.Add(offset), b.startZone, add)
}

// exception builds the VEVENT of one modified instance: the master's
// properties with the overrides of e and, when the instance has its
// attachment object obj, its changed body and attendees.
func (b *eventBuilder) exception(master *ical.Component, e *recur.Exception, offset time.Duration, obj *pst.Message) *ical.Component {
	ev := ical.NewComponent(ical.CompEvent)
	for name, ps := range master.Props {
		switch name {
		case ical.PropRecurrenceRule, ical.PropExceptionDates, ical.PropDateTimeStart, ical.PropDateTimeEnd:
			continue
		}
		cp := make([]ical.Prop, len(ps))
		for i, x := range ps {
			cp[i] = ical.Prop{Name: x.Name, Value: x.Value, Params: ical.Params{}}
			for k, v := range x.Params {
				cp[i].Params[k] = append([]string(nil), v...)
			}
		}
		ev.Props[name] = cp
	}
	b.instanceID(ev.Props, ical.PropRecurrenceID, e.OriginalStart, offset, false)
	allDay := b.allDay
	if e.Has(recur.AROSubType) {
		allDay = e.SubType != 0
	}
	if allDay {
		sd := time.Date(e.Start.Year(), e.Start.Month(), e.Start.Day(), 0, 0, 0, 0, time.UTC)
		ed := time.Date(e.End.Year(), e.End.Month(), e.End.Day(), 0, 0, 0, 0, time.UTC)
		if !ed.After(sd) {
			ed = sd.AddDate(0, 0, 1)
		}
		setDate(ev.Props, ical.PropDateTimeStart, sd, false)
		setDate(ev.Props, ical.PropDateTimeEnd, ed, false)
	} else {
		b.setLocal(ev.Props, ical.PropDateTimeStart, e.Start, b.startZone, false)
		if !e.End.Before(e.Start) {
			b.setLocal(ev.Props, ical.PropDateTimeEnd, e.End, b.startZone, false)
		}
	}
	if e.Has(recur.AROSubject) {
		ev.Props.Del(ical.PropSummary)
		setText(ev.Props, ical.PropSummary, e.Subject)
	}
	if e.Has(recur.AROLocation) {
		ev.Props.Del(ical.PropLocation)
		setText(ev.Props, ical.PropLocation, e.Location)
	}
	if obj != nil && e.Has(recur.AROExceptionalBody) {
		ev.Props.Del(ical.PropDescription)
		setText(ev.Props, ical.PropDescription, body(obj.Props))
	}
	if obj != nil && len(obj.Recipients) > 0 && !b.opts.NoAttendees {
		// The attachment object's recipients are the instance's
		// attendees; without any it keeps the series' list.
		ev.Props.Del(ical.PropOrganizer)
		ev.Props.Del(ical.PropAttendee)
		state, _ := b.p.Int(id(b.p, appt(lidAppointmentStateFlags)))
		b.people(ev, state&asfMeeting != 0, obj.Recipients)
	}
	if e.Has(recur.AROBusyStatus) {
		ev.Props.Del(ical.PropTransparency)
		ev.Props.Del("X-MICROSOFT-CDO-BUSYSTATUS")
		setBusy(ev.Props, int64(e.BusyStatus))
	}
	// Alarms: inherit unless the exception overrides them.
	reminder := len(master.Children) > 0
	delta, _ := b.p.Int(id(b.p, common(lidReminderDelta)))
	if e.Has(recur.AROReminder) {
		reminder = e.ReminderSet
	}
	if e.Has(recur.AROReminderDelta) {
		delta = int64(int32(e.ReminderDelta))
	}
	if reminder && !b.opts.NoAlarms {
		subj := b.m.Subject()
		if e.Has(recur.AROSubject) {
			subj = e.Subject
		}
		ev.Children = append(ev.Children, alarm(relTrigger(delta), subj))
	}
	return ev
}

// ---------------------------------------------------------------- UID

var goidClassID = []byte{0x04, 0x00, 0x00, 0x00, 0x82, 0x00, 0xE0, 0x00, 0x74, 0xC5, 0xB7, 0x10, 0x1A, 0x82, 0xE0, 0x08}

// UID returns the iCalendar UID of a calendar item ([MS-OXCICAL]
// 2.1.3.1.1.20.26): the external UID embedded after a "vCal-Uid" marker in
// PidLidGlobalObjectId, else the upper-case hex of PidLidGlobalObjectId
// with the instance date zeroed (the same for every copy of one meeting,
// in every attendee's store). Items without a global object id (tasks,
// journal entries, some local appointments) get "PSTSYNC-" and the hex of
// PidTagSearchKey, or a hash of their class, subject and times.
func UID(m *pst.Message) string {
	if m == nil || m.Props == nil {
		return "PSTSYNC-EMPTY"
	}
	p := m.Props
	for _, l := range []uint32{lidGlobalObjectID, lidCleanGlobalObjectID} {
		if u := uidFromGlobalObjectID(p.Binary(id(p, meeting(l)))); u != "" {
			return u
		}
	}
	if sk := p.Binary(pst.TagSearchKey); len(sk) > 0 {
		return "PSTSYNC-" + strings.ToUpper(hex.EncodeToString(sk))
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", m.Class(), m.Subject())
	for _, tag := range []uint16{pst.TagCreationTime, pst.TagStartDate, pst.TagEndDate} {
		if t, ok := p.Time(tag); ok {
			fmt.Fprintf(h, "%d\x00", t.UnixNano())
		}
	}
	fmt.Fprintf(h, "%d", m.NID)
	return "PSTSYNC-" + strings.ToUpper(hex.EncodeToString(h.Sum(nil)[:16]))
}

func uidFromGlobalObjectID(b []byte) string {
	if len(b) < 40 {
		if len(b) == 0 {
			return ""
		}
		return strings.ToUpper(hex.EncodeToString(b))
	}
	data := b[40:]
	if n := binary.LittleEndian.Uint32(b[36:40]); uint64(n) <= uint64(len(data)) {
		data = data[:n]
	}
	if len(data) > 12 && string(data[:8]) == "vCal-Uid" {
		s := data[12:]
		if i := strings.IndexByte(string(s), 0); i >= 0 {
			s = s[:i]
		}
		if u := strings.TrimSpace(string(s)); u != "" && utf8.ValidString(u) && !strings.ContainsAny(u, "\r\n") {
			return u
		}
	}
	c := append([]byte(nil), b...)
	if string(c[:16]) == string(goidClassID) {
		c[16], c[17], c[18], c[19] = 0, 0, 0, 0
	}
	return strings.ToUpper(hex.EncodeToString(c))
}

// ---------------------------------------------------------------- text

// body returns PidTagBody cleaned for a TEXT value.
func body(p *pst.Props) string { return cleanText(p.String(pst.TagBody)) }

// cleanText normalises line ends to LF, drops trailing NULs and other
// control characters that iCalendar TEXT cannot hold, and trims trailing
// blank space.
func cleanText(s string) string {
	s = strings.TrimRight(s, "\x00")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7F || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	return strings.TrimRight(s, " \t\n")
}

func setText(props ical.Props, name, s string) {
	if s = cleanText(s); s != "" {
		prop := ical.NewProp(name)
		prop.SetText(s)
		if strings.HasPrefix(name, "X-") {
			prop.Params.Del(ical.ParamValue) // TEXT is the default
		}
		props.Set(prop)
	}
}

// sanitizeParam makes s usable as a parameter value: no control
// characters, no double quotes.
func sanitizeParam(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7F || r == '"' {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}
