package cal

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

// occ is one occurrence of a series as a user sees it in a calendar.
type occ struct {
	// Start and End are wall-clock times "2006-01-02 15:04" in the zone of
	// the series, or dates "2006-01-02" (End exclusive) for all-day ones.
	Start, End string
	Summary    string
	Modified   bool // a RECURRENCE-ID override replaced the instance
}

func (o occ) String() string {
	m := ""
	if o.Modified {
		m = " (modified)"
	}
	return fmt.Sprintf("%s – %s %q%s", o.Start, o.End, o.Summary, m)
}

const wallFormat = "2006-01-02 15:04"

// startDate is the date on which o starts.
func (o occ) startDate() time.Time {
	d, _ := time.Parse("2006-01-02", o.Start[:10])
	return d
}

// icsTime reads a DATE or DATE-TIME property: a date (all-day, in
// time.UTC), a UTC time, or a time in the IANA zone its TZID names.
func icsTime(p *ical.Prop) (t time.Time, allDay bool, loc *time.Location, err error) {
	v := p.Value
	switch {
	case p.Params.Get(ical.ParamValue) == "DATE" || len(v) == 8:
		t, err = time.Parse(dateFormat, v)
		return t, true, time.UTC, err
	case strings.HasSuffix(v, "Z"):
		t, err = time.Parse(utcFormat, v)
		return t, false, time.UTC, err
	case p.Params.Get(ical.PropTimezoneID) != "":
		if loc, err = time.LoadLocation(p.Params.Get(ical.PropTimezoneID)); err != nil {
			return t, false, nil, err
		}
		t, err = time.ParseInLocation(floatingFormat, v, loc)
		return t, false, loc, err
	}
	t, err = time.Parse(floatingFormat, v)
	return t, false, time.UTC, err
}

func wallOf(t time.Time, allDay bool, loc *time.Location) string {
	if allDay {
		return t.Format("2006-01-02")
	}
	return t.In(loc).Format(wallFormat)
}

// expandRRule expands the series of c (the VEVENT without RECURRENCE-ID
// and the overrides with its UID) with rrule-go, through the local date
// last. It returns the occurrences in start order, the instants of their
// starts, and the zone of the series. Overrides that match no instance
// and a DTSTART that is not an instance of its own RRULE are errors:
// clients disagree about both.
func expandRRule(c *ical.Calendar, last time.Time) ([]occ, []time.Time, *time.Location, error) {
	var master *ical.Component
	var overrides []*ical.Component
	for _, ev := range c.Children {
		if ev.Name != ical.CompEvent {
			continue
		}
		if ev.Props.Get(ical.PropRecurrenceID) != nil {
			overrides = append(overrides, ev)
		} else if master == nil {
			master = ev
		}
	}
	if master == nil {
		return nil, nil, nil, fmt.Errorf("no master VEVENT")
	}
	ds := master.Props.Get(ical.PropDateTimeStart)
	if ds == nil {
		return nil, nil, nil, fmt.Errorf("master without DTSTART")
	}
	start, allDay, loc, err := icsTime(ds)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("DTSTART: %w", err)
	}
	end := start
	if allDay {
		end = start.AddDate(0, 0, 1)
	}
	if de := master.Props.Get(ical.PropDateTimeEnd); de != nil {
		if end, _, _, err = icsTime(de); err != nil {
			return nil, nil, nil, fmt.Errorf("DTEND: %w", err)
		}
	}
	days := int(end.Sub(start).Hours()/24 + 0.5)
	dur := end.Sub(start)
	uid := value(master, ical.PropUID)
	bound := time.Date(last.Year(), last.Month(), last.Day(), 23, 59, 59, 0, loc)

	instants := []time.Time{start}
	if rp := master.Props.Get(ical.PropRecurrenceRule); rp != nil {
		opt, err := rrule.StrToROptionInLocation(rp.Value, loc)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("RRULE %q: %w", rp.Value, err)
		}
		opt.Dtstart = start
		r, err := rrule.NewRRule(*opt)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("RRULE %q: %w", rp.Value, err)
		}
		instants = r.Between(start.Add(-time.Second), bound, true)
		if len(instants) == 0 || !instants[0].Equal(start) {
			return nil, nil, nil, fmt.Errorf("DTSTART %s is not an instance of RRULE %s", ds.Value, rp.Value)
		}
	}
	excluded := map[int64]bool{}
	for _, p := range master.Props.Values(ical.PropExceptionDates) {
		for _, v := range strings.Split(p.Value, ",") {
			q := p
			q.Value = v
			t, _, _, err := icsTime(&q)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("EXDATE %q: %w", v, err)
			}
			excluded[t.Unix()] = true
		}
	}
	byRID := map[int64]*ical.Component{}
	for _, o := range overrides {
		if value(o, ical.PropUID) != uid {
			continue
		}
		t, _, _, err := icsTime(o.Props.Get(ical.PropRecurrenceID))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("RECURRENCE-ID: %w", err)
		}
		byRID[t.Unix()] = o
	}
	summary := textValue(master, ical.PropSummary)
	var out []occ
	var starts []time.Time
	used := map[int64]bool{}
	for _, in := range instants {
		k := in.Unix()
		if excluded[k] {
			continue
		}
		if o := byRID[k]; o != nil {
			used[k] = true
			os, oAllDay, oloc, err := icsTime(o.Props.Get(ical.PropDateTimeStart))
			if err != nil {
				return nil, nil, nil, fmt.Errorf("override DTSTART: %w", err)
			}
			oe := os
			if p := o.Props.Get(ical.PropDateTimeEnd); p != nil {
				if oe, _, _, err = icsTime(p); err != nil {
					return nil, nil, nil, fmt.Errorf("override DTEND: %w", err)
				}
			}
			out = append(out, occ{wallOf(os, oAllDay, oloc), wallOf(oe, oAllDay, oloc), textValue(o, ical.PropSummary), true})
			starts = append(starts, os)
			continue
		}
		e := in.Add(dur)
		if allDay {
			e = in.AddDate(0, 0, days)
		}
		out = append(out, occ{wallOf(in, allDay, loc), wallOf(e, allDay, loc), summary, false})
		starts = append(starts, in)
	}
	for k := range byRID {
		if !used[k] && !time.Unix(k, 0).After(bound) {
			return nil, nil, nil, fmt.Errorf("RECURRENCE-ID %s matches no instance", time.Unix(k, 0).UTC())
		}
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return starts[idx[a]].Before(starts[idx[b]]) })
	so, ss := make([]occ, len(out)), make([]time.Time, len(out))
	for i, j := range idx {
		so[i], ss[i] = out[j], starts[j]
	}
	return so, ss, loc, nil
}

// textValue returns the unescaped TEXT value of a property.
func textValue(c *ical.Component, name string) string {
	if p := c.Props.Get(name); p != nil {
		if s, err := p.Text(); err == nil {
			return s
		}
		return p.Value
	}
	return ""
}

// ---------------------------------------------------------------- VTIMEZONE

// tzTransition is one onset of a VTIMEZONE observance.
type tzTransition struct {
	at       time.Time // UTC instant
	from, to time.Duration
}

func parseUTCOffset(s string) (time.Duration, error) {
	var sign, h, m int
	if len(s) < 5 {
		return 0, fmt.Errorf("offset %q", s)
	}
	switch s[0] {
	case '+':
		sign = 1
	case '-':
		sign = -1
	default:
		return 0, fmt.Errorf("offset %q", s)
	}
	if _, err := fmt.Sscanf(s[1:5], "%02d%02d", &h, &m); err != nil {
		return 0, fmt.Errorf("offset %q: %w", s, err)
	}
	return time.Duration(sign) * (time.Duration(h)*time.Hour + time.Duration(m)*time.Minute), nil
}

// vtzTransitions reads every onset of the observances of vtz up to the
// end of year lastYear, the way a client that trusts the VTIMEZONE does
// (it never consults a zone database).
func vtzTransitions(vtz *ical.Component, lastYear int) ([]tzTransition, error) {
	var out []tzTransition
	bound := time.Date(lastYear+1, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, o := range vtz.Children {
		from, err := parseUTCOffset(value(o, ical.PropTimezoneOffsetFrom))
		if err != nil {
			return nil, err
		}
		to, err := parseUTCOffset(value(o, ical.PropTimezoneOffsetTo))
		if err != nil {
			return nil, err
		}
		dtstart, err := time.Parse(floatingFormat, value(o, ical.PropDateTimeStart))
		if err != nil {
			return nil, fmt.Errorf("observance DTSTART: %w", err)
		}
		onsets := []time.Time{dtstart}
		if rp := o.Props.Get(ical.PropRecurrenceRule); rp != nil {
			opt, err := rrule.StrToROptionInLocation(rp.Value, time.UTC)
			if err != nil {
				return nil, fmt.Errorf("observance RRULE %q: %w", rp.Value, err)
			}
			opt.Dtstart = dtstart
			if !opt.Until.IsZero() {
				opt.Until = opt.Until.Add(from) // UNTIL is UTC; onsets are local
			}
			r, err := rrule.NewRRule(*opt)
			if err != nil {
				return nil, err
			}
			onsets = r.Between(dtstart.Add(-time.Second), bound, true)
		}
		for _, l := range onsets {
			out = append(out, tzTransition{at: l.Add(-from), from: from, to: to})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	if len(out) == 0 {
		return nil, fmt.Errorf("VTIMEZONE without observances")
	}
	return out, nil
}

// offsetAt is the UTC offset the transitions give at instant u.
func offsetAt(trs []tzTransition, u time.Time) time.Duration {
	i := sort.Search(len(trs), func(i int) bool { return trs[i].at.After(u) })
	if i == 0 {
		return trs[0].from
	}
	return trs[i-1].to
}

// checkVTimezones verifies that for every instant the VTIMEZONEs of c give
// the offset the IANA database gives for their TZID: a client reading our
// VTIMEZONE sees the same wall clock as one using its own zone database.
func checkVTimezones(c *ical.Calendar, instants []time.Time) error {
	for _, vtz := range children(c, ical.CompTimezone) {
		tzid := value(vtz, ical.PropTimezoneID)
		loc, err := time.LoadLocation(tzid)
		if err != nil {
			continue // not an IANA name: nothing to compare with
		}
		lastYear := 1970
		for _, u := range instants {
			lastYear = max(lastYear, u.Year())
		}
		trs, err := vtzTransitions(vtz, lastYear)
		if err != nil {
			return fmt.Errorf("VTIMEZONE %s: %w", tzid, err)
		}
		for _, u := range instants {
			_, off := u.In(loc).Zone()
			if got := offsetAt(trs, u); got != time.Duration(off)*time.Second {
				return fmt.Errorf("VTIMEZONE %s gives offset %v at %s, IANA %v", tzid, got, u.UTC(), time.Duration(off)*time.Second)
			}
		}
	}
	return nil
}

// diffOccs describes the differences between two occurrence lists.
func diffOccs(got, want []occ) string {
	var b strings.Builder
	g := map[string]occ{}
	for _, o := range got {
		g[o.Start] = o
	}
	w := map[string]occ{}
	for _, o := range want {
		w[o.Start] = o
	}
	for _, o := range want {
		if x, ok := g[o.Start]; !ok {
			fmt.Fprintf(&b, "  missing  %v\n", o)
		} else if x != o {
			fmt.Fprintf(&b, "  got      %v\n  want     %v\n", x, o)
		}
	}
	for _, o := range got {
		if _, ok := w[o.Start]; !ok {
			fmt.Fprintf(&b, "  extra    %v\n", o)
		}
	}
	if b.Len() == 0 && len(got) != len(want) {
		fmt.Fprintf(&b, "  %d occurrences, want %d (duplicates)\n", len(got), len(want))
	}
	return b.String()
}
