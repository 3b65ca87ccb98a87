package recur

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrUnsupported is returned by RRule for patterns with no RFC 5545
// equivalent (Hijri calendar patterns, unknown frequencies).
var ErrUnsupported = errors.New("recur: unsupported pattern")

var dayCodes = [7]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

func dayList(mask uint32) []string {
	var out []string
	for i, c := range dayCodes {
		if mask&(1<<i) != 0 {
			out = append(out, c)
		}
	}
	return out
}

// RRule renders the pattern as an RFC 5545 RRULE value. start is the local
// start of the first instance (its month is used by yearly patterns). until
// is the already formatted UNTIL value used for EndAfterDate patterns (the
// caller knows the time zone); when empty no UNTIL is written.
func (p *Pattern) RRule(start time.Time, until string) (string, error) {
	var parts []string
	add := func(k, v string) { parts = append(parts, k+"="+v) }
	interval := func(n uint32) {
		if n > 1 {
			add("INTERVAL", strconv.FormatUint(uint64(n), 10))
		}
	}
	switch p.PatternType {
	case PatternDay:
		add("FREQ", "DAILY")
		if p.Period%1440 != 0 || p.Period == 0 {
			return "", fmt.Errorf("%w: daily period %d minutes", ErrUnsupported, p.Period)
		}
		interval(p.Period / 1440)
	case PatternWeek:
		days := dayList(p.DayMask)
		if len(days) == 0 {
			return "", fmt.Errorf("%w: weekly pattern without days", ErrUnsupported)
		}
		add("FREQ", "WEEKLY")
		interval(p.Period)
		add("BYDAY", strings.Join(days, ","))
		if p.FirstDOW < 7 && p.FirstDOW != 1 {
			add("WKST", dayCodes[p.FirstDOW])
		}
	case PatternMonth, PatternMonthEnd, PatternMonthNth:
		yearly := p.Frequency == FreqYearly
		if yearly {
			add("FREQ", "YEARLY")
			interval(p.Period / 12)
			add("BYMONTH", strconv.Itoa(int(start.Month())))
		} else {
			add("FREQ", "MONTHLY")
			interval(p.Period)
		}
		switch p.PatternType {
		case PatternMonth:
			d := int(p.DayOfMonth)
			if d < 1 || d > 31 {
				return "", fmt.Errorf("%w: day of month %d", ErrUnsupported, d)
			}
			switch {
			case d == 31:
				add("BYMONTHDAY", "-1") // Outlook moves day 31 to the last day of shorter months
			case d > 28:
				// and day 29 or 30 to the last day of a month that
				// is shorter: the last of the days 28..d the month has.
				days := make([]string, 0, 3)
				for i := 28; i <= d; i++ {
					days = append(days, strconv.Itoa(i))
				}
				add("BYMONTHDAY", strings.Join(days, ","))
				add("BYSETPOS", "-1")
			default:
				add("BYMONTHDAY", strconv.Itoa(d))
			}
		case PatternMonthEnd:
			add("BYMONTHDAY", "-1")
		case PatternMonthNth:
			days := dayList(p.DayMask)
			if len(days) == 0 || p.N < 1 || p.N > 5 {
				return "", fmt.Errorf("%w: month-nth days %#x n %d", ErrUnsupported, p.DayMask, p.N)
			}
			pos := int(p.N)
			if pos == 5 {
				pos = -1
			}
			if len(days) == 1 {
				add("BYDAY", strconv.Itoa(pos)+days[0])
			} else {
				add("BYDAY", strings.Join(days, ","))
				add("BYSETPOS", strconv.Itoa(pos))
			}
		}
	default:
		return "", fmt.Errorf("%w: pattern type %#x", ErrUnsupported, uint16(p.PatternType))
	}
	switch p.EndType {
	case EndAfterCount:
		if p.OccurrenceCount > 0 {
			add("COUNT", strconv.FormatUint(uint64(p.OccurrenceCount), 10))
		}
	case EndAfterDate:
		if until != "" {
			add("UNTIL", until)
		}
	}
	return strings.Join(parts, ";"), nil
}
