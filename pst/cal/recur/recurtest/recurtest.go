// Package recurtest encodes recurrence patterns as the binary blobs
// Outlook stores, for tests: an encoder written from [MS-OXOCAL] 2.2.1.44
// (RecurrencePattern, AppointmentRecurrencePattern, ExceptionInfo,
// ExtendedException) independently of the parser in package recur, so that
// round trips through both check each against the specification.
package recurtest

import (
	"encoding/binary"
	"time"
	"unicode/utf16"

	"github.com/pstsync/pstsync/pst/cal/recur"
)

var epoch = time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)

// Minutes converts a floating local time (clock fields in time.UTC) to
// minutes since 1601-01-01, the unit of every time in the blob.
func Minutes(t time.Time) uint32 {
	y, m, d := t.Date()
	days := (time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() - epoch.Unix()) / 86400
	return uint32(days*1440 + int64(t.Hour()*60+t.Minute()))
}

type buf []byte

func (b *buf) u16(v uint16) { *b = binary.LittleEndian.AppendUint16(*b, v) }
func (b *buf) u32(v uint32) { *b = binary.LittleEndian.AppendUint32(*b, v) }

// ansi is the 8-bit form of s for ExceptionInfo: Latin-1, '?' for the rest.
func ansi(s string) []byte {
	var out []byte
	for _, r := range s {
		if r > 0xFF {
			r = '?'
		}
		out = append(out, byte(r))
	}
	return out
}

// Encode returns the blob of p: a bare RecurrencePattern when
// p.Appointment is false, else an AppointmentRecurrencePattern whose
// ExtendedExceptions (written when extended is true, as Outlook 2003 and
// later do) carry the Unicode subjects and locations. The lengths, counts
// and reserved sizes are computed; ReaderVersion and WriterVersion fields
// of p are ignored in favour of the values the specification requires.
func Encode(p *recur.Pattern, extended bool) []byte {
	var b buf
	b.u16(0x3004) // ReaderVersion
	b.u16(0x3004) // WriterVersion
	b.u16(uint16(p.Frequency))
	b.u16(uint16(p.PatternType))
	b.u16(p.CalendarType)
	b.u32(p.FirstDateTime)
	b.u32(p.Period)
	b.u32(p.SlidingFlag)
	switch p.PatternType {
	case recur.PatternWeek:
		b.u32(p.DayMask)
	case recur.PatternMonth, recur.PatternMonthEnd, recur.PatternHjMonth, recur.PatternHjMonthEnd:
		b.u32(p.DayOfMonth)
	case recur.PatternMonthNth, recur.PatternHjMonthNth:
		b.u32(p.DayMask)
		b.u32(p.N)
	}
	b.u32(uint32(p.EndType))
	b.u32(p.OccurrenceCount)
	b.u32(p.FirstDOW)
	b.u32(uint32(len(p.DeletedDates)))
	for _, d := range p.DeletedDates {
		b.u32(Minutes(d))
	}
	b.u32(uint32(len(p.ModifiedDates)))
	for _, d := range p.ModifiedDates {
		b.u32(Minutes(d))
	}
	b.u32(Minutes(p.StartDate))
	b.u32(Minutes(p.EndDate))
	if !p.Appointment {
		return b
	}
	wv2 := p.WriterVersion2
	if wv2 == 0 {
		wv2 = 0x3009
	}
	b.u32(0x3006) // ReaderVersion2
	b.u32(wv2)
	b.u32(p.StartTimeOffset)
	b.u32(p.EndTimeOffset)
	b.u16(uint16(len(p.Exceptions)))
	for i := range p.Exceptions {
		e := &p.Exceptions[i]
		b.u32(Minutes(e.Start))
		b.u32(Minutes(e.End))
		b.u32(Minutes(e.OriginalStart))
		b.u16(e.OverrideFlags)
		if e.Has(recur.AROSubject) {
			s := ansi(e.Subject)
			b.u16(uint16(len(s) + 1)) // SubjectLength
			b.u16(uint16(len(s)))     // SubjectLength2
			b = append(b, s...)
		}
		if e.Has(recur.AROMeetingType) {
			b.u32(e.MeetingType)
		}
		if e.Has(recur.AROReminderDelta) {
			b.u32(e.ReminderDelta)
		}
		if e.Has(recur.AROReminder) {
			b.u32(boolU32(e.ReminderSet))
		}
		if e.Has(recur.AROLocation) {
			s := ansi(e.Location)
			b.u16(uint16(len(s) + 1))
			b.u16(uint16(len(s)))
			b = append(b, s...)
		}
		if e.Has(recur.AROBusyStatus) {
			b.u32(e.BusyStatus)
		}
		if e.Has(recur.AROAttachment) {
			b.u32(boolU32(e.HasAttachment))
		}
		if e.Has(recur.AROSubType) {
			b.u32(e.SubType)
		}
		if e.Has(recur.AROApptColor) {
			b.u32(e.AppointmentColor)
		}
	}
	b.u32(0) // ReservedBlock1Size
	if !extended {
		return b
	}
	for i := range p.Exceptions {
		e := &p.Exceptions[i]
		if wv2 >= 0x3009 {
			b.u32(4) // ChangeHighlightSize
			b.u32(e.ChangeHighlight)
		}
		b.u32(0) // ReservedBlockEE1Size
		if e.Has(recur.AROSubject) || e.Has(recur.AROLocation) {
			b.u32(Minutes(e.Start))
			b.u32(Minutes(e.End))
			b.u32(Minutes(e.OriginalStart))
			if e.Has(recur.AROSubject) {
				u := utf16.Encode([]rune(e.Subject))
				b.u16(uint16(len(u)))
				for _, c := range u {
					b.u16(c)
				}
			}
			if e.Has(recur.AROLocation) {
				u := utf16.Encode([]rune(e.Location))
				b.u16(uint16(len(u)))
				for _, c := range u {
					b.u16(c)
				}
			}
			b.u32(0) // ReservedBlockEE2Size
		}
	}
	b.u32(0) // ReservedBlock2Size
	return b
}

func boolU32(v bool) uint32 {
	if v {
		return 1
	}
	return 0
}
