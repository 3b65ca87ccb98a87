package recur_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/pst/cal/recur"
	"github.com/pstsync/pstsync/pst/cal/recur/recurtest"
	"pgregory.net/rapid"
)

// minute draws a floating local time at minute precision between 1990
// and 2040.
func minute(t *rapid.T, label string) time.Time {
	base := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	return base.Add(time.Duration(rapid.IntRange(0, 50*366*1440).Draw(t, label)) * time.Minute)
}

func day(t *rapid.T, label string) time.Time {
	m := minute(t, label)
	return time.Date(m.Year(), m.Month(), m.Day(), 0, 0, 0, 0, time.UTC)
}

var text = rapid.StringOfN(rapid.SampledFrom([]rune("abcXYZ 09-;,:\\\"éàüß€中文😀")), 0, 20, -1)

// genPattern draws any structurally valid pattern: every pattern type,
// end type and override flag, with exceptions of every kind.
func genPattern(t *rapid.T) *recur.Pattern {
	type shape struct {
		f  recur.Frequency
		pt recur.PatternType
	}
	sh := rapid.SampledFrom([]shape{
		{recur.FreqDaily, recur.PatternDay}, {recur.FreqWeekly, recur.PatternWeek},
		{recur.FreqMonthly, recur.PatternMonth}, {recur.FreqMonthly, recur.PatternMonthNth},
		{recur.FreqMonthly, recur.PatternMonthEnd}, {recur.FreqYearly, recur.PatternMonth},
		{recur.FreqYearly, recur.PatternMonthNth}, {recur.FreqMonthly, recur.PatternHjMonth},
	}).Draw(t, "shape")
	p := &recur.Pattern{
		ReaderVersion: 0x3004, WriterVersion: 0x3004,
		Frequency: sh.f, PatternType: sh.pt,
		CalendarType:  uint16(rapid.IntRange(0, 0x17).Draw(t, "calendar")),
		FirstDateTime: rapid.Uint32().Draw(t, "firstDateTime"),
		Period:        rapid.Uint32Range(1, 999).Draw(t, "period"),
		EndType:       rapid.SampledFrom([]recur.EndType{recur.EndAfterDate, recur.EndAfterCount, recur.EndNever, recur.EndNeverAlt}).Draw(t, "end"),
		FirstDOW:      rapid.Uint32Range(0, 6).Draw(t, "firstDOW"),
		StartDate:     day(t, "start"),
		EndDate:       day(t, "endDate"),
	}
	p.OccurrenceCount = rapid.Uint32Range(0, 999).Draw(t, "count")
	switch sh.pt {
	case recur.PatternWeek:
		p.DayMask = rapid.Uint32Range(1, 0x7F).Draw(t, "mask")
	case recur.PatternMonth, recur.PatternMonthEnd, recur.PatternHjMonth:
		p.DayOfMonth = rapid.Uint32Range(1, 31).Draw(t, "dayOfMonth")
	case recur.PatternMonthNth:
		p.DayMask = rapid.Uint32Range(1, 0x7F).Draw(t, "mask")
		p.N = rapid.Uint32Range(1, 5).Draw(t, "n")
	}
	p.DeletedDates = rapid.SliceOfN(rapid.Custom(func(t *rapid.T) time.Time { return day(t, "deleted") }), 0, 8).Draw(t, "deletedDates")
	p.ModifiedDates = rapid.SliceOfN(rapid.Custom(func(t *rapid.T) time.Time { return day(t, "modified") }), 0, 8).Draw(t, "modifiedDates")
	if len(p.DeletedDates) == 0 {
		p.DeletedDates = nil
	}
	if len(p.ModifiedDates) == 0 {
		p.ModifiedDates = nil
	}
	p.Appointment = rapid.Bool().Draw(t, "appointment")
	if !p.Appointment {
		return p
	}
	p.ReaderVersion2 = 0x3006
	p.WriterVersion2 = rapid.SampledFrom([]uint32{0x3008, 0x3009}).Draw(t, "writerVersion2")
	p.StartTimeOffset = rapid.Uint32Range(0, 1439).Draw(t, "startOffset")
	p.EndTimeOffset = p.StartTimeOffset + rapid.Uint32Range(0, 3*1440).Draw(t, "duration")
	n := rapid.IntRange(0, 6).Draw(t, "exceptions")
	p.Exceptions = make([]recur.Exception, n)
	for i := range p.Exceptions {
		e := &p.Exceptions[i]
		e.Start = minute(t, "exStart")
		e.End = e.Start.Add(time.Duration(rapid.IntRange(0, 3000).Draw(t, "exDuration")) * time.Minute)
		e.OriginalStart = minute(t, "exOriginal")
		e.OverrideFlags = uint16(rapid.IntRange(0, 0x3FF).Draw(t, "flags"))
		if e.Has(recur.AROSubject) {
			e.Subject = text.Draw(t, "subject")
		}
		if e.Has(recur.AROMeetingType) {
			e.MeetingType = rapid.Uint32().Draw(t, "meetingType")
		}
		if e.Has(recur.AROReminderDelta) {
			e.ReminderDelta = rapid.Uint32().Draw(t, "reminderDelta")
		}
		if e.Has(recur.AROReminder) {
			e.ReminderSet = rapid.Bool().Draw(t, "reminderSet")
		}
		if e.Has(recur.AROLocation) {
			e.Location = text.Draw(t, "location")
		}
		if e.Has(recur.AROBusyStatus) {
			e.BusyStatus = rapid.Uint32Range(0, 4).Draw(t, "busy")
		}
		if e.Has(recur.AROAttachment) {
			e.HasAttachment = rapid.Bool().Draw(t, "attachment")
		}
		if e.Has(recur.AROSubType) {
			e.SubType = rapid.Uint32Range(0, 1).Draw(t, "subType")
		}
		if e.Has(recur.AROApptColor) {
			e.AppointmentColor = rapid.Uint32Range(0, 8).Draw(t, "color")
		}
		if p.WriterVersion2 >= 0x3009 {
			e.ChangeHighlight = rapid.Uint32().Draw(t, "changeHighlight")
		}
	}
	if n == 0 {
		p.Exceptions = []recur.Exception{}
	}
	return p
}

// TestParseRoundTrip encodes random patterns with the test encoder of
// package recurtest and requires Parse to give them back field by field.
func TestParseRoundTrip(t *testing.T) {
	testutil.RapidDefaults(t)
	rapid.Check(t, func(t *rapid.T) {
		want := genPattern(t)
		got, err := recur.Parse(recurtest.Encode(want, true))
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
		}
	})
}

// TestParseWithoutExtendedExceptions: blobs of writers before Outlook 2003
// end after ReservedBlock1; the ANSI subjects and locations are used.
func TestParseWithoutExtendedExceptions(t *testing.T) {
	testutil.RapidDefaults(t)
	rapid.Check(t, func(t *rapid.T) {
		want := genPattern(t)
		want.Appointment = true
		want.ReaderVersion2, want.WriterVersion2 = 0x3006, 0x3008
		for i := range want.Exceptions {
			e := &want.Exceptions[i]
			e.ChangeHighlight = 0
			e.Subject = latin1(e.Subject)
			e.Location = latin1(e.Location)
		}
		if want.Exceptions == nil {
			want.Exceptions = []recur.Exception{}
		}
		got, err := recur.Parse(recurtest.Encode(want, false))
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
		}
	})
}

func latin1(s string) string {
	r := []rune(s)
	for i := range r {
		if r[i] > 0xFF {
			r[i] = '?'
		}
	}
	return string(r)
}
