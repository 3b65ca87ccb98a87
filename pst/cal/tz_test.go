package cal

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// Time zone blobs from the sample PSTs.
const (
	// sedatools__ContactCalendar-test.pst, PidLidAppointmentTimeZoneDefinitionStartDisplay.
	tzdefParis = "020130000200150052006f006d0061006e006300650020005300740061006e0064006100720064002000540069006d006500010002013e00020041060100000001000000000000000000c4ffffff00000000c4ffffff00000a0000000500030000000000000000000300000005000200000000000000"
	// java-libpst__dist-list.pst, PidLidAppointmentTimeZoneDefinitionRecur:
	// two rules, 2006 (old US dates) and 2007.
	tzdefPacific = "0201300002001500500061006300690066006900630020005300740061006e0064006100720064002000540069006d006500020002013e000000d6070100000001000000000000000000e001000000000000c4ffffff00000a000000050002000000000000000000040000000100020000000000000002013e000300d7070100000001000000000000000000e001000000000000c4ffffff00000b0000000100020000000000000000000300000002000200000000000000"
	// java-libpst__dist-list.pst, PidLidTimeZoneStruct.
	tzStructPacific = "e001000000000000c4ffffff000000000b00000001000200000000000000000000000300000002000200000000000000"
)

// hexb decodes a hex literal of this file; t is unused but keeps call
// sites uniform.
func hexb(_ testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func utc(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

func TestParseTZDefinition(t *testing.T) {
	paris, err := ParseTZDefinition(hexb(t, tzdefParis))
	if err != nil {
		t.Fatal(err)
	}
	if paris.KeyName != "Romance Standard Time" || len(paris.Rules) != 1 {
		t.Fatalf("paris = %q, %d rules", paris.KeyName, len(paris.Rules))
	}
	r := paris.Rules[0]
	if r.Bias != -60 || r.StandardBias != 0 || r.DaylightBias != -60 {
		t.Errorf("biases %d/%d/%d", r.Bias, r.StandardBias, r.DaylightBias)
	}
	if r.StandardDate.Month != 10 || r.StandardDate.Day != 5 || r.StandardDate.Hour != 3 ||
		r.DaylightDate.Month != 3 || r.DaylightDate.Day != 5 || r.DaylightDate.Hour != 2 {
		t.Errorf("dates %+v / %+v", r.StandardDate, r.DaylightDate)
	}
	pac, err := ParseTZDefinition(hexb(t, tzdefPacific))
	if err != nil {
		t.Fatal(err)
	}
	if pac.KeyName != "Pacific Standard Time" || len(pac.Rules) != 2 {
		t.Fatalf("pacific = %q, %d rules", pac.KeyName, len(pac.Rules))
	}
	if got := pac.Rule(2005).Year; got != 2006 { // before every rule: the earliest
		t.Errorf("Rule(2005).Year = %d", got)
	}
	if got := pac.Rule(2006).DaylightDate.Month; got != 4 {
		t.Errorf("2006 DST starts in month %d, want 4", got)
	}
	if got := pac.Rule(2016).DaylightDate.Month; got != 3 {
		t.Errorf("2016 DST starts in month %d, want 3", got)
	}
	st, err := ParseTZStruct(hexb(t, tzStructPacific))
	if err != nil {
		t.Fatal(err)
	}
	if st.Rules[0].Bias != 480 || st.Rules[0].StandardDate.Month != 11 || st.Rules[0].DaylightDate.Day != 2 {
		t.Errorf("struct rule %+v", st.Rules[0])
	}
	for _, bad := range [][]byte{nil, {2, 1}, hexb(t, tzdefParis)[:40], hexb(t, tzdefParis)[:70]} {
		if _, err := ParseTZDefinition(bad); err == nil {
			t.Errorf("ParseTZDefinition(%x) succeeded", bad)
		}
	}
	if _, err := ParseTZStruct(hexb(t, tzStructPacific)[:47]); err == nil {
		t.Error("short TimeZoneStruct accepted")
	}
}

func TestZoneConversions(t *testing.T) {
	paris, _ := ParseTZDefinition(hexb(t, tzdefParis))
	pac, _ := ParseTZDefinition(hexb(t, tzdefPacific))
	zp := &zone{tzid: "Europe/Paris", def: paris}
	za := &zone{tzid: "America/Los_Angeles", def: pac}
	tests := []struct {
		name string
		z    *zone
		u    time.Time // UTC
		l    time.Time // local wall clock
	}{
		{"paris-winter", zp, utc(2019, 1, 10, 9, 0), utc(2019, 1, 10, 10, 0)},
		{"paris-summer", zp, utc(2019, 7, 30, 13, 0), utc(2019, 7, 30, 15, 0)},
		{"paris-before-spring-change", zp, utc(2019, 3, 31, 0, 59), utc(2019, 3, 31, 1, 59)},
		{"paris-after-spring-change", zp, utc(2019, 3, 31, 1, 0), utc(2019, 3, 31, 3, 0)},
		{"paris-after-autumn-change", zp, utc(2019, 10, 27, 2, 0), utc(2019, 10, 27, 3, 0)},
		{"paris-repeated-hour-reads-daylight", zp, utc(2019, 10, 27, 0, 30), utc(2019, 10, 27, 2, 30)},
		{"la-2016-summer", za, utc(2016, 8, 2, 15, 0), utc(2016, 8, 2, 8, 0)},
		{"la-2016-november-dst", za, utc(2016, 11, 5, 15, 0), utc(2016, 11, 5, 8, 0)},
		{"la-2006-march-standard", za, utc(2006, 3, 20, 16, 0), utc(2006, 3, 20, 8, 0)}, // old rules: DST from April
		{"la-2016-march-dst", za, utc(2016, 3, 20, 15, 0), utc(2016, 3, 20, 8, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.z.local(tt.u); !got.Equal(tt.l) {
				t.Errorf("local(%v) = %v, want %v", tt.u, got, tt.l)
			}
			if got := tt.z.toUTC(tt.l); !got.Equal(tt.u) {
				t.Errorf("toUTC(%v) = %v, want %v", tt.l, got, tt.u)
			}
		})
	}
	// Cross-check against the IANA database for a year of hours.
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	for u := utc(2019, 1, 1, 0, 30); u.Year() == 2019; u = u.Add(time.Hour) {
		_, off := u.In(loc).Zone()
		if got := zp.local(u).Sub(u); got != time.Duration(off)*time.Second {
			t.Fatalf("offset at %v = %v, want %ds", u, got, off)
		}
	}
}

func TestVTimezone(t *testing.T) {
	paris, _ := ParseTZDefinition(hexb(t, tzdefParis))
	tz := (&zone{tzid: "Europe/Paris", def: paris}).vtimezone(2019, 2019)
	if got := tz.Props.Get("TZID").Value; got != "Europe/Paris" {
		t.Errorf("TZID = %q", got)
	}
	if len(tz.Children) != 2 {
		t.Fatalf("%d sub-components", len(tz.Children))
	}
	want := map[string][4]string{
		"STANDARD": {"19701025T030000", "FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "+0200", "+0100"},
		"DAYLIGHT": {"19700329T020000", "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "+0100", "+0200"},
	}
	for _, c := range tz.Children {
		w := want[c.Name]
		got := [4]string{c.Props.Get("DTSTART").Value, c.Props.Get("RRULE").Value, c.Props.Get("TZOFFSETFROM").Value, c.Props.Get("TZOFFSETTO").Value}
		if got != w {
			t.Errorf("%s = %v, want %v", c.Name, got, w)
		}
	}
	// A zone without daylight saving time has one STANDARD block.
	tokyo := &TZDefinition{KeyName: "Tokyo Standard Time", Rules: []TZRule{{Bias: -540}}}
	tz = (&zone{tzid: "Asia/Tokyo", def: tokyo}).vtimezone(2020, 2020)
	if len(tz.Children) != 1 || tz.Children[0].Props.Get("TZOFFSETTO").Value != "+0900" {
		t.Errorf("tokyo = %+v", tz.Children)
	}
}

func TestIANAName(t *testing.T) {
	for in, want := range map[string]string{
		"Romance Standard Time":                           "Europe/Paris",
		"W. Europe Standard Time":                         "Europe/Berlin",
		"GMT Standard Time":                               "Europe/London",
		"Eastern Standard Time":                           "America/New_York",
		"Pacific Standard Time":                           "America/Los_Angeles",
		"Central Standard Time":                           "America/Chicago",
		"Tokyo Standard Time":                             "Asia/Tokyo",
		"(GMT-06:00) Central Time (US & Canada)":          "America/Chicago",
		"(UTC+01:00) Brussels, Copenhagen, Madrid, Paris": "Europe/Paris",
		"Mars Standard Time":                              "",
	} {
		if got := IANAName(in); got != want {
			t.Errorf("IANAName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseTZDefinition(f *testing.F) {
	f.Add(hexb(f, tzdefParis))
	f.Add(hexb(f, tzdefPacific))
	f.Add(hexb(f, tzStructPacific))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, parse := range []func([]byte) (*TZDefinition, error){ParseTZDefinition, ParseTZStruct} {
			d, err := parse(b)
			if err != nil {
				continue
			}
			if len(d.Rules)*tzRuleSize > len(b)+tzRuleSize {
				t.Fatalf("%d rules from %d bytes", len(d.Rules), len(b))
			}
			z := &zone{tzid: "X", def: d}
			for _, y := range []int{1601, 2020, 4500} {
				u := utc(y, 6, 1, 12, 0)
				_ = z.toUTC(z.local(u))
				_ = z.vtimezone(y, y+1)
			}
		}
	})
}

// TestVTimezoneSpansRuleChange: a series from 2005 to 2009 in a zone whose
// rules changed in 2007 gets both rule sets, the old one ending with 2006.
func TestVTimezoneSpansRuleChange(t *testing.T) {
	pac, err := ParseTZDefinition(hexb(t, tzdefPacific))
	if err != nil {
		t.Fatal(err)
	}
	tz := (&zone{tzid: "America/Los_Angeles", def: pac}).vtimezone(2005, 2009)
	var got []string
	for _, c := range tz.Children {
		got = append(got, c.Name+" "+c.Props.Get("DTSTART").Value+" "+c.Props.Get("RRULE").Value)
	}
	want := []string{
		"STANDARD 19701025T020000 FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU;UNTIL=20061029T090000Z",
		"DAYLIGHT 19700405T020000 FREQ=YEARLY;BYMONTH=4;BYDAY=1SU;UNTIL=20060402T100000Z",
		"STANDARD 20071104T020000 FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
		"DAYLIGHT 20070311T020000 FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("observances:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A series within one rule's years gets that rule only.
	if n := len((&zone{tzid: "X", def: pac}).vtimezone(2010, 2012).Children); n != 2 {
		t.Errorf("2010-2012: %d observances, want 2", n)
	}
}
