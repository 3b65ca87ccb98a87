package recur

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

// Blobs taken from the sample PSTs in shared/pst-samples.
const (
	// java-libpst__dist-list.pst "Test appointment": weekly on Tuesday,
	// no end, 08:00-08:30, one deleted and two moved instances.
	blobWeeklyNoEnd = "043004300b2001000000c0210000010000000000000004000000232000000a0000000000000003000000805c070d40ab070da0d2070d0200000040ab070da0d2070d2035070ddf80e95a0630000009300000e0010000fe01000002005cad070d7aad070d20ad070d0002f8d4070d16d5070d80d4070d00020000000004000000000000000000000004000000000000000000000000000000"
	// sedatools__ContactCalendar-test.pst "Rdv loop 01-08-2019-Mon-14-00":
	// weekly on Monday until 2020-01-31, four exceptions with subject and
	// location overrides (ANSI and Unicode).
	blobWeeklyUntil = "043004300b200100000000000000010000000000000002000000212000001a0000000100000005000000c07c1f0d20a41f0d80cb1f0de0f21f0d401a200d0400000020a41f0d80cb1f0de0f21f0d401a200d60551f0d4044230d063000000930000048030000660300000400a4a71f0dc2a71f0d68a71f0d0000c8ce1f0de6ce1f0dc8ce1f0d010027002600526476206c6f6f702030312d30382d323031392d4d6f6e2d31342d3030206d6f64696669656428f61f0d46f61f0d28f61f0d1000140013005465737420706c616365206d6f646966696564881d200da61d200d881d200d000000000000040000000000000000000000040000000000000000000000c8ce1f0de6ce1f0dc8ce1f0d260052006400760020006c006f006f0070002000300031002d00300038002d0032003000310039002d004d006f006e002d00310034002d003000300020006d006f006400690066006900650064000000000004000000000000000000000028f61f0d46f61f0d28f61f0d13005400650073007400200070006c0061006300650020006d006f006400690066006900650064000000000004000000000000000000000000000000"
	// sedatools "Rdv loop 01-08-2019-1Tue-13-00": monthly, first Tuesday.
	blobMonthNth = "043004300c2003000000000000000100000000000000040000000100000021200000060000000000000001000000005b1f0d00000000005b1f0d4044230d06300000093000000c0300002a03000000000000000000000000"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func d(y int, m time.Month, day, h, min int) time.Time {
	return time.Date(y, m, day, h, min, 0, 0, time.UTC)
}

func TestParseRealBlobs(t *testing.T) {
	t.Run("weekly-no-end", func(t *testing.T) {
		p, err := Parse(mustHex(t, blobWeeklyNoEnd))
		if err != nil {
			t.Fatal(err)
		}
		if p.Frequency != FreqWeekly || p.PatternType != PatternWeek || p.Period != 1 || p.DayMask != Tuesday {
			t.Errorf("pattern = %#x/%#x period %d days %#x", p.Frequency, p.PatternType, p.Period, p.DayMask)
		}
		if p.EndType != EndNever || p.FirstDOW != 0 || !p.Appointment {
			t.Errorf("end %#x firstDOW %d appointment %v", p.EndType, p.FirstDOW, p.Appointment)
		}
		if p.StartTimeOffset != 480 || p.EndTimeOffset != 510 {
			t.Errorf("offsets %d/%d", p.StartTimeOffset, p.EndTimeOffset)
		}
		wantDel := []time.Time{d(2016, 8, 9, 0, 0), d(2016, 8, 23, 0, 0), d(2016, 8, 30, 0, 0)}
		if len(p.DeletedDates) != 3 {
			t.Fatalf("deleted = %v", p.DeletedDates)
		}
		for i, w := range wantDel {
			if !p.DeletedDates[i].Equal(w) {
				t.Errorf("deleted[%d] = %v, want %v", i, p.DeletedDates[i], w)
			}
		}
		if len(p.Exceptions) != 2 {
			t.Fatalf("exceptions = %d", len(p.Exceptions))
		}
		e := p.Exceptions[0]
		if !e.Start.Equal(d(2016, 8, 23, 9, 0)) || !e.End.Equal(d(2016, 8, 23, 9, 30)) || !e.OriginalStart.Equal(d(2016, 8, 23, 8, 0)) {
			t.Errorf("exception 0 = %v-%v orig %v", e.Start, e.End, e.OriginalStart)
		}
		if !p.StartDate.Equal(d(2016, 8, 2, 0, 0)) {
			t.Errorf("start date %v", p.StartDate)
		}
	})
	t.Run("weekly-until-with-overrides", func(t *testing.T) {
		p, err := Parse(mustHex(t, blobWeeklyUntil))
		if err != nil {
			t.Fatal(err)
		}
		if p.EndType != EndAfterDate || !p.EndDate.Equal(d(2020, 1, 31, 0, 0)) || p.OccurrenceCount != 26 {
			t.Errorf("end %#x %v count %d", p.EndType, p.EndDate, p.OccurrenceCount)
		}
		if p.DayMask != Monday || p.FirstDOW != 1 {
			t.Errorf("days %#x firstDOW %d", p.DayMask, p.FirstDOW)
		}
		if len(p.DeletedDates) != 5 || len(p.ModifiedDates) != 4 || len(p.Exceptions) != 4 {
			t.Fatalf("deleted %d modified %d exceptions %d", len(p.DeletedDates), len(p.ModifiedDates), len(p.Exceptions))
		}
		e := p.Exceptions[1]
		if !e.Has(AROSubject) || e.Subject != "Rdv loop 01-08-2019-Mon-14-00 modified" {
			t.Errorf("exception 1 subject %q flags %#x", e.Subject, e.OverrideFlags)
		}
		e = p.Exceptions[2]
		if !e.Has(AROLocation) || e.Location != "Test place modified" {
			t.Errorf("exception 2 location %q flags %#x", e.Location, e.OverrideFlags)
		}
		if !p.Exceptions[0].Start.Equal(d(2019, 8, 19, 15, 0)) || !p.Exceptions[0].OriginalStart.Equal(d(2019, 8, 19, 14, 0)) {
			t.Errorf("exception 0 %v orig %v", p.Exceptions[0].Start, p.Exceptions[0].OriginalStart)
		}
	})
	t.Run("month-nth", func(t *testing.T) {
		p, err := Parse(mustHex(t, blobMonthNth))
		if err != nil {
			t.Fatal(err)
		}
		if p.Frequency != FreqMonthly || p.PatternType != PatternMonthNth || p.DayMask != Tuesday || p.N != 1 {
			t.Errorf("pattern %#x/%#x days %#x n %d", p.Frequency, p.PatternType, p.DayMask, p.N)
		}
		if p.StartTimeOffset != 780 {
			t.Errorf("start offset %d", p.StartTimeOffset)
		}
	})
}

// builder writes synthetic blobs.
type builder []byte

func (b *builder) u16(v uint16) *builder { *b = binary.LittleEndian.AppendUint16(*b, v); return b }
func (b *builder) u32(v uint32) *builder { *b = binary.LittleEndian.AppendUint32(*b, v); return b }

func minutes(t time.Time) uint32 {
	return uint32(t.Sub(time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)) / time.Minute)
}

// pattern builds a bare RecurrencePattern.
func pattern(freq Frequency, pt PatternType, period uint32, specific []uint32, end EndType, count uint32) *builder {
	b := &builder{}
	b.u16(0x3004).u16(0x3004).u16(uint16(freq)).u16(uint16(pt)).u16(0).u32(0).u32(period).u32(0)
	for _, s := range specific {
		b.u32(s)
	}
	b.u32(uint32(end)).u32(count).u32(1)
	b.u32(0).u32(0) // no deleted, no modified
	b.u32(minutes(d(2024, 1, 1, 0, 0))).u32(minutes(d(2024, 12, 31, 0, 0)))
	return b
}

func TestRRule(t *testing.T) {
	start := d(2024, 3, 5, 9, 0)
	tests := []struct {
		name  string
		blob  *builder
		until string
		want  string
	}{
		{"daily-every-2-days-count", pattern(FreqDaily, PatternDay, 2880, nil, EndAfterCount, 5), "", "FREQ=DAILY;INTERVAL=2;COUNT=5"},
		{"weekly-mo-we-fr-until", pattern(FreqWeekly, PatternWeek, 1, []uint32{Monday | Wednesday | Friday}, EndAfterDate, 0), "20241231T080000Z", "FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20241231T080000Z"},
		{"weekly-every-3", pattern(FreqWeekly, PatternWeek, 3, []uint32{Sunday}, EndNever, 0), "", "FREQ=WEEKLY;INTERVAL=3;BYDAY=SU"},
		{"monthly-day-15", pattern(FreqMonthly, PatternMonth, 1, []uint32{15}, EndNeverAlt, 0), "", "FREQ=MONTHLY;BYMONTHDAY=15"},
		{"monthly-day-31-is-last", pattern(FreqMonthly, PatternMonth, 2, []uint32{31}, EndNever, 0), "", "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=-1"},
		{"monthly-day-30-is-last-of-february", pattern(FreqMonthly, PatternMonth, 1, []uint32{30}, EndNever, 0), "", "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1"},
		{"yearly-feb-29", pattern(FreqYearly, PatternMonth, 12, []uint32{29}, EndNever, 0), "", "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=28,29;BYSETPOS=-1"},
		{"month-end", pattern(FreqMonthly, PatternMonthEnd, 1, []uint32{31}, EndNever, 0), "", "FREQ=MONTHLY;BYMONTHDAY=-1"},
		{"month-nth-last-friday", pattern(FreqMonthly, PatternMonthNth, 1, []uint32{Friday, 5}, EndNever, 0), "", "FREQ=MONTHLY;BYDAY=-1FR"},
		{"month-nth-2nd-weekday", pattern(FreqMonthly, PatternMonthNth, 1, []uint32{0x3E, 2}, EndNever, 0), "", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=2"},
		{"yearly-day", pattern(FreqYearly, PatternMonth, 12, []uint32{5}, EndAfterCount, 3), "", "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=5;COUNT=3"},
		{"yearly-nth", pattern(FreqYearly, PatternMonthNth, 24, []uint32{Tuesday, 1}, EndNever, 0), "", "FREQ=YEARLY;INTERVAL=2;BYMONTH=3;BYDAY=1TU"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(*tt.blob)
			if err != nil {
				t.Fatal(err)
			}
			if p.Appointment {
				t.Error("bare pattern parsed as appointment pattern")
			}
			got, err := p.RRule(start, tt.until)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("RRule = %q, want %q", got, tt.want)
			}
		})
	}
	// Hijri patterns have no RFC 5545 form.
	p, err := Parse(*pattern(FreqMonthly, PatternHjMonth, 1, []uint32{3}, EndNever, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.RRule(start, ""); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Hijri RRule error = %v, want ErrUnsupported", err)
	}
}

func TestParseErrors(t *testing.T) {
	good := mustHex(t, blobWeeklyUntil)
	// 90 bytes are a complete bare RecurrencePattern and 233 end after
	// ReservedBlock1, where writers before Outlook 2003 stop.
	complete := map[int]bool{90: true, 233: true}
	for n := 0; n < len(good); n++ {
		if _, err := Parse(good[:n]); (err == nil) != complete[n] {
			t.Errorf("Parse(%d of %d bytes) error = %v", n, len(good), err)
		}
	}
	bad := append([]byte(nil), good...)
	bad[0] = 0x05
	if _, err := Parse(bad); err == nil {
		t.Error("bad version accepted")
	}
	// A huge deleted-instance count must fail, not allocate.
	huge := pattern(FreqDaily, PatternDay, 1440, nil, EndNever, 0)
	b := (*huge)[:38]
	b = binary.LittleEndian.AppendUint32(b, 0xFFFFFFF0)
	if _, err := Parse(b); !errors.Is(err, ErrTruncated) {
		t.Errorf("huge count error = %v", err)
	}
}

func TestMinutesToTimeFarFuture(t *testing.T) {
	// 0x5ae97b40 is 4500-12-31, the "no end" date.
	if got := MinutesToTime(0x5ae97b40); !got.Equal(d(4500, 12, 31, 0, 0)) {
		t.Errorf("MinutesToTime(0x5ae97b40) = %v", got)
	}
	if got := MinutesToTime(0xFFFFFFFF); got.Year() != 9767 {
		t.Errorf("MinutesToTime(max) = %v", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(mustHex(f, blobWeeklyNoEnd))
	f.Add(mustHex(f, blobWeeklyUntil))
	f.Add(mustHex(f, blobMonthNth))
	f.Add([]byte(*pattern(FreqMonthly, PatternMonthNth, 1, []uint32{Friday, 5}, EndNever, 0)))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		// Allocation is bounded by the input: every date and exception
		// consumed at least 4 bytes.
		if n := len(p.DeletedDates) + len(p.ModifiedDates) + len(p.Exceptions); n*4 > len(b) {
			t.Fatalf("%d entries from %d bytes", n, len(b))
		}
		_, _ = p.RRule(d(2024, 1, 1, 0, 0), "20250101T000000Z")
	})
}
