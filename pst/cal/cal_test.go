package cal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/pstsync/pstsync/pst"
)

// item builds synthetic messages with named properties.
type item struct {
	namer pst.MapNamer
	props []pst.Property
	next  uint16
	recip []*pst.Props
}

func newItem(class string) *item {
	it := &item{namer: pst.MapNamer{}, next: 0x8000}
	it.tag(pst.TagMessageClass, pst.TypeString, class)
	return it
}

func (it *item) tag(id uint16, typ pst.PropType, v any) *item {
	it.props = append(it.props, pst.Property{ID: id, Type: typ, Value: v})
	return it
}

func (it *item) named(set pst.GUID, lid uint32, typ pst.PropType, v any) *item {
	k := pst.NamedKey{Set: set, LID: lid}
	id, ok := it.namer[k]
	if !ok {
		id = it.next
		it.next++
		it.namer[k] = id
	}
	return it.tag(id, typ, v)
}

func (it *item) keywords(v ...string) *item {
	k := pst.NamedKey{Set: pst.PSPublicStrings, Name: "Keywords"}
	it.namer[k] = it.next
	it.next++
	return it.tag(it.namer[k], pst.TypeMultiString, v)
}

func (it *item) recipient(ps ...pst.Property) *item {
	it.recip = append(it.recip, pst.NewProps(nil, ps...))
	return it
}

func (it *item) msg() *pst.Message {
	return &pst.Message{NID: 0x200024, Props: pst.NewProps(it.namer, it.props...), Recipients: it.recip}
}

func rcpt(typ int32, name, smtp string, track int32, flags int32) []pst.Property {
	return []pst.Property{
		{ID: pst.TagRecipientType, Type: pst.TypeInt32, Value: typ},
		{ID: pst.TagDisplayName, Type: pst.TypeString, Value: name},
		{ID: pst.TagSMTPAddress, Type: pst.TypeString, Value: smtp},
		{ID: pst.TagRecipientTrackStatus, Type: pst.TypeInt32, Value: track},
		{ID: pst.TagRecipientFlags, Type: pst.TypeInt32, Value: flags},
	}
}

var (
	apptSet   = pst.PSETIDAppointment
	commonSet = pst.PSETIDCommon
)

// roundTrip encodes c and decodes it back, failing on any error.
func roundTrip(t *testing.T, c *ical.Calendar) (*ical.Calendar, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(c); err != nil {
		t.Fatalf("encode: %v", err)
	}
	out, err := ical.NewDecoder(bytes.NewReader(buf.Bytes())).Decode()
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, buf.String())
	}
	return out, buf.String()
}

func children(c *ical.Calendar, name string) []*ical.Component {
	var out []*ical.Component
	for _, ch := range c.Children {
		if ch.Name == name {
			out = append(out, ch)
		}
	}
	return out
}

func value(c *ical.Component, name string) string {
	if p := c.Props.Get(name); p != nil {
		return p.Value
	}
	return ""
}

func param(c *ical.Component, name, param string) string {
	if p := c.Props.Get(name); p != nil {
		return p.Params.Get(param)
	}
	return ""
}

func parisAppointment() *item {
	return newItem("IPM.Appointment").
		tag(pst.TagSubject, pst.TypeString, "Team; sync, weekly").
		tag(pst.TagBody, pst.TypeString, "Line 1\r\nLine 2\r\n\x00").
		tag(pst.TagSensitivity, pst.TypeInt32, int32(2)).
		tag(pst.TagImportance, pst.TypeInt32, int32(2)).
		tag(pst.TagCreationTime, pst.TypeTime, utc(2019, 7, 1, 8, 0)).
		tag(pst.TagLastModificationTime, pst.TypeTime, utc(2019, 7, 2, 9, 30)).
		named(apptSet, lidAppointmentStartWhole, pst.TypeTime, utc(2019, 7, 30, 13, 0)).
		named(apptSet, lidAppointmentEndWhole, pst.TypeTime, utc(2019, 7, 30, 13, 30)).
		named(apptSet, lidLocation, pst.TypeString, "Room 1").
		named(apptSet, lidBusyStatus, pst.TypeInt32, int32(3)).
		named(apptSet, lidAppointmentSequence, pst.TypeInt32, int32(4)).
		named(apptSet, lidAppointmentTZDefStartDisply, pst.TypeBinary, hexb(nil, tzdefParis)).
		named(commonSet, lidReminderSet, pst.TypeBool, true).
		named(commonSet, lidReminderDelta, pst.TypeInt32, int32(10)).
		keywords("Work", "Blue, category")
}

func TestEventSingle(t *testing.T) {
	c, err := Event(parisAppointment().msg(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, text := roundTrip(t, c)
	if got := value(c.Component, "PRODID"); got != ProdID {
		t.Errorf("PRODID = %q", got)
	}
	if got := value(c.Component, "VERSION"); got != "2.0" {
		t.Errorf("VERSION = %q", got)
	}
	if c.Props.Get("METHOD") != nil {
		t.Error("METHOD on a plain appointment")
	}
	tzs := children(c, "VTIMEZONE")
	if len(tzs) != 1 || value(tzs[0], "TZID") != "Europe/Paris" {
		t.Fatalf("VTIMEZONE = %v", tzs)
	}
	evs := children(c, "VEVENT")
	if len(evs) != 1 {
		t.Fatalf("%d VEVENTs", len(evs))
	}
	ev := evs[0]
	want := map[string]string{
		"DTSTART":                    "20190730T150000",
		"DTEND":                      "20190730T153000",
		"SUMMARY":                    `Team\; sync\, weekly`,
		"DESCRIPTION":                `Line 1\nLine 2`,
		"LOCATION":                   "Room 1",
		"CLASS":                      "PRIVATE",
		"PRIORITY":                   "1",
		"TRANSP":                     "OPAQUE",
		"X-MICROSOFT-CDO-BUSYSTATUS": "OOF",
		"SEQUENCE":                   "4",
		"DTSTAMP":                    "20190702T093000Z",
		"CREATED":                    "20190701T080000Z",
		"LAST-MODIFIED":              "20190702T093000Z",
		"CATEGORIES":                 `Work,Blue\, category`,
	}
	for k, w := range want {
		if got := value(ev, k); got != w {
			t.Errorf("%s = %q, want %q", k, got, w)
		}
	}
	for _, k := range []string{"DTSTART", "DTEND"} {
		if got := param(ev, k, "TZID"); got != "Europe/Paris" {
			t.Errorf("%s TZID = %q", k, got)
		}
	}
	// The decoded times resolve to the right instants through the IANA name.
	if _, err := time.LoadLocation("Europe/Paris"); err == nil {
		if st, err := ev.Props.DateTime("DTSTART", nil); err != nil || !st.Equal(utc(2019, 7, 30, 13, 0)) {
			t.Errorf("DTSTART instant = %v, %v", st, err)
		}
	}
	if got, _ := ev.Props.Get("CATEGORIES").TextList(); len(got) != 2 || got[1] != "Blue, category" {
		t.Errorf("CATEGORIES list = %q", got)
	}
	if !strings.HasPrefix(value(ev, "UID"), "PSTSYNC-") {
		t.Errorf("UID = %q", value(ev, "UID"))
	}
	if len(ev.Children) != 1 || ev.Children[0].Name != "VALARM" {
		t.Fatalf("alarms = %v", ev.Children)
	}
	al := ev.Children[0]
	if value(al, "ACTION") != "DISPLAY" || value(al, "TRIGGER") != "-PT10M" || value(al, "DESCRIPTION") == "" {
		t.Errorf("VALARM = %v", al.Props)
	}
	if ev.Props.Get("ORGANIZER") != nil || ev.Props.Get("ATTENDEE") != nil {
		t.Error("ORGANIZER/ATTENDEE on an appointment without attendees")
	}
	if strings.Contains(text, "\n\n") || strings.Count(text, "\r\n") != strings.Count(text, "\n") {
		t.Error("encoded text has bare LF or empty lines")
	}

	// Options drop alarms and attendees.
	c2, err := Event(parisAppointment().msg(), Options{NoAlarms: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(children(c2, "VEVENT")[0].Children); n != 0 {
		t.Errorf("NoAlarms left %d alarms", n)
	}
}

func TestEventDeterministic(t *testing.T) {
	enc := func() string {
		c, err := Event(parisAppointment().msg(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, s := roundTrip(t, c)
		return s
	}
	if a, b := enc(), enc(); a != b {
		t.Errorf("two conversions differ:\n%s\n%s", a, b)
	}
}

func TestEventNoZone(t *testing.T) {
	it := newItem("IPM.Appointment").
		named(apptSet, lidAppointmentStartWhole, pst.TypeTime, utc(2004, 8, 19, 18, 30)).
		named(apptSet, lidAppointmentEndWhole, pst.TypeTime, utc(2004, 8, 19, 19, 30))
	c, err := Event(it.msg(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ = roundTrip(t, c)
	ev := children(c, "VEVENT")[0]
	if value(ev, "DTSTART") != "20040819T183000Z" || value(ev, "DTEND") != "20040819T193000Z" {
		t.Errorf("DTSTART/DTEND = %q/%q", value(ev, "DTSTART"), value(ev, "DTEND"))
	}
	if len(children(c, "VTIMEZONE")) != 0 {
		t.Error("VTIMEZONE without zone info")
	}
	if value(ev, "DTSTAMP") != "19700101T000000Z" {
		t.Errorf("DTSTAMP = %q", value(ev, "DTSTAMP"))
	}
	// Falls back to PidLidCommonStart and the TZ struct.
	it = newItem("IPM.Appointment").
		named(commonSet, lidCommonStart, pst.TypeTime, utc(2016, 8, 2, 15, 0)).
		named(apptSet, lidTimeZoneStruct, pst.TypeBinary, hexb(t, tzStructPacific)).
		named(apptSet, lidTimeZoneDescription, pst.TypeString, "(UTC-08:00) Pacific Time (US & Canada)")
	c, err = Event(it.msg(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ = roundTrip(t, c)
	ev = children(c, "VEVENT")[0]
	if value(ev, "DTSTART") != "20160802T080000" || param(ev, "DTSTART", "TZID") != "America/Los_Angeles" {
		t.Errorf("DTSTART = %q TZID %q", value(ev, "DTSTART"), param(ev, "DTSTART", "TZID"))
	}
}

func TestEventAllDay(t *testing.T) {
	tokyo := []byte{0x02, 0x01, 0x30, 0x00, 0x02, 0x00, 0x13, 0x00}
	for _, r := range "Tokyo Standard Time" {
		tokyo = binary.LittleEndian.AppendUint16(tokyo, uint16(r))
	}
	tokyo = append(tokyo, 1, 0)
	rule := make([]byte, tzRuleSize)
	rule[0], rule[1], rule[2] = 2, 1, 0x3E
	binary.LittleEndian.PutUint16(rule[4:], tzRuleFlagEffective)
	binary.LittleEndian.PutUint32(rule[22:], uint32(0xFFFFFDE4)) // -540
	tokyo = append(tokyo, rule...)
	binary.LittleEndian.PutUint16(tokyo[2:], uint16(len(tokyo)-4-tzRuleSize))

	tests := []struct {
		name       string
		tz         []byte
		start, end time.Time
		wantS      string
		wantE      string
	}{
		{"paris", hexb(t, tzdefParis), utc(2019, 7, 29, 22, 0), utc(2019, 7, 31, 22, 0), "20190730", "20190801"},
		{"paris-winter", hexb(t, tzdefParis), utc(2019, 12, 31, 23, 0), utc(2020, 1, 1, 23, 0), "20200101", "20200102"},
		{"tokyo", tokyo, utc(2020, 5, 4, 15, 0), utc(2020, 5, 5, 15, 0), "20200505", "20200506"},
		{"pacific-struct", nil, utc(2016, 8, 2, 7, 0), utc(2016, 8, 3, 7, 0), "20160802", "20160803"},
		{"no-zone-rounds", []byte{}, utc(2019, 7, 29, 22, 0), utc(2019, 7, 30, 22, 0), "20190730", "20190731"},
		{"end-before-start", hexb(t, tzdefParis), utc(2019, 7, 29, 22, 0), utc(2019, 7, 29, 22, 0), "20190730", "20190731"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := newItem("IPM.Appointment").
				named(apptSet, lidAppointmentSubType, pst.TypeBool, true).
				named(apptSet, lidAppointmentStartWhole, pst.TypeTime, tt.start).
				named(apptSet, lidAppointmentEndWhole, pst.TypeTime, tt.end)
			switch {
			case tt.tz == nil:
				it.named(apptSet, lidTimeZoneStruct, pst.TypeBinary, hexb(t, tzStructPacific))
			case len(tt.tz) > 0:
				it.named(apptSet, lidAppointmentTZDefStartDisply, pst.TypeBinary, tt.tz)
			}
			c, err := Event(it.msg(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			c, _ = roundTrip(t, c)
			ev := children(c, "VEVENT")[0]
			if value(ev, "DTSTART") != tt.wantS || value(ev, "DTEND") != tt.wantE {
				t.Errorf("DTSTART/DTEND = %q/%q, want %q/%q", value(ev, "DTSTART"), value(ev, "DTEND"), tt.wantS, tt.wantE)
			}
			if param(ev, "DTSTART", "VALUE") != "DATE" || param(ev, "DTEND", "VALUE") != "DATE" {
				t.Error("all-day dates lack VALUE=DATE")
			}
			if value(ev, "X-MICROSOFT-CDO-ALLDAYEVENT") != "TRUE" {
				t.Error("X-MICROSOFT-CDO-ALLDAYEVENT missing")
			}
		})
	}
}

func goid(instance [4]byte, data []byte) []byte {
	b := append([]byte(nil), goidClassID...)
	b = append(b, instance[:]...)
	b = binary.LittleEndian.AppendUint64(b, 0x01D546AB88EEA1F0)
	b = append(b, make([]byte, 8)...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

func TestUID(t *testing.T) {
	outlookData := []byte{0x4F, 0x3F, 0x9B, 0xE8, 0x9F, 0x2D, 0x53, 0x43, 0xA4, 0x61, 0x38, 0x60, 0x66, 0xB8, 0xD5, 0x60}
	master := goid([4]byte{}, outlookData)
	instance := goid([4]byte{0x07, 0xE3, 0x08, 0x13}, outlookData)
	vcal := goid([4]byte{}, append(append([]byte("vCal-Uid"), 1, 0, 0, 0), append([]byte("{81412D3C-2A24-4E9D-B20E-11F7BBE92799}"), 0)...))
	wantHex := "040000008200E00074C5B7101A82E00800000000F0A1EE88AB46D5010000000000000000100000004F3F9BE89F2D5343A461386066B8D560"
	meetingSet := pst.PSETIDMeeting
	tests := []struct {
		name string
		it   *item
		want string
	}{
		{"outlook-id", newItem("IPM.Appointment").named(meetingSet, lidGlobalObjectID, pst.TypeBinary, master), wantHex},
		{"instance-date-zeroed", newItem("IPM.Schedule.Meeting.Request").named(meetingSet, lidGlobalObjectID, pst.TypeBinary, instance), wantHex},
		{"clean-id", newItem("IPM.Appointment").named(meetingSet, lidCleanGlobalObjectID, pst.TypeBinary, master), wantHex},
		{"vcal-uid", newItem("IPM.Appointment").named(meetingSet, lidGlobalObjectID, pst.TypeBinary, vcal), "{81412D3C-2A24-4E9D-B20E-11F7BBE92799}"},
		{"search-key", newItem("IPM.Task").tag(pst.TagSearchKey, pst.TypeBinary, []byte{0xAB, 0x01}), "PSTSYNC-AB01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UID(tt.it.msg()); got != tt.want {
				t.Errorf("UID = %q, want %q", got, tt.want)
			}
		})
	}
	// Without any id: a stable hash.
	a := UID(newItem("IPM.Activity").tag(pst.TagSubject, pst.TypeString, "x").msg())
	b := UID(newItem("IPM.Activity").tag(pst.TagSubject, pst.TypeString, "x").msg())
	c := UID(newItem("IPM.Activity").tag(pst.TagSubject, pst.TypeString, "y").msg())
	if a != b || a == c || !strings.HasPrefix(a, "PSTSYNC-") || len(a) != 8+32 {
		t.Errorf("hash UIDs %q %q %q", a, b, c)
	}
}

func TestAttendees(t *testing.T) {
	it := parisAppointment().
		tag(pst.TagSentRepresentingName, pst.TypeString, `Olga "the boss" Organizer`).
		tag(pst.TagSentRepresentingSMTPAddress, pst.TypeString, "olga@example.com").
		tag(pst.TagResponseRequested, pst.TypeBool, true).
		named(apptSet, lidAppointmentStateFlags, pst.TypeInt32, int32(asfMeeting)).
		recipient(rcpt(1, "Olga", "olga@example.com", 1, recipOrganizer|1)...).
		recipient(rcpt(1, "Ann Req", "ann@example.com", 3, 1)...).
		recipient(rcpt(2, "Otto Opt", "otto@example.com", 4, 1)...).
		recipient(rcpt(3, "Room 101", "room101@example.com", 2, 1)...).
		recipient(rcpt(1, "Nora Noreply", "nora@example.com", 0, 1)...)
	c, err := Event(it.msg(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ = roundTrip(t, c)
	ev := children(c, "VEVENT")[0]
	org := ev.Props.Get("ORGANIZER")
	if org == nil || org.Value != "mailto:olga@example.com" || org.Params.Get("CN") != "Olga the boss Organizer" {
		t.Fatalf("ORGANIZER = %+v", org)
	}
	atts := ev.Props.Values("ATTENDEE")
	want := []struct{ addr, role, partstat, cutype, rsvp string }{
		{"mailto:ann@example.com", "REQ-PARTICIPANT", "ACCEPTED", "", ""},
		{"mailto:otto@example.com", "OPT-PARTICIPANT", "DECLINED", "", ""},
		{"mailto:room101@example.com", "NON-PARTICIPANT", "TENTATIVE", "RESOURCE", ""},
		{"mailto:nora@example.com", "REQ-PARTICIPANT", "NEEDS-ACTION", "", "TRUE"},
	}
	if len(atts) != len(want) {
		t.Fatalf("%d attendees, want %d", len(atts), len(want))
	}
	for i, w := range want {
		a := atts[i]
		got := struct{ addr, role, partstat, cutype, rsvp string }{a.Value, a.Params.Get("ROLE"), a.Params.Get("PARTSTAT"), a.Params.Get("CUTYPE"), a.Params.Get("RSVP")}
		if got != w {
			t.Errorf("attendee %d = %+v, want %+v", i, got, w)
		}
	}
	c, err = Event(it.msg(), Options{NoAttendees: true})
	if err != nil {
		t.Fatal(err)
	}
	if ev := children(c, "VEVENT")[0]; ev.Props.Get("ATTENDEE") != nil || ev.Props.Get("ORGANIZER") != nil {
		t.Error("NoAttendees kept people")
	}
}

func TestMeetingMessages(t *testing.T) {
	base := func(class string) *item {
		return parisAppointment().
			tag(pst.TagMessageClass, pst.TypeString, class).
			tag(pst.TagSenderName, pst.TypeString, "Bob").
			tag(pst.TagSenderEmailAddress, pst.TypeString, "bob@example.com").
			tag(pst.TagSenderAddrType, pst.TypeString, "SMTP").
			recipient(rcpt(1, "Olga", "olga@example.com", 0, 1)...)
	}
	tests := []struct {
		class, method, status, orgAddr, attAddr, partstat string
	}{
		{"IPM.Schedule.Meeting.Request", "REQUEST", "", "mailto:bob@example.com", "mailto:olga@example.com", "NEEDS-ACTION"},
		{"IPM.Schedule.Meeting.Resp.Pos", "REPLY", "", "mailto:olga@example.com", "mailto:bob@example.com", "ACCEPTED"},
		{"IPM.Schedule.Meeting.Resp.Neg", "REPLY", "", "mailto:olga@example.com", "mailto:bob@example.com", "DECLINED"},
		{"IPM.Schedule.Meeting.Resp.Tent", "REPLY", "", "mailto:olga@example.com", "mailto:bob@example.com", "TENTATIVE"},
		{"IPM.Schedule.Meeting.Canceled", "CANCEL", "CANCELLED", "mailto:bob@example.com", "mailto:olga@example.com", "NEEDS-ACTION"},
	}
	for _, tt := range tests {
		t.Run(tt.class, func(t *testing.T) {
			c, err := Event(base(tt.class).msg(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			c, _ = roundTrip(t, c)
			if got := value(c.Component, "METHOD"); got != tt.method {
				t.Errorf("METHOD = %q", got)
			}
			ev := children(c, "VEVENT")[0]
			if got := value(ev, "STATUS"); got != tt.status {
				t.Errorf("STATUS = %q", got)
			}
			if got := value(ev, "ORGANIZER"); got != tt.orgAddr {
				t.Errorf("ORGANIZER = %q", got)
			}
			atts := ev.Props.Values("ATTENDEE")
			if len(atts) != 1 || atts[0].Value != tt.attAddr || atts[0].Params.Get("PARTSTAT") != tt.partstat {
				t.Errorf("ATTENDEE = %+v", atts)
			}
		})
	}
}

func TestRecurringEvent(t *testing.T) {
	blob := hexb(t, "043004300b2001000000c0210000010000000000000004000000232000000a0000000000000003000000805c070d40ab070da0d2070d0200000040ab070da0d2070d2035070ddf80e95a0630000009300000e0010000fe01000002005cad070d7aad070d20ad070d0002f8d4070d16d5070d80d4070d00020000000004000000000000000000000004000000000000000000000000000000")
	it := newItem("IPM.Appointment").
		tag(pst.TagSubject, pst.TypeString, "Test appointment").
		named(apptSet, lidAppointmentStartWhole, pst.TypeTime, utc(2016, 8, 2, 15, 0)).
		named(apptSet, lidAppointmentEndWhole, pst.TypeTime, utc(2016, 8, 2, 15, 30)).
		named(apptSet, lidRecurring, pst.TypeBool, true).
		named(apptSet, lidAppointmentRecur, pst.TypeBinary, blob).
		named(apptSet, lidAppointmentTZDefRecur, pst.TypeBinary, hexb(t, tzdefPacific)).
		named(apptSet, lidAppointmentTZDefStartDisply, pst.TypeBinary, hexb(t, tzdefPacific)).
		named(commonSet, lidReminderSet, pst.TypeBool, true).
		named(commonSet, lidReminderDelta, pst.TypeInt32, int32(15))
	c, err := Event(it.msg(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ = roundTrip(t, c)
	evs := children(c, "VEVENT")
	if len(evs) != 3 {
		t.Fatalf("%d VEVENTs, want master + 2 exceptions", len(evs))
	}
	m := evs[0]
	if got := value(m, "RRULE"); got != "FREQ=WEEKLY;BYDAY=TU;WKST=SU" {
		t.Errorf("RRULE = %q", got)
	}
	if got := value(m, "DTSTART"); got != "20160802T080000" {
		t.Errorf("DTSTART = %q", got)
	}
	ex := m.Props.Values("EXDATE")
	if len(ex) != 1 || ex[0].Value != "20160809T080000" || ex[0].Params.Get("TZID") != "America/Los_Angeles" {
		t.Errorf("EXDATE = %+v", ex)
	}
	wantEx := [][3]string{{"20160823T080000", "20160823T090000", "20160823T093000"}, {"20160830T080000", "20160830T100000", "20160830T103000"}}
	for i, w := range wantEx {
		e := evs[i+1]
		got := [3]string{value(e, "RECURRENCE-ID"), value(e, "DTSTART"), value(e, "DTEND")}
		if got != w {
			t.Errorf("exception %d = %v, want %v", i, got, w)
		}
		if value(e, "UID") != value(m, "UID") || e.Props.Get("RRULE") != nil || e.Props.Get("EXDATE") != nil {
			t.Errorf("exception %d: UID %q RRULE %v", i, value(e, "UID"), e.Props.Get("RRULE"))
		}
		if value(e, "SUMMARY") != "Test appointment" || len(e.Children) != 1 {
			t.Errorf("exception %d did not inherit summary/alarm", i)
		}
	}
	// The recurrence expands in the zone: 2016-11-08 is after the DST end.
	set, err := m.RecurrenceSet(nil)
	if err != nil {
		t.Fatal(err)
	}
	if set == nil {
		t.Fatal("no recurrence set")
	}
	{
		loc, lerr := time.LoadLocation("America/Los_Angeles")
		if lerr == nil {
			next := set.After(time.Date(2016, 11, 7, 0, 0, 0, 0, loc), false)
			if h := next.In(loc).Hour(); h != 8 {
				t.Errorf("November instance at %v (hour %d)", next.In(loc), h)
			}
		}
	}

	// A damaged pattern leaves a correct single event.
	bad := newItem("IPM.Appointment").
		named(apptSet, lidAppointmentStartWhole, pst.TypeTime, utc(2016, 8, 2, 15, 0)).
		named(apptSet, lidRecurring, pst.TypeBool, true).
		named(apptSet, lidAppointmentRecur, pst.TypeBinary, blob[:30])
	c, err = Event(bad.msg(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if evs := children(c, "VEVENT"); len(evs) != 1 || evs[0].Props.Get("RRULE") != nil {
		t.Errorf("damaged recurrence: %d events", len(evs))
	}
}

func TestRecurringUntilAndOverrides(t *testing.T) {
	blob := hexb(t, "043004300b200100000000000000010000000000000002000000212000001a0000000100000005000000c07c1f0d20a41f0d80cb1f0de0f21f0d401a200d0400000020a41f0d80cb1f0de0f21f0d401a200d60551f0d4044230d063000000930000048030000660300000400a4a71f0dc2a71f0d68a71f0d0000c8ce1f0de6ce1f0dc8ce1f0d010027002600526476206c6f6f702030312d30382d323031392d4d6f6e2d31342d3030206d6f64696669656428f61f0d46f61f0d28f61f0d1000140013005465737420706c616365206d6f646966696564881d200da61d200d881d200d000000000000040000000000000000000000040000000000000000000000c8ce1f0de6ce1f0dc8ce1f0d260052006400760020006c006f006f0070002000300031002d00300038002d0032003000310039002d004d006f006e002d00310034002d003000300020006d006f006400690066006900650064000000000004000000000000000000000028f61f0d46f61f0d28f61f0d13005400650073007400200070006c0061006300650020006d006f006400690066006900650064000000000004000000000000000000000000000000")
	it := newItem("IPM.Appointment").
		tag(pst.TagSubject, pst.TypeString, "Rdv loop").
		named(apptSet, lidLocation, pst.TypeString, "Test place").
		named(apptSet, lidAppointmentStartWhole, pst.TypeTime, utc(2019, 8, 5, 12, 0)).
		named(apptSet, lidAppointmentEndWhole, pst.TypeTime, utc(2019, 8, 5, 12, 30)).
		named(apptSet, lidRecurring, pst.TypeBool, true).
		named(apptSet, lidAppointmentRecur, pst.TypeBinary, blob).
		named(apptSet, lidAppointmentTZDefRecur, pst.TypeBinary, hexb(t, tzdefParis))
	c, err := Event(it.msg(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ = roundTrip(t, c)
	evs := children(c, "VEVENT")
	if len(evs) != 5 {
		t.Fatalf("%d VEVENTs", len(evs))
	}
	if got := value(evs[0], "RRULE"); got != "FREQ=WEEKLY;BYDAY=MO;UNTIL=20200131T130000Z" {
		t.Errorf("RRULE = %q", got)
	}
	if ex := evs[0].Props.Values("EXDATE"); len(ex) != 1 || ex[0].Value != "20190812T140000" {
		t.Errorf("EXDATE = %+v", ex)
	}
	if got := value(evs[2], "SUMMARY"); got != "Rdv loop 01-08-2019-Mon-14-00 modified" {
		t.Errorf("exception 2 SUMMARY = %q", got)
	}
	if got := value(evs[3], "LOCATION"); got != "Test place modified" {
		t.Errorf("exception 3 LOCATION = %q", got)
	}
	if got := value(evs[1], "LOCATION"); got != "Test place" {
		t.Errorf("exception 1 LOCATION = %q (inherited)", got)
	}
}

func TestTodo(t *testing.T) {
	taskSet := pst.PSETIDTask
	it := newItem("IPM.Task").
		tag(pst.TagSubject, pst.TypeString, "Write report").
		tag(pst.TagBody, pst.TypeString, "Draft first").
		tag(pst.TagLastModificationTime, pst.TypeTime, utc(2021, 2, 4, 12, 1)).
		named(taskSet, lidTaskStartDate, pst.TypeTime, utc(2021, 2, 1, 0, 0)).
		named(taskSet, lidTaskDueDate, pst.TypeTime, utc(2021, 2, 4, 23, 0)). // UTC instant of Paris midnight
		named(taskSet, lidTaskStatus, pst.TypeInt32, int32(2)).
		named(taskSet, lidPercentComplete, pst.TypeFloat64, 1.0).
		named(taskSet, lidTaskComplete, pst.TypeBool, true).
		named(taskSet, lidTaskDateCompleted, pst.TypeTime, utc(2021, 2, 4, 0, 0)).
		named(commonSet, lidReminderSet, pst.TypeBool, true).
		named(commonSet, lidReminderTime, pst.TypeTime, utc(2021, 2, 3, 8, 0)).
		keywords("Work")
	c, err := Todo(it.msg(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ = roundTrip(t, c)
	tds := children(c, "VTODO")
	if len(tds) != 1 {
		t.Fatalf("%d VTODOs", len(tds))
	}
	td := tds[0]
	want := map[string]string{
		"SUMMARY": "Write report", "DESCRIPTION": "Draft first", "DTSTART": "20210201", "DUE": "20210205",
		"STATUS": "COMPLETED", "PERCENT-COMPLETE": "100", "COMPLETED": "20210204T000000Z",
		"DTSTAMP": "20210204T120100Z", "CATEGORIES": "Work",
	}
	for k, w := range want {
		if got := value(td, k); got != w {
			t.Errorf("%s = %q, want %q", k, got, w)
		}
	}
	if param(td, "DUE", "VALUE") != "DATE" {
		t.Error("DUE is not a DATE")
	}
	if len(td.Children) != 1 || value(td.Children[0], "TRIGGER") != "20210203T080000Z" || param(td.Children[0], "TRIGGER", "VALUE") != "DATE-TIME" {
		t.Errorf("alarm = %+v", td.Children)
	}
	// In progress, half done.
	it = newItem("IPM.Task").
		named(taskSet, lidTaskStatus, pst.TypeInt32, int32(1)).
		named(taskSet, lidPercentComplete, pst.TypeFloat64, 0.5)
	c, err = Todo(it.msg(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	td = children(c, "VTODO")[0]
	if value(td, "STATUS") != "IN-PROCESS" || value(td, "PERCENT-COMPLETE") != "50" || td.Props.Get("COMPLETED") != nil {
		t.Errorf("in-progress task = %v", td.Props)
	}
}

func TestJournal(t *testing.T) {
	logSet := pst.PSETIDLog
	it := newItem("IPM.Activity").
		tag(pst.TagSubject, pst.TypeString, "Call with Ann").
		tag(pst.TagBody, pst.TypeString, "Discussed budget").
		named(logSet, lidLogType, pst.TypeString, "Phone call").
		named(logSet, lidLogStart, pst.TypeTime, utc(2021, 2, 4, 12, 1)).
		named(logSet, lidLogEnd, pst.TypeTime, utc(2021, 2, 4, 12, 31)).
		keywords("Clients")
	c, err := Journal(it.msg(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ = roundTrip(t, c)
	j := children(c, "VJOURNAL")[0]
	want := map[string]string{
		"SUMMARY": "Call with Ann", "DESCRIPTION": "Discussed budget", "DTSTART": "20210204T120100Z",
		"X-MS-LOGTYPE": "Phone call", "X-MS-LOGDURATION": "30", "CATEGORIES": "Clients",
	}
	for k, w := range want {
		if got := value(j, k); got != w {
			t.Errorf("%s = %q, want %q", k, got, w)
		}
	}
}

func TestNoteText(t *testing.T) {
	it := newItem("IPM.StickyNote").
		tag(pst.TagSubject, pst.TypeString, "Buy milk").
		tag(pst.TagBody, pst.TypeString, "Buy milk\r\nand bread\r\n").
		tag(pst.TagCreationTime, pst.TypeTime, utc(2021, 2, 4, 12, 0)).
		tag(pst.TagLastModificationTime, pst.TypeTime, utc(2021, 2, 5, 8, 30)).
		named(pst.PSETIDNote, lidNoteColor, pst.TypeInt32, int32(3))
	want := "Buy milk\n\nand bread\n\nColor: yellow\nCreated: 2021-02-04T12:00:00Z\nModified: 2021-02-05T08:30:00Z\n"
	if got := NoteText(it.msg()); got != want {
		t.Errorf("NoteText =\n%q\nwant\n%q", got, want)
	}
	// Title from the body when the subject is missing; unknown color.
	it = newItem("IPM.StickyNote").
		tag(pst.TagBody, pst.TypeString, "Only line").
		named(pst.PSETIDNote, lidNoteColor, pst.TypeInt32, int32(9))
	if got := NoteText(it.msg()); got != "Only line\n\nColor: 9\n" {
		t.Errorf("NoteText = %q", got)
	}
}

func TestWrongClass(t *testing.T) {
	note := newItem("IPM.Note").msg()
	if _, err := Event(note, Options{}); !errors.Is(err, ErrWrongClass) {
		t.Errorf("Event(IPM.Note) error = %v", err)
	}
	if _, err := Todo(note, Options{}); !errors.Is(err, ErrWrongClass) {
		t.Errorf("Todo(IPM.Note) error = %v", err)
	}
	if _, err := Journal(note, Options{}); !errors.Is(err, ErrWrongClass) {
		t.Errorf("Journal(IPM.Note) error = %v", err)
	}
	if _, err := Event(&pst.Message{}, Options{}); err == nil {
		t.Error("Event(empty) succeeded")
	}
	for class, want := range map[string][4]bool{
		"IPM.Appointment":                   {true, false, false, false},
		"IPM.Appointment.Custom":            {true, false, false, false},
		"IPM.Schedule.Meeting.Resp.Pos":     {true, false, false, false},
		"ipm.task":                          {false, true, false, false},
		"IPM.Activity":                      {false, false, true, false},
		"IPM.StickyNote":                    {false, false, false, true},
		"IPM.Taskish":                       {false, false, false, false},
		"IPM.Schedule.Meeting.Notification": {false, false, false, false},
	} {
		got := [4]bool{IsEvent(class), IsTodo(class), IsJournal(class), IsNote(class)}
		if got != want {
			t.Errorf("%s: %v, want %v", class, got, want)
		}
	}
}

// FuzzEvent feeds arbitrary recurrence and time zone blobs through the
// whole conversion: it must not panic and its output must encode.
func FuzzEvent(f *testing.F) {
	f.Add(hexb(f, "043004300b2001000000c0210000010000000000000004000000232000000a0000000000000003000000805c070d40ab070da0d2070d0200000040ab070da0d2070d2035070ddf80e95a0630000009300000e0010000fe01000002005cad070d7aad070d20ad070d0002f8d4070d16d5070d80d4070d00020000000004000000000000000000000004000000000000000000000000000000"), hexb(f, tzdefPacific), true)
	f.Add([]byte{}, hexb(f, tzdefParis), false)
	f.Fuzz(func(t *testing.T, rec, tz []byte, allDay bool) {
		it := newItem("IPM.Appointment").
			tag(pst.TagSubject, pst.TypeString, "x").
			named(apptSet, lidAppointmentStartWhole, pst.TypeTime, utc(2016, 8, 2, 15, 0)).
			named(apptSet, lidAppointmentEndWhole, pst.TypeTime, utc(2016, 8, 2, 15, 30)).
			named(apptSet, lidAppointmentSubType, pst.TypeBool, allDay).
			named(apptSet, lidRecurring, pst.TypeBool, true).
			named(apptSet, lidAppointmentRecur, pst.TypeBinary, rec).
			named(apptSet, lidAppointmentTZDefRecur, pst.TypeBinary, tz).
			named(apptSet, lidTimeZoneStruct, pst.TypeBinary, tz)
		c, err := Event(it.msg(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := ical.NewEncoder(&buf).Encode(c); err != nil {
			t.Fatalf("encode: %v", err)
		}
	})
}
