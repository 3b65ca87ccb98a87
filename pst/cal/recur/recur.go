// Package recur parses the recurrence blobs of Outlook calendar items:
// PidLidAppointmentRecur (AppointmentRecurrencePattern, [MS-OXOCAL]
// 2.2.1.44.5) and the plain RecurrencePattern ([MS-OXOCAL] 2.2.1.44.1) that
// also starts PidLidTaskRecurrence.
//
// All times inside the blob are local wall-clock times of the recurrence's
// time zone, counted in minutes since 1601-01-01 00:00. This package
// returns them as time.Time values in time.UTC whose clock fields are that
// local wall-clock time (a "floating" time); callers attach the zone.
//
// Parse never panics and never allocates more than a small multiple of the
// input size: every count is checked against the bytes remaining before
// anything is allocated.
package recur

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf16"
)

// Frequency is RecurFrequency.
type Frequency uint16

// Frequencies.
const (
	FreqDaily   Frequency = 0x200A
	FreqWeekly  Frequency = 0x200B
	FreqMonthly Frequency = 0x200C
	FreqYearly  Frequency = 0x200D
)

// PatternType is the PatternType field.
type PatternType uint16

// Pattern types.
const (
	PatternDay        PatternType = 0x0000
	PatternWeek       PatternType = 0x0001
	PatternMonth      PatternType = 0x0002
	PatternMonthNth   PatternType = 0x0003
	PatternMonthEnd   PatternType = 0x0004
	PatternHjMonth    PatternType = 0x000A
	PatternHjMonthNth PatternType = 0x000B
	PatternHjMonthEnd PatternType = 0x000C
)

// EndType is the EndType field.
type EndType uint32

// End types.
const (
	EndAfterDate  EndType = 0x2021
	EndAfterCount EndType = 0x2022
	EndNever      EndType = 0x2023
	EndNeverAlt   EndType = 0xFFFFFFFF
)

// Override flags of an ExceptionInfo ([MS-OXOCAL] 2.2.1.44.2).
const (
	AROSubject         = 0x0001
	AROMeetingType     = 0x0002
	AROReminderDelta   = 0x0004
	AROReminder        = 0x0008
	AROLocation        = 0x0010
	AROBusyStatus      = 0x0020
	AROAttachment      = 0x0040
	AROSubType         = 0x0080
	AROApptColor       = 0x0100
	AROExceptionalBody = 0x0200
	writerVersion2Ext  = 0x3009
)

// Weekday bits of WeekRecurrencePattern / MonthNth day masks.
const (
	Sunday    = 0x01
	Monday    = 0x02
	Tuesday   = 0x04
	Wednesday = 0x08
	Thursday  = 0x10
	Friday    = 0x20
	Saturday  = 0x40
)

// Pattern is a decoded recurrence blob.
type Pattern struct {
	ReaderVersion, WriterVersion uint16
	Frequency                    Frequency
	PatternType                  PatternType
	CalendarType                 uint16
	FirstDateTime                uint32
	// Period is the interval: minutes for daily patterns, weeks for
	// weekly, months for monthly and yearly ones.
	Period      uint32
	SlidingFlag uint32
	// DayMask is the weekday bit mask (Sunday = bit 0) for week and
	// month-nth patterns.
	DayMask uint32
	// DayOfMonth is the day for month patterns (1..31).
	DayOfMonth uint32
	// N is the occurrence for month-nth patterns (1..4, 5 = last).
	N               uint32
	EndType         EndType
	OccurrenceCount uint32
	// FirstDOW is the first day of the week (0 = Sunday).
	FirstDOW uint32
	// DeletedDates are the original dates (local midnight) of deleted
	// and of modified instances.
	DeletedDates []time.Time
	// ModifiedDates are the new dates (local midnight) of modified
	// instances.
	ModifiedDates []time.Time
	// StartDate and EndDate bound the series (local midnight); EndDate is
	// 31-12-4500 for series without end.
	StartDate, EndDate time.Time

	// The fields below come from the AppointmentRecurrencePattern
	// extension and are zero for a bare RecurrencePattern.
	Appointment                    bool
	ReaderVersion2, WriterVersion2 uint32
	// StartTimeOffset and EndTimeOffset are minutes after midnight of the
	// instance date at which each instance starts and ends (EndTimeOffset
	// may exceed a day).
	StartTimeOffset, EndTimeOffset uint32
	Exceptions                     []Exception
}

// Exception is one ExceptionInfo with its ExtendedException merged in.
type Exception struct {
	Start, End    time.Time // new local start and end
	OriginalStart time.Time // local start of the instance it replaces
	OverrideFlags uint16
	// Subject and Location are set when the matching flag is; the
	// Unicode form of the ExtendedException wins over the ANSI one.
	Subject, Location string
	MeetingType       uint32
	ReminderDelta     uint32
	ReminderSet       bool
	BusyStatus        uint32
	HasAttachment     bool
	SubType           uint32 // non-zero: all-day
	AppointmentColor  uint32
	ChangeHighlight   uint32
}

// Has reports whether flag is set in the override flags.
func (e *Exception) Has(flag uint16) bool { return e.OverrideFlags&flag != 0 }

// ErrTruncated is wrapped by errors for blobs that end early.
var ErrTruncated = errors.New("recur: truncated blob")

var epoch1601 = time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)

// MinutesToTime converts minutes since 1601-01-01 to a floating time.
func MinutesToTime(m uint32) time.Time {
	// time.Duration cannot span the 2,900 years a uint32 of minutes can.
	return epoch1601.AddDate(0, 0, int(m/1440)).Add(time.Duration(m%1440) * time.Minute)
}

type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) need(n int) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || len(r.b)-r.off < n {
		r.err = fmt.Errorf("%w: need %d bytes at offset %d, have %d", ErrTruncated, n, r.off, len(r.b)-r.off)
		return false
	}
	return true
}

func (r *reader) u16() uint16 {
	if !r.need(2) {
		return 0
	}
	v := binary.LittleEndian.Uint16(r.b[r.off:])
	r.off += 2
	return v
}

func (r *reader) u32() uint32 {
	if !r.need(4) {
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *reader) bytes(n int) []byte {
	if !r.need(n) {
		return nil
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v
}

func (r *reader) skip(n uint32) {
	if uint64(n) > uint64(len(r.b)-r.off) {
		r.need(int(min(uint64(n), 1<<30)))
		return
	}
	r.off += int(n)
}

// dates reads count uint32 minute values; count is checked against the
// remaining bytes before allocating.
func (r *reader) dates(count uint32) []time.Time {
	if r.err != nil {
		return nil
	}
	if uint64(count)*4 > uint64(len(r.b)-r.off) {
		r.err = fmt.Errorf("%w: %d dates at offset %d", ErrTruncated, count, r.off)
		return nil
	}
	if count == 0 {
		return nil
	}
	out := make([]time.Time, count)
	for i := range out {
		out[i] = MinutesToTime(r.u32())
	}
	return out
}

// Parse decodes an AppointmentRecurrencePattern, or a bare
// RecurrencePattern when b ends after it.
func Parse(b []byte) (*Pattern, error) {
	r := &reader{b: b}
	p := &Pattern{}
	p.ReaderVersion = r.u16()
	p.WriterVersion = r.u16()
	if r.err == nil && (p.ReaderVersion != 0x3004 || p.WriterVersion != 0x3004) {
		return nil, fmt.Errorf("recur: bad version %#x/%#x", p.ReaderVersion, p.WriterVersion)
	}
	p.Frequency = Frequency(r.u16())
	p.PatternType = PatternType(r.u16())
	p.CalendarType = r.u16()
	p.FirstDateTime = r.u32()
	p.Period = r.u32()
	p.SlidingFlag = r.u32()
	switch p.PatternType {
	case PatternDay:
	case PatternWeek:
		p.DayMask = r.u32()
	case PatternMonth, PatternMonthEnd, PatternHjMonth, PatternHjMonthEnd:
		p.DayOfMonth = r.u32()
	case PatternMonthNth, PatternHjMonthNth:
		p.DayMask = r.u32()
		p.N = r.u32()
	default:
		if r.err == nil {
			return nil, fmt.Errorf("recur: unknown pattern type %#x", uint16(p.PatternType))
		}
	}
	p.EndType = EndType(r.u32())
	p.OccurrenceCount = r.u32()
	p.FirstDOW = r.u32()
	p.DeletedDates = r.dates(r.u32())
	p.ModifiedDates = r.dates(r.u32())
	p.StartDate = MinutesToTime(r.u32())
	p.EndDate = MinutesToTime(r.u32())
	if r.err != nil {
		return nil, fmt.Errorf("recur: recurrence pattern: %w", r.err)
	}
	if r.off == len(b) {
		return p, nil // bare RecurrencePattern
	}

	p.Appointment = true
	p.ReaderVersion2 = r.u32()
	p.WriterVersion2 = r.u32()
	p.StartTimeOffset = r.u32()
	p.EndTimeOffset = r.u32()
	n := r.u16()
	if r.err != nil {
		return nil, fmt.Errorf("recur: appointment pattern: %w", r.err)
	}
	// Each ExceptionInfo takes at least 14 bytes.
	if int(n)*14 > len(b)-r.off {
		return nil, fmt.Errorf("recur: %d exceptions: %w", n, ErrTruncated)
	}
	p.Exceptions = make([]Exception, n)
	for i := range p.Exceptions {
		if err := readExceptionInfo(r, &p.Exceptions[i]); err != nil {
			return nil, fmt.Errorf("recur: exception %d: %w", i, err)
		}
	}
	r.skip(r.u32()) // ReservedBlock1
	if r.err != nil {
		return nil, fmt.Errorf("recur: reserved block 1: %w", r.err)
	}
	// Writers older than Outlook 2003 stop here.
	if r.off == len(b) {
		return p, nil
	}
	for i := range p.Exceptions {
		if err := readExtendedException(r, &p.Exceptions[i], p.WriterVersion2); err != nil {
			return nil, fmt.Errorf("recur: extended exception %d: %w", i, err)
		}
	}
	r.skip(r.u32()) // ReservedBlock2
	if r.err != nil {
		return nil, fmt.Errorf("recur: reserved block 2: %w", r.err)
	}
	return p, nil
}

func readExceptionInfo(r *reader, e *Exception) error {
	e.Start = MinutesToTime(r.u32())
	e.End = MinutesToTime(r.u32())
	e.OriginalStart = MinutesToTime(r.u32())
	e.OverrideFlags = r.u16()
	if e.Has(AROSubject) {
		l := r.u16()
		l2 := r.u16()
		if r.err == nil && l != l2+1 {
			return fmt.Errorf("subject lengths %d/%d disagree", l, l2)
		}
		e.Subject = latin1(r.bytes(int(l2)))
	}
	if e.Has(AROMeetingType) {
		e.MeetingType = r.u32()
	}
	if e.Has(AROReminderDelta) {
		e.ReminderDelta = r.u32()
	}
	if e.Has(AROReminder) {
		e.ReminderSet = r.u32() != 0
	}
	if e.Has(AROLocation) {
		l := r.u16()
		l2 := r.u16()
		if r.err == nil && l != l2+1 {
			return fmt.Errorf("location lengths %d/%d disagree", l, l2)
		}
		e.Location = latin1(r.bytes(int(l2)))
	}
	if e.Has(AROBusyStatus) {
		e.BusyStatus = r.u32()
	}
	if e.Has(AROAttachment) {
		e.HasAttachment = r.u32() != 0
	}
	if e.Has(AROSubType) {
		e.SubType = r.u32()
	}
	if e.Has(AROApptColor) {
		e.AppointmentColor = r.u32()
	}
	return r.err
}

func readExtendedException(r *reader, e *Exception, writerVersion2 uint32) error {
	if writerVersion2 >= writerVersion2Ext {
		size := r.u32()
		if r.err == nil && size >= 4 {
			e.ChangeHighlight = r.u32()
			size -= 4
		}
		r.skip(size)
	}
	r.skip(r.u32()) // ReservedBlockEE1
	if e.Has(AROSubject) || e.Has(AROLocation) {
		r.u32() // StartDateTime, EndDateTime, OriginalStartDate repeat the ExceptionInfo
		r.u32()
		r.u32()
		if e.Has(AROSubject) {
			if s, ok := r.utf16(); ok {
				e.Subject = s
			}
		}
		if e.Has(AROLocation) {
			if s, ok := r.utf16(); ok {
				e.Location = s
			}
		}
		r.skip(r.u32()) // ReservedBlockEE2
	}
	return r.err
}

// utf16 reads a uint16 character count and that many UTF-16LE units.
func (r *reader) utf16() (string, bool) {
	n := int(r.u16())
	b := r.bytes(2 * n)
	if r.err != nil {
		return "", false
	}
	u := make([]uint16, n)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u)), true
}

// latin1 decodes the ANSI strings of ExceptionInfo. Their code page is not
// recorded; the Unicode ExtendedException copy replaces them when present.
func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}
