package cal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // zones named only by their description need the IANA database
	"unicode/utf16"

	"github.com/emersion/go-ical"
)

// SystemTime is a Windows SYSTEMTIME as used in time zone rules. With
// Year == 0 it is a "day-in-month" rule: Day is the week of the month
// (1..4, 5 = last) of weekday DayOfWeek (0 = Sunday).
type SystemTime struct {
	Year, Month, DayOfWeek, Day, Hour, Minute, Second, Milliseconds uint16
}

// TZRule is one rule of a time zone definition. Biases are in minutes with
// UTC = local + Bias (+ StandardBias or DaylightBias).
type TZRule struct {
	Flags        uint16 // TZRULE_FLAG_RECUR_CURRENT_TZREG 0x1, TZRULE_FLAG_EFFECTIVE_TZREG 0x2
	Year         uint16 // first year the rule applies to
	Bias         int32
	StandardBias int32
	DaylightBias int32
	StandardDate SystemTime // switch to standard time (local daylight time)
	DaylightDate SystemTime // switch to daylight time (local standard time)
}

// TZDefinition is a decoded TZDEFINITION ([MS-OXOCAL] 2.2.1.41) or a
// PidLidTimeZoneStruct ([MS-OXOCAL] 2.2.1.39) turned into one rule.
type TZDefinition struct {
	KeyName string // Windows registry key name, e.g. "Romance Standard Time"
	Rules   []TZRule
}

const (
	tzRuleFlagEffective = 0x0002
	tzRuleSize          = 66
	tzStructSize        = 48
	maxTZRules          = 1024
)

var errTZShort = errors.New("truncated time zone blob")

func readSystemTime(b []byte) SystemTime {
	u := func(i int) uint16 { return binary.LittleEndian.Uint16(b[2*i:]) }
	return SystemTime{u(0), u(1), u(2), u(3), u(4), u(5), u(6), u(7)}
}

// ParseTZDefinition decodes a TZDEFINITION blob
// (PidLidAppointmentTimeZoneDefinitionStartDisplay, ...EndDisplay,
// ...Recur).
func ParseTZDefinition(b []byte) (*TZDefinition, error) {
	if len(b) < 6 {
		return nil, fmt.Errorf("tzdefinition: header: %w", errTZShort)
	}
	if b[0] != 0x02 {
		return nil, fmt.Errorf("tzdefinition: unsupported major version %d", b[0])
	}
	cbHeader := int(binary.LittleEndian.Uint16(b[2:]))
	// The header after cbHeader: Reserved (2), cchKeyName (2), KeyName,
	// cRules (2).
	if cbHeader < 6 || 4+cbHeader > len(b) {
		return nil, fmt.Errorf("tzdefinition: header size %d: %w", cbHeader, errTZShort)
	}
	h := b[4 : 4+cbHeader]
	cch := int(binary.LittleEndian.Uint16(h[2:]))
	if 4+2*cch+2 > len(h) {
		return nil, fmt.Errorf("tzdefinition: key name of %d chars: %w", cch, errTZShort)
	}
	u := make([]uint16, cch)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(h[4+2*i:])
	}
	def := &TZDefinition{KeyName: strings.TrimRight(string(utf16.Decode(u)), "\x00")}
	n := int(binary.LittleEndian.Uint16(h[4+2*cch:]))
	rest := b[4+cbHeader:]
	if n > maxTZRules || n*tzRuleSize > len(rest) {
		return nil, fmt.Errorf("tzdefinition: %d rules in %d bytes: %w", n, len(rest), errTZShort)
	}
	def.Rules = make([]TZRule, n)
	for i := range def.Rules {
		r := rest[i*tzRuleSize:]
		def.Rules[i] = TZRule{
			Flags:        binary.LittleEndian.Uint16(r[4:]),
			Year:         binary.LittleEndian.Uint16(r[6:]),
			Bias:         int32(binary.LittleEndian.Uint32(r[22:])),
			StandardBias: int32(binary.LittleEndian.Uint32(r[26:])),
			DaylightBias: int32(binary.LittleEndian.Uint32(r[30:])),
			StandardDate: readSystemTime(r[34:]),
			DaylightDate: readSystemTime(r[50:]),
		}
	}
	if n == 0 {
		return nil, errors.New("tzdefinition: no rules")
	}
	return def, nil
}

// ParseTZStruct decodes PidLidTimeZoneStruct.
func ParseTZStruct(b []byte) (*TZDefinition, error) {
	if len(b) < tzStructSize {
		return nil, fmt.Errorf("timezonestruct: %d bytes: %w", len(b), errTZShort)
	}
	return &TZDefinition{Rules: []TZRule{{
		Flags:        tzRuleFlagEffective,
		Bias:         int32(binary.LittleEndian.Uint32(b[0:])),
		StandardBias: int32(binary.LittleEndian.Uint32(b[4:])),
		DaylightBias: int32(binary.LittleEndian.Uint32(b[8:])),
		Year:         binary.LittleEndian.Uint16(b[12:]),
		StandardDate: readSystemTime(b[14:]),
		DaylightDate: readSystemTime(b[32:]),
	}}}, nil
}

// Rule returns the rule in force in year: the last rule whose Year is not
// after it, else (year before every rule) the earliest rule.
func (d *TZDefinition) Rule(year int) *TZRule {
	if len(d.Rules) == 0 {
		return &TZRule{} // UTC
	}
	var best *TZRule
	for i := range d.Rules {
		r := &d.Rules[i]
		if int(r.Year) <= year && (best == nil || r.Year >= best.Year) {
			best = r
		}
	}
	if best != nil {
		return best
	}
	best = &d.Rules[0]
	for i := range d.Rules {
		if d.Rules[i].Year < best.Year {
			best = &d.Rules[i]
		}
	}
	return best
}

// HasDST reports whether the rule switches to daylight saving time.
func (r *TZRule) HasDST() bool {
	return r.StandardDate.Month >= 1 && r.StandardDate.Month <= 12 &&
		r.DaylightDate.Month >= 1 && r.DaylightDate.Month <= 12
}

// StdOffset and DSTOffset are the UTC offsets (east positive) of standard
// and daylight time.
func (r *TZRule) StdOffset() time.Duration {
	return -time.Duration(int64(r.Bias)+int64(r.StandardBias)) * time.Minute
}

// DSTOffset is the UTC offset of daylight time.
func (r *TZRule) DSTOffset() time.Duration {
	return -time.Duration(int64(r.Bias)+int64(r.DaylightBias)) * time.Minute
}

// transition returns the local wall-clock time (floating, in time.UTC) at
// which st fires in year.
func transition(st SystemTime, year int) time.Time {
	clock := time.Duration(st.Hour)*time.Hour + time.Duration(st.Minute)*time.Minute
	m := time.Month(st.Month)
	if st.Year != 0 {
		return time.Date(year, m, int(st.Day), 0, 0, 0, 0, time.UTC).Add(clock)
	}
	first := time.Date(year, m, 1, 0, 0, 0, 0, time.UTC)
	wd := int(st.DayOfWeek % 7)
	d := 1 + (wd-int(first.Weekday())+7)%7
	n := int(st.Day)
	if n < 1 {
		n = 1
	}
	d += 7 * (n - 1)
	last := first.AddDate(0, 1, -1).Day()
	for d > last {
		d -= 7
	}
	return time.Date(year, m, d, 0, 0, 0, 0, time.UTC).Add(clock)
}

// isDST reports whether the UTC instant t is in daylight time.
func (r *TZRule) isDST(t time.Time) bool {
	if !r.HasDST() {
		return false
	}
	t = t.UTC()
	y := t.Add(r.StdOffset()).Year()
	start := transition(r.DaylightDate, y).Add(-r.StdOffset()) // local standard → UTC
	end := transition(r.StandardDate, y).Add(-r.DSTOffset())   // local daylight → UTC
	if start.Before(end) {
		return !t.Before(start) && t.Before(end)
	}
	return !t.Before(start) || t.Before(end)
}

// Offset returns the UTC offset in force at the UTC instant t.
func (r *TZRule) Offset(t time.Time) time.Duration {
	if r.isDST(t) {
		return r.DSTOffset()
	}
	return r.StdOffset()
}

// zone is a time zone as used for one item: an optional rule set and the
// TZID it is written under.
type zone struct {
	tzid string
	def  *TZDefinition
}

// isUTC reports whether z is UTC itself: named so (Windows "UTC",
// "Coordinated Universal Time") and without offset or daylight time in any
// rule.
func (z *zone) isUTC() bool {
	if z == nil || z.def == nil || (z.tzid != "Etc/UTC" && z.tzid != "UTC") {
		return false
	}
	for _, r := range z.def.Rules {
		if r.Bias != 0 || r.StandardBias != 0 || (r.HasDST() && r.DaylightBias != 0) {
			return false
		}
	}
	return true
}

// ruleFor returns the rule for the year of the UTC instant t.
func (z *zone) ruleFor(t time.Time) *TZRule { return z.def.Rule(t.Year()) }

// local converts a UTC instant to floating local wall-clock time.
func (z *zone) local(t time.Time) time.Time {
	t = t.UTC()
	return t.Add(z.ruleFor(t).Offset(t))
}

// toUTC converts floating local wall-clock time to a UTC instant; in the
// repeated hour the daylight reading wins, times skipped by the spring
// change are read as standard time.
func (z *zone) toUTC(l time.Time) time.Time {
	r := z.def.Rule(l.Year())
	if r.HasDST() {
		u := l.Add(-r.DSTOffset())
		if r.isDST(u) {
			return u
		}
	}
	return l.Add(-r.StdOffset())
}

func fmtOffset(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign = "-"
		d = -d
	}
	m := int(d / time.Minute)
	return fmt.Sprintf("%s%02d%02d", sign, m/60, m%60)
}

const floatingFormat = "20060102T150405"

// observance builds a STANDARD or DAYLIGHT sub-component starting in year
// and, when until is not 0, ending with the change of year until.
func observance(name string, st SystemTime, year, until int, from, to time.Duration) *ical.Component {
	c := ical.NewComponent(name)
	start := transition(st, year)
	c.Props.Set(&ical.Prop{Name: ical.PropDateTimeStart, Params: ical.Params{}, Value: start.Format(floatingFormat)})
	var rule string
	if st.Year != 0 {
		rule = fmt.Sprintf("FREQ=YEARLY;BYMONTH=%d;BYMONTHDAY=%d", st.Month, st.Day)
	} else {
		n := int(st.Day)
		if n >= 5 || n < 1 {
			n = -1
		}
		rule = fmt.Sprintf("FREQ=YEARLY;BYMONTH=%d;BYDAY=%d%s", st.Month, n, dayCode(int(st.DayOfWeek%7)))
	}
	if until >= year {
		rule += ";UNTIL=" + transition(st, until).Add(-from).Format("20060102T150405Z")
	} else if until != 0 {
		rule = "" // in force for less than a year: the onset alone
	}
	if rule != "" {
		c.Props.Set(&ical.Prop{Name: ical.PropRecurrenceRule, Params: ical.Params{}, Value: rule})
	}
	c.Props.Set(&ical.Prop{Name: ical.PropTimezoneOffsetFrom, Params: ical.Params{}, Value: fmtOffset(from)})
	c.Props.Set(&ical.Prop{Name: ical.PropTimezoneOffsetTo, Params: ical.Params{}, Value: fmtOffset(to)})
	return c
}

func dayCode(wd int) string {
	return [...]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}[wd%7]
}

// vtimezone builds the VTIMEZONE for z covering the local years from
// through to: the rule in force in from and every later rule that takes
// effect up to to, each bounded by an UNTIL where the next one starts, so
// that a series spanning a rule change keeps its wall-clock times in
// clients that read the VTIMEZONE rather than their own zone database.
func (z *zone) vtimezone(from, to int) *ical.Component {
	tz := ical.NewComponent(ical.CompTimezone)
	tz.Props.SetText(ical.PropTimezoneID, z.tzid)
	rules := z.def.span(from, to)
	for i, r := range rules {
		// The first rule also covers the years before its own (Outlook
		// writes 2006 as the first year of the US rules, yet applies them
		// to 2000 too): it starts in 1970, as the others at their year.
		ys := 1970
		if i > 0 && int(r.Year) > ys {
			ys = int(r.Year)
		}
		until := 0 // last year of the rule; 0: open-ended
		if i+1 < len(rules) {
			until = int(rules[i+1].Year) - 1
		}
		prevStd := r.StdOffset()
		if i > 0 {
			prevStd = rules[i-1].StdOffset()
		}
		if !r.HasDST() {
			c := ical.NewComponent(ical.CompTimezoneStandard)
			c.Props.Set(&ical.Prop{Name: ical.PropDateTimeStart, Params: ical.Params{}, Value: fmt.Sprintf("%04d0101T000000", ys)})
			c.Props.Set(&ical.Prop{Name: ical.PropTimezoneOffsetFrom, Params: ical.Params{}, Value: fmtOffset(prevStd)})
			c.Props.Set(&ical.Prop{Name: ical.PropTimezoneOffsetTo, Params: ical.Params{}, Value: fmtOffset(r.StdOffset())})
			tz.Children = append(tz.Children, c)
			continue
		}
		tz.Children = append(tz.Children,
			observance(ical.CompTimezoneStandard, r.StandardDate, ys, until, r.DSTOffset(), r.StdOffset()),
			observance(ical.CompTimezoneDaylight, r.DaylightDate, ys, until, r.StdOffset(), r.DSTOffset()))
	}
	return tz
}

// span returns the rules in force during the years from through to, in
// order: the rule of year from, then every rule taking effect later, up
// to year to.
func (d *TZDefinition) span(from, to int) []*TZRule {
	first := d.Rule(from)
	out := []*TZRule{first}
	var later []*TZRule
	for i := range d.Rules {
		r := &d.Rules[i]
		if int(r.Year) > from && int(r.Year) > int(first.Year) && int(r.Year) <= to {
			later = append(later, r)
		}
	}
	sort.SliceStable(later, func(i, j int) bool { return later[i].Year < later[j].Year })
	for _, r := range later {
		if r.Year != out[len(out)-1].Year {
			out = append(out, r)
		}
	}
	return out
}

// zoneFromLocation derives a rule set for the local years from through to
// from a Go location (the IANA database): one rule per year, consecutive
// equal rules merged. It is used for items that name their zone only by
// its description.
func zoneFromLocation(loc *time.Location, from, to int) *TZDefinition {
	def := &TZDefinition{}
	for y := from; y <= to; y++ {
		r := yearRule(loc, y)
		if n := len(def.Rules); n > 0 {
			last := def.Rules[n-1]
			last.Year = r.Year
			if last == r {
				continue
			}
		}
		def.Rules = append(def.Rules, r)
	}
	if len(def.Rules) > 0 {
		def.Rules[0].Year = 0 // the first rule also covers earlier years
	}
	return def
}

// yearRule reads the transitions of loc in year y as a TZRule.
func yearRule(loc *time.Location, y int) TZRule {
	r := TZRule{Flags: tzRuleFlagEffective, Year: uint16(y)}
	t := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).Add(-14 * time.Hour)
	_, janOff := time.Date(y, 1, 15, 12, 0, 0, 0, time.UTC).In(loc).Zone()
	_, julOff := time.Date(y, 7, 15, 12, 0, 0, 0, time.UTC).In(loc).Zone()
	std, dst := min(janOff, julOff), max(janOff, julOff)
	r.Bias = int32(-std / 60)
	if std == dst {
		return r
	}
	r.DaylightBias = int32(-(dst - std) / 60)
	for i := 0; i < 8; i++ {
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || end.Year() > y+1 {
			break
		}
		_, before := end.Add(-time.Second).In(loc).Zone()
		_, after := end.In(loc).Zone()
		local := end.Add(time.Duration(before) * time.Second).UTC()
		if local.Year() == y && before != after {
			st := dayInMonth(local)
			if after > before {
				r.DaylightDate = st
			} else {
				r.StandardDate = st
			}
		}
		t = end
	}
	if !r.HasDST() {
		r.DaylightBias, r.StandardDate, r.DaylightDate = 0, SystemTime{}, SystemTime{}
		_, off := time.Date(y, 12, 31, 12, 0, 0, 0, time.UTC).In(loc).Zone()
		r.Bias = int32(-off / 60)
	}
	return r
}

// dayInMonth expresses the local time l as a "n-th weekday of the month"
// SystemTime (n = 5: the last one).
func dayInMonth(l time.Time) SystemTime {
	n := (l.Day()-1)/7 + 1
	if l.Day()+7 > time.Date(l.Year(), l.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		n = 5
	}
	return SystemTime{Month: uint16(l.Month()), DayOfWeek: uint16(l.Weekday()), Day: uint16(n), Hour: uint16(l.Hour()), Minute: uint16(l.Minute())}
}

// windowsZones maps common Windows time zone key names to IANA names.
var windowsZones = map[string]string{
	"Dateline Standard Time":          "Etc/GMT+12",
	"Hawaiian Standard Time":          "Pacific/Honolulu",
	"Alaskan Standard Time":           "America/Anchorage",
	"Pacific Standard Time":           "America/Los_Angeles",
	"US Mountain Standard Time":       "America/Phoenix",
	"Mountain Standard Time":          "America/Denver",
	"Central Standard Time":           "America/Chicago",
	"Central America Standard Time":   "America/Guatemala",
	"Canada Central Standard Time":    "America/Regina",
	"Central Standard Time (Mexico)":  "America/Mexico_City",
	"Eastern Standard Time":           "America/New_York",
	"US Eastern Standard Time":        "America/Indianapolis",
	"SA Pacific Standard Time":        "America/Bogota",
	"Atlantic Standard Time":          "America/Halifax",
	"Newfoundland Standard Time":      "America/St_Johns",
	"E. South America Standard Time":  "America/Sao_Paulo",
	"Argentina Standard Time":         "America/Buenos_Aires",
	"UTC":                             "Etc/UTC",
	"GMT Standard Time":               "Europe/London",
	"Greenwich Standard Time":         "Atlantic/Reykjavik",
	"W. Europe Standard Time":         "Europe/Berlin",
	"Central Europe Standard Time":    "Europe/Budapest",
	"Romance Standard Time":           "Europe/Paris",
	"Central European Standard Time":  "Europe/Warsaw",
	"W. Central Africa Standard Time": "Africa/Lagos",
	"GTB Standard Time":               "Europe/Bucharest",
	"E. Europe Standard Time":         "Europe/Chisinau",
	"FLE Standard Time":               "Europe/Kiev",
	"Israel Standard Time":            "Asia/Jerusalem",
	"South Africa Standard Time":      "Africa/Johannesburg",
	"Egypt Standard Time":             "Africa/Cairo",
	"Turkey Standard Time":            "Europe/Istanbul",
	"Russian Standard Time":           "Europe/Moscow",
	"Arab Standard Time":              "Asia/Riyadh",
	"Arabian Standard Time":           "Asia/Dubai",
	"Iran Standard Time":              "Asia/Tehran",
	"Pakistan Standard Time":          "Asia/Karachi",
	"India Standard Time":             "Asia/Calcutta",
	"Bangladesh Standard Time":        "Asia/Dhaka",
	"SE Asia Standard Time":           "Asia/Bangkok",
	"China Standard Time":             "Asia/Shanghai",
	"Singapore Standard Time":         "Asia/Singapore",
	"Taipei Standard Time":            "Asia/Taipei",
	"Tokyo Standard Time":             "Asia/Tokyo",
	"Korea Standard Time":             "Asia/Seoul",
	"AUS Central Standard Time":       "Australia/Darwin",
	"Cen. Australia Standard Time":    "Australia/Adelaide",
	"AUS Eastern Standard Time":       "Australia/Sydney",
	"E. Australia Standard Time":      "Australia/Brisbane",
	"Tasmania Standard Time":          "Australia/Hobart",
	"W. Australia Standard Time":      "Australia/Perth",
	"New Zealand Standard Time":       "Pacific/Auckland",
}

// descriptionZones maps fragments of PidLidTimeZoneDescription texts
// ("(GMT+01:00) Brussels, Copenhagen, Madrid, Paris") to IANA names, for
// items that carry only PidLidTimeZoneStruct. Checked in order.
var descriptionZones = []struct{ frag, iana string }{
	{"Brussels, Copenhagen, Madrid, Paris", "Europe/Paris"},
	{"Amsterdam, Berlin, Bern, Rome", "Europe/Berlin"},
	{"Belgrade, Bratislava, Budapest", "Europe/Budapest"},
	{"Sarajevo, Skopje, Warsaw", "Europe/Warsaw"},
	{"Dublin, Edinburgh, Lisbon, London", "Europe/London"},
	{"Greenwich Mean Time", "Europe/London"},
	{"Athens, Bucharest", "Europe/Bucharest"},
	{"Helsinki, Kyiv", "Europe/Kiev"},
	{"Helsinki, Kiev", "Europe/Kiev"},
	{"Moscow, St. Petersburg", "Europe/Moscow"},
	{"Jerusalem", "Asia/Jerusalem"},
	{"Eastern Time (US & Canada)", "America/New_York"},
	{"Central Time (US & Canada)", "America/Chicago"},
	{"Mountain Time (US & Canada)", "America/Denver"},
	{"Pacific Time (US & Canada)", "America/Los_Angeles"},
	{"Alaska", "America/Anchorage"},
	{"Hawaii", "Pacific/Honolulu"},
	{"Arizona", "America/Phoenix"},
	{"Atlantic Time (Canada)", "America/Halifax"},
	{"Osaka, Sapporo, Tokyo", "Asia/Tokyo"},
	{"Beijing, Chongqing, Hong Kong", "Asia/Shanghai"},
	{"Chennai, Kolkata, Mumbai", "Asia/Calcutta"},
	{"Canberra, Melbourne, Sydney", "Australia/Sydney"},
	{"Auckland, Wellington", "Pacific/Auckland"},
	{"Coordinated Universal Time", "Etc/UTC"},
}

// IANAName maps a Windows time zone key name or a time zone description
// to an IANA zone name; it returns "" when unknown.
func IANAName(windowsKeyOrDescription string) string {
	s := strings.TrimSpace(windowsKeyOrDescription)
	if z, ok := windowsZones[s]; ok {
		return z
	}
	for _, d := range descriptionZones {
		if strings.Contains(s, d.frag) {
			return d.iana
		}
	}
	return ""
}
