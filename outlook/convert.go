package outlook

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"

	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/pst"
	"github.com/pstsync/pstsync/pst/cal"
	"github.com/pstsync/pstsync/pst/contact"
)

// Item classes pstsync writes.
const (
	ClassAppointment = "IPM.Appointment"
	ClassContact     = "IPM.Contact"
)

// UIDProperty is the name of the user property (UserProperties) that
// links an Outlook item to its shared item: the pstsync UID.
const UIDProperty = "pstsyncUID"

// Write is what pstsync sets on an Outlook item through the object
// model's typed members.
type Write struct {
	// Class is ClassAppointment or ClassContact.
	Class string
	// UID is stored in the UIDProperty user property.
	UID string
	// Fields are members by object-model name with their values: string,
	// bool, int or time.Time. Appointment times are wall-clock times of
	// TimeZone (StartInStartTimeZone, EndInEndTimeZone); all-day dates are
	// midnights.
	Fields map[string]any
	// Categories is the Categories member (a list; Outlook joins it with
	// the list separator).
	Categories []string
	// TimeZone is the Windows time zone key name of StartTimeZone and
	// EndTimeZone ("" for all-day events and for UTC times: "UTC").
	TimeZone string
	// Recipients are the attendees (appointments).
	Recipients []Recipient
	// Recurrence is the series pattern (nil: a single appointment).
	Recurrence *Recurrence
	// Photo is the contact picture (ContactItem.AddPicture), JPEG or PNG.
	Photo []byte
	// UserProps are further user properties (text) by name, beside
	// UIDProperty: RRuleProperty keeps what RecurrencePattern cannot (a
	// series' WKST). An empty value removes the property.
	UserProps map[string]string
}

// RRuleProperty is the user property holding the RRULE pstsync wrote when
// Outlook's RecurrencePattern cannot keep all of it (WKST: Outlook takes
// the week start from the user's calendar options). The converter
// (pst/cal) uses it while the item's pattern is still that rule apart from
// WKST, on both the PST and the Outlook path.
const RRuleProperty = cal.RRuleProperty

// UTCProperty is the user property ("1") on an appointment written with
// UTC times: Outlook gives it the zone "UTC", and the converter (pst/cal)
// reads its times as UTC times again while that is its zone, on both
// paths.
const UTCProperty = cal.UTCProperty

// Recipient is one attendee.
type Recipient struct {
	Name, Address string
	// Type is OlMeetingRecipientType: 1 required, 2 optional, 3 resource.
	Type int
	// Response is OlResponseStatus (0 none, 2 tentative, 3 accepted, 4
	// declined, 5 not responded).
	Response int
}

// Recurrence types (OlRecurrenceType).
const (
	RecursDaily    = 0
	RecursWeekly   = 1
	RecursMonthly  = 2
	RecursMonthNth = 3
	RecursYearly   = 5
	RecursYearNth  = 6
)

// Recurrence is a RecurrencePattern.
type Recurrence struct {
	Type          int
	Interval      int
	DayOfWeekMask int // olSunday = 1 ... olSaturday = 64
	DayOfMonth    int
	Instance      int // 1..5 (5 = last)
	MonthOfYear   int
	// PatternStart is the first date; PatternEnd the last (zero with
	// Occurrences or NoEnd).
	PatternStart, PatternEnd time.Time
	Occurrences              int
	NoEnd                    bool
	Exceptions               []Exception
}

// Exception changes or deletes one occurrence, found by its original
// start (wall clock of the series' zone; the date alone for all-day).
type Exception struct {
	Original   time.Time
	Deleted    bool
	Start, End time.Time // zero: unchanged
	Subject    *string
	Location   *string
	Body       *string
	// Recipients are the occurrence's own attendees (nil: the series').
	Recipients []Recipient
}

// ---------------------------------------------------------------- read

// ToDoc converts an item read from Outlook with the PST path's converters
// (pst/cal, pst/contact), so the same item gives the same merge.Doc
// whichever way it was read. The UIDProperty, when set, is the Doc's UID.
func ToDoc(it *Item) (*merge.Doc, error) {
	if it == nil || it.Msg == nil || it.Msg.Props == nil {
		return nil, errors.New("outlook: empty item")
	}
	m := it.Msg
	var d *merge.Doc
	switch pst.KindOf(m.Class()) {
	case pst.KindAppointment:
		c, err := cal.Event(m, cal.Options{})
		if err != nil {
			return nil, fmt.Errorf("outlook: item %s: %w", it.ID, err)
		}
		c.Props.Del(ical.PropMethod)
		if d, err = merge.FromCalendar(c); err != nil {
			return nil, fmt.Errorf("outlook: item %s: %w", it.ID, err)
		}
	case pst.KindContact:
		card, err := contact.ToVCard(m)
		if err != nil {
			return nil, fmt.Errorf("outlook: item %s: %w", it.ID, err)
		}
		if d, err = merge.FromVCard(card); err != nil {
			return nil, fmt.Errorf("outlook: item %s: %w", it.ID, err)
		}
	default:
		return nil, fmt.Errorf("outlook: item %s: class %q is not an appointment or contact", it.ID, m.Class())
	}
	if it.UID != "" {
		SetUID(d, it.UID)
	}
	return d, nil
}

// StoredUID returns the pstsync UID user property of an item as its
// store holds it (a string-named property in PS_PUBLIC_STRINGS, as
// UserProperties.Add makes it): "" for an item pstsync never wrote. The
// PST path uses it as the item's UID, as the bridge does, so an item
// pstsync wrote through Outlook is the same shared item whichever way it
// is read.
func StoredUID(m *pst.Message) string {
	if m == nil || m.Props == nil {
		return ""
	}
	return strings.TrimSpace(m.Props.String(m.Props.NamedStrID(pst.PSPublicStrings, UIDProperty)))
}

// SetUID makes uid the UID of d.
func SetUID(d *merge.Doc, uid string) {
	d.UID = uid
	if f, ok := d.Fields["UID"]; ok {
		f.Value = uid
		d.Fields["UID"] = f
	}
}

// ---------------------------------------------------------------- write

// FromDoc converts a merged item into what pstsync sets in Outlook.
func FromDoc(d *merge.Doc) (*Write, error) {
	switch {
	case d == nil:
		return nil, errors.New("outlook: nil doc")
	case d.Kind == merge.KindEvent:
		c, err := merge.ToCalendar(d)
		if err != nil {
			return nil, err
		}
		return eventWrite(d.UID, c)
	case d.Kind == merge.KindContact:
		card, err := merge.ToVCard(d)
		if err != nil {
			return nil, err
		}
		return contactWrite(d.UID, card)
	}
	return nil, fmt.Errorf("outlook: %s %s: %w (only events and contacts go into Outlook)", d.Kind, d.UID, ErrRefused)
}

func eventWrite(uid string, c *ical.Calendar) (*Write, error) {
	master, overrides := merge.EventParts(c)
	if master == nil {
		return nil, fmt.Errorf("outlook: event %s: no master VEVENT: %w", uid, ErrRefused)
	}
	w := &Write{Class: ClassAppointment, UID: uid, Fields: map[string]any{}}
	p := master.Props
	start, allDay, loc, err := icalTime(p.Get(ical.PropDateTimeStart))
	if err != nil {
		return nil, fmt.Errorf("outlook: event %s: DTSTART: %w", uid, err)
	}
	end := start
	if e := p.Get(ical.PropDateTimeEnd); e != nil {
		if end, _, _, err = icalTime(e); err != nil {
			return nil, fmt.Errorf("outlook: event %s: DTEND: %w", uid, err)
		}
	} else if dur := p.Get(ical.PropDuration); dur != nil {
		if dd, err := dur.Duration(); err == nil {
			end = start.Add(dd)
		}
	} else if allDay {
		end = start.AddDate(0, 0, 1)
	}
	w.Fields["AllDayEvent"] = allDay
	if !allDay {
		w.TimeZone = WindowsZone(loc.String())
		if w.TimeZone == "" {
			return nil, fmt.Errorf("outlook: event %s: time zone %q has no Windows equivalent: %w", uid, loc, ErrRefused)
		}
	}
	w.Fields["Start"], w.Fields["End"] = start, end
	text := func(name string) string {
		if pr := p.Get(name); pr != nil {
			s, _ := pr.Text()
			return s
		}
		return ""
	}
	w.Fields["Subject"] = text(ical.PropSummary)
	if s := text(ical.PropLocation); s != "" {
		w.Fields["Location"] = s
	}
	if s := text(ical.PropDescription); s != "" {
		w.Fields["Body"] = s
	}
	switch strings.ToUpper(text(ical.PropClass)) {
	case "PRIVATE":
		w.Fields["Sensitivity"] = SensitivityPrivate
	case "CONFIDENTIAL":
		w.Fields["Sensitivity"] = SensitivityConfidential
	default:
		w.Fields["Sensitivity"] = SensitivityNormal
	}
	if pr := p.Get(ical.PropPriority); pr != nil {
		w.Fields["Importance"] = importance(pr.Value)
	} else {
		w.Fields["Importance"] = 1
	}
	w.Fields["BusyStatus"] = busyStatus(text("X-MICROSOFT-CDO-BUSYSTATUS"), text(ical.PropTransparency))
	if pr := p.Get(ical.PropCategories); pr != nil {
		cats, _ := pr.TextList()
		w.Categories = cats
	}
	w.Fields["ReminderSet"] = false
	for _, a := range master.Children {
		if a.Name != ical.CompAlarm {
			continue
		}
		if tr := a.Props.Get(ical.PropTrigger); tr != nil {
			if dd, err := tr.Duration(); err == nil && dd <= 0 {
				w.Fields["ReminderSet"] = true
				w.Fields["ReminderMinutesBeforeStart"] = int(-dd / time.Minute)
				break
			}
		}
	}
	w.Recipients = attendees(p)
	w.UserProps = map[string]string{RRuleProperty: "", UTCProperty: ""}
	if !allDay && loc == time.UTC { // UTC (or floating) times, no TZID
		w.UserProps[UTCProperty] = "1"
	}
	if rr := p.Get(ical.PropRecurrenceRule); rr != nil {
		if strings.Contains(strings.ToUpper(rr.Value), "WKST=") {
			w.UserProps[RRuleProperty] = rr.Value
		}
		if w.Recurrence, err = recurrence(rr.Value, start, loc, allDay); err != nil {
			return nil, fmt.Errorf("outlook: event %s: %w", uid, err)
		}
		for _, ex := range p.Values(ical.PropExceptionDates) {
			for _, v := range strings.Split(ex.Value, ",") {
				t, err := parseIcalValue(v, ex.Params.Get(ical.ParamTimezoneID), loc, ex.Params.Get(ical.ParamValue) == "DATE" || len(v) == 8)
				if err != nil {
					return nil, fmt.Errorf("outlook: event %s: EXDATE: %w", uid, err)
				}
				w.Recurrence.Exceptions = append(w.Recurrence.Exceptions, Exception{Original: wall(t, loc, allDay), Deleted: true})
			}
		}
		for _, o := range overrides {
			rid, _, _, err := icalTime(o.Props.Get(ical.PropRecurrenceID))
			if err != nil {
				return nil, fmt.Errorf("outlook: event %s: RECURRENCE-ID: %w", uid, err)
			}
			ex := Exception{Original: wall(rid, loc, allDay)}
			if s, _, _, err := icalTime(o.Props.Get(ical.PropDateTimeStart)); err == nil {
				ex.Start = wall(s, loc, allDay)
			}
			if e, _, _, err := icalTime(o.Props.Get(ical.PropDateTimeEnd)); err == nil {
				ex.End = wall(e, loc, allDay)
			}
			if pr := o.Props.Get(ical.PropSummary); pr != nil {
				if s, _ := pr.Text(); s != text(ical.PropSummary) {
					ex.Subject = &s
				}
			}
			if pr := o.Props.Get(ical.PropLocation); pr != nil {
				if s, _ := pr.Text(); s != text(ical.PropLocation) {
					ex.Location = &s
				}
			}
			if pr := o.Props.Get(ical.PropDescription); pr != nil {
				if s, _ := pr.Text(); s != text(ical.PropDescription) {
					ex.Body = &s
				}
			}
			if rs := attendees(o.Props); !slices.Equal(rs, w.Recipients) {
				ex.Recipients = rs
				if ex.Recipients == nil {
					ex.Recipients = []Recipient{}
				}
			}
			w.Recurrence.Exceptions = append(w.Recurrence.Exceptions, ex)
		}
		slices.SortFunc(w.Recurrence.Exceptions, func(a, b Exception) int { return a.Original.Compare(b.Original) })
	}
	if !allDay {
		w.Fields["Start"], w.Fields["End"] = wall(start, loc, false), wall(end, loc, false)
	}
	return w, nil
}

// attendees reads the ATTENDEE properties as recipients.
func attendees(p ical.Props) []Recipient {
	var out []Recipient
	for _, a := range p.Values(ical.PropAttendee) {
		r := Recipient{Address: mailto(a.Value), Type: 1, Name: a.Params.Get(ical.ParamCommonName)}
		switch strings.ToUpper(a.Params.Get(ical.ParamRole)) {
		case "OPT-PARTICIPANT":
			r.Type = 2
		case "NON-PARTICIPANT":
			r.Type = 3
		}
		r.Response = map[string]int{"ACCEPTED": 3, "TENTATIVE": 2, "DECLINED": 4}[strings.ToUpper(a.Params.Get(ical.ParamParticipationStatus))]
		if r.Address != "" {
			out = append(out, r)
		}
	}
	return out
}

// wall returns t's wall clock in loc as a time in time.UTC (the floating
// local time the object model's *InStartTimeZone members take).
func wall(t time.Time, loc *time.Location, allDay bool) time.Time {
	if allDay || loc == nil {
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
	}
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
}

// importance maps PRIORITY to OlImportance (0 low, 1 normal, 2 high), as
// [MS-OXCICAL] does.
func importance(priority string) int {
	n, err := strconv.Atoi(priority)
	switch {
	case err != nil || n == 0 || n == 5:
		return 1
	case n < 5:
		return 2
	}
	return 0
}

func busyStatus(cdo, transp string) int {
	switch strings.ToUpper(cdo) {
	case "FREE":
		return 0
	case "TENTATIVE":
		return 1
	case "BUSY":
		return 2
	case "OOF":
		return 3
	case "WORKINGELSEWHERE":
		return 4
	}
	if strings.EqualFold(transp, "TRANSPARENT") {
		return 0
	}
	return 2
}

func mailto(v string) string {
	if len(v) > 7 && strings.EqualFold(v[:7], "mailto:") {
		return v[7:]
	}
	return v
}

// icalTime reads a DATE or DATE-TIME property: the instant, whether it is
// a date, and its zone (time.UTC for UTC and floating times).
func icalTime(p *ical.Prop) (time.Time, bool, *time.Location, error) {
	if p == nil {
		return time.Time{}, false, nil, errors.New("missing")
	}
	date := strings.EqualFold(p.Params.Get(ical.ParamValue), "DATE") || len(p.Value) == 8
	loc := time.UTC
	if tzid := p.Params.Get(ical.ParamTimezoneID); tzid != "" && !date {
		l, err := zoneByName(tzid)
		if err != nil {
			return time.Time{}, false, nil, err
		}
		loc = l
	}
	t, err := parseIcalValue(p.Value, "", loc, date)
	return t, date, loc, err
}

func parseIcalValue(v, tzid string, loc *time.Location, date bool) (time.Time, error) {
	if tzid != "" {
		l, err := zoneByName(tzid)
		if err != nil {
			return time.Time{}, err
		}
		loc = l
	}
	if loc == nil {
		loc = time.UTC
	}
	if date {
		return time.ParseInLocation("20060102", v[:min(8, len(v))], time.UTC)
	}
	if strings.HasSuffix(v, "Z") {
		return time.Parse("20060102T150405Z", v)
	}
	return time.ParseInLocation("20060102T150405", v, loc)
}

func zoneByName(tzid string) (*time.Location, error) {
	name := tzid
	if n := cal.IANAName(tzid); n != "" {
		name = n
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", tzid)
	}
	return l, nil
}

var dayBits = map[string]int{"SU": 1, "MO": 2, "TU": 4, "WE": 8, "TH": 16, "FR": 32, "SA": 64}

// recurrence converts an RRULE into a RecurrencePattern.
func recurrence(rule string, start time.Time, loc *time.Location, allDay bool) (*Recurrence, error) {
	parts := map[string]string{}
	for _, kv := range strings.Split(rule, ";") {
		k, v, _ := strings.Cut(kv, "=")
		parts[strings.ToUpper(k)] = v
	}
	r := &Recurrence{Interval: 1, PatternStart: dateOf(wall(start, loc, allDay))}
	if s := parts["INTERVAL"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("RRULE %q: bad INTERVAL: %w", rule, ErrRefused)
		}
		r.Interval = n
	}
	var byday []string
	if s := parts["BYDAY"]; s != "" {
		byday = strings.Split(s, ",")
	}
	mask := func() (int, int, error) {
		m, nth := 0, 0
		for _, d := range byday {
			i := len(d) - 2
			if i < 0 || dayBits[d[i:]] == 0 {
				return 0, 0, fmt.Errorf("RRULE %q: BYDAY %q: %w", rule, d, ErrRefused)
			}
			m |= dayBits[d[i:]]
			if i > 0 {
				n, err := strconv.Atoi(d[:i])
				if err != nil {
					return 0, 0, fmt.Errorf("RRULE %q: BYDAY %q: %w", rule, d, ErrRefused)
				}
				nth = n
			}
		}
		if s := parts["BYSETPOS"]; s != "" {
			nth, _ = strconv.Atoi(s)
		}
		if nth == -1 {
			nth = 5
		}
		return m, nth, nil
	}
	switch parts["FREQ"] {
	case "DAILY":
		r.Type = RecursDaily
	case "WEEKLY":
		r.Type = RecursWeekly
		m, _, err := mask()
		if err != nil {
			return nil, err
		}
		if m == 0 {
			m = 1 << int(wall(start, loc, allDay).Weekday())
		}
		r.DayOfWeekMask = m
	case "MONTHLY", "YEARLY":
		yearly := parts["FREQ"] == "YEARLY"
		m, nth, err := mask()
		if err != nil {
			return nil, err
		}
		switch {
		case m != 0:
			r.Type, r.DayOfWeekMask, r.Instance = RecursMonthNth, m, nth
			if yearly {
				r.Type = RecursYearNth
			}
		default:
			r.Type = RecursMonthly
			if yearly {
				r.Type = RecursYearly
			}
			r.DayOfMonth = wall(start, loc, allDay).Day()
			if s := parts["BYMONTHDAY"]; s == "-1" {
				r.DayOfMonth = 31
			} else if s != "" {
				ds := strings.Split(s, ",")
				if n, err := strconv.Atoi(ds[len(ds)-1]); err == nil && n > 0 {
					r.DayOfMonth = n
				}
			}
		}
		if yearly {
			r.MonthOfYear = int(wall(start, loc, allDay).Month())
			r.Interval = 12 * r.Interval / 12 // Outlook: yearly interval in years
		}
	default:
		return nil, fmt.Errorf("RRULE %q: frequency %q: %w", rule, parts["FREQ"], ErrRefused)
	}
	switch {
	case parts["COUNT"] != "":
		n, err := strconv.Atoi(parts["COUNT"])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("RRULE %q: bad COUNT: %w", rule, ErrRefused)
		}
		r.Occurrences = n
	case parts["UNTIL"] != "":
		u := parts["UNTIL"]
		t, err := parseIcalValue(u, "", loc, len(u) == 8)
		if err != nil {
			return nil, fmt.Errorf("RRULE %q: bad UNTIL: %w", rule, ErrRefused)
		}
		r.PatternEnd = dateOf(wall(t, loc, allDay || len(u) == 8))
	default:
		r.NoEnd = true
	}
	return r, nil
}

func dateOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// contactWrite converts a vCard into ContactItem members.
func contactWrite(uid string, c vcard.Card) (*Write, error) {
	w := &Write{Class: ClassContact, UID: uid, Fields: map[string]any{}}
	set := func(k, v string) {
		if v != "" {
			w.Fields[k] = v
		}
	}
	if n := c.Name(); n != nil {
		set("LastName", n.FamilyName)
		set("FirstName", n.GivenName)
		set("MiddleName", n.AdditionalName)
		set("Title", n.HonorificPrefix)
		set("Suffix", n.HonorificSuffix)
	}
	set("FullName", c.Value(vcard.FieldFormattedName))
	// FileAs: Outlook's default is "Last, First"; keep what the card says.
	fileAs := c.Value(contact.FieldXFileUnder)
	if fileAs == "" {
		fileAs = c.Value(vcard.FieldFormattedName)
	}
	set("FileAs", fileAs)
	set("NickName", c.Value(vcard.FieldNickname))
	if org := c.Value(vcard.FieldOrganization); org != "" {
		company, dept, _ := strings.Cut(org, ";")
		set("CompanyName", company)
		set("Department", dept)
	}
	set("JobTitle", c.Value(vcard.FieldTitle))
	set("Body", c.Value(vcard.FieldNote))
	for i, e := range c[vcard.FieldEmail] {
		if i < 3 {
			set(fmt.Sprintf("Email%dAddress", i+1), e.Value)
			set(fmt.Sprintf("Email%dDisplayName", i+1), e.Params.Get(contact.ParamXDisplayName))
		}
	}
	for _, u := range c[vcard.FieldURL] {
		switch {
		case u.Params.HasType(vcard.TypeWork):
			set("BusinessHomePage", u.Value)
		case u.Params.HasType(vcard.TypeHome):
			set("PersonalHomePage", u.Value)
		default:
			set("WebPage", u.Value)
		}
	}
	if im := c.Value(vcard.FieldIMPP); im != "" {
		set("IMAddress", strings.TrimPrefix(im, "im:"))
	}
	if g := c.Get(vcard.FieldGender); g != nil {
		switch strings.ToUpper(strings.SplitN(g.Value, ";", 2)[0]) {
		case "F":
			w.Fields["Gender"] = 1
		case "M":
			w.Fields["Gender"] = 2
		}
	}
	used := map[string]bool{}
	for _, f := range c[vcard.FieldTelephone] {
		if name := phoneMember(f, used); name != "" {
			used[name] = true
			set(name, f.Value)
		}
	}
	for _, a := range c.Addresses() {
		prefix := "Other"
		switch {
		case a.Params.HasType(vcard.TypeWork):
			prefix = "Business"
		case a.Params.HasType(vcard.TypeHome):
			prefix = "Home"
		}
		if a.Params.Get(vcard.ParamPreferred) == "1" {
			w.Fields["SelectedMailingAddress"] = map[string]int{"Home": 1, "Business": 2, "Other": 3}[prefix]
		}
		set(prefix+"Address", a.Params.Get("LABEL"))
		set(prefix+"AddressStreet", a.StreetAddress)
		set(prefix+"AddressCity", a.Locality)
		set(prefix+"AddressState", a.Region)
		set(prefix+"AddressPostalCode", a.PostalCode)
		set(prefix+"AddressCountry", a.Country)
		set(prefix+"AddressPostOfficeBox", a.PostOfficeBox)
	}
	for _, k := range []struct{ field, member string }{{vcard.FieldBirthday, "Birthday"}, {vcard.FieldAnniversary, "Anniversary"}} {
		if v := c.Value(k.field); len(v) >= 8 {
			t, err := time.Parse("20060102", strings.ReplaceAll(v, "-", "")[:8])
			if err == nil {
				w.Fields[k.member] = t
			}
		}
	}
	if cats := c.Value(vcard.FieldCategories); cats != "" {
		w.Categories = strings.Split(cats, ",")
	}
	if ph := c.Get(vcard.FieldPhoto); ph != nil {
		if _, data, ok := strings.Cut(ph.Value, ";base64,"); ok {
			b, err := base64.StdEncoding.DecodeString(data)
			if err == nil {
				w.Photo = b
			}
		}
	}
	return w, nil
}

// phoneMember picks the ContactItem telephone member for a TEL field.
func phoneMember(f *vcard.Field, used map[string]bool) string {
	types := map[string]bool{}
	for _, t := range f.Params.Types() {
		types[strings.ToLower(t)] = true
	}
	var cands []string
	switch {
	case types["fax"] && types["home"]:
		cands = []string{"HomeFaxNumber"}
	case types["fax"] && types["work"]:
		cands = []string{"BusinessFaxNumber"}
	case types["fax"]:
		cands = []string{"PrimaryFaxNumber"}
	case types["cell"]:
		cands = []string{"MobileTelephoneNumber"}
	case types["pager"]:
		cands = []string{"PagerNumber"}
	case types["x-car"]:
		cands = []string{"CarTelephoneNumber"}
	case types["x-assistant"]:
		cands = []string{"AssistantTelephoneNumber"}
	case types["x-callback"]:
		cands = []string{"CallbackTelephoneNumber"}
	case types["x-company-main"]:
		cands = []string{"CompanyMainTelephoneNumber"}
	case types["x-radio"]:
		cands = []string{"RadioTelephoneNumber"}
	case types["x-telex"]:
		cands = []string{"TelexNumber"}
	case types["textphone"]:
		cands = []string{"TTYTDDTelephoneNumber"}
	case types["x-isdn"]:
		cands = []string{"ISDNNumber"}
	case types["work"]:
		cands = []string{"BusinessTelephoneNumber", "Business2TelephoneNumber"}
	case types["home"]:
		cands = []string{"HomeTelephoneNumber", "Home2TelephoneNumber"}
	case f.Params.Get(vcard.ParamPreferred) == "1":
		cands = []string{"PrimaryTelephoneNumber"}
	}
	cands = append(cands, "OtherTelephoneNumber")
	for _, c := range cands {
		if !used[c] {
			return c
		}
	}
	return ""
}
