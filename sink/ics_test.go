package sink

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-ical"
)

// unfold reverses folding and returns the logical lines.
func unfold(t *testing.T, s string) []string {
	t.Helper()
	if !strings.HasSuffix(s, "\r\n") {
		t.Fatalf("output does not end with CRLF: %q", s)
	}
	phys := strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
	var out []string
	for _, p := range phys {
		if strings.Contains(p, "\n") || strings.Contains(p, "\r") {
			t.Fatalf("bare CR or LF in physical line %q", p)
		}
		if strings.HasPrefix(p, " ") && len(out) > 0 {
			out[len(out)-1] += p[1:]
			continue
		}
		out = append(out, p)
	}
	return out
}

func checkPhysicalLines(t *testing.T, s string) {
	t.Helper()
	for i, p := range strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n") {
		if len(p) > maxLineOctets {
			t.Errorf("physical line %d has %d octets: %q", i, len(p), p)
		}
		if !utf8.ValidString(p) {
			t.Errorf("physical line %d is not valid UTF-8 (split sequence?): %q", i, p)
		}
	}
}

func TestWriteFolded(t *testing.T) {
	tests := []struct {
		name      string
		line      string
		wantLines int
	}{
		{"short", "SUMMARY:hello", 1},
		{"exactly 75", "X:" + strings.Repeat("a", 73), 1},
		{"76", "X:" + strings.Repeat("a", 74), 2},
		{"long ascii", "DESCRIPTION:" + strings.Repeat("0123456789", 30), 5},
		{"two-byte", "X:" + strings.Repeat("é", 100), 3},
		{"three-byte", "X:" + strings.Repeat("€", 80), 4},
		{"four-byte", "X:" + strings.Repeat("😀", 60), 4},
		{"mixed at boundary", "X:" + strings.Repeat("a", 72) + "😀" + strings.Repeat("b", 10), 2},
		{"empty", "", 1},
		{"invalid utf8", "X:" + strings.Repeat("\xff", 200), 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			writeFolded(&buf, tc.line)
			out := buf.String()
			got := unfold(t, out)
			if len(got) != 1 || got[0] != tc.line {
				t.Fatalf("unfold = %q, want %q", got, tc.line)
			}
			phys := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
			if len(phys) != tc.wantLines {
				t.Errorf("got %d physical lines, want %d: %q", len(phys), tc.wantLines, phys)
			}
			for i, p := range phys {
				if len(p) > maxLineOctets {
					t.Errorf("line %d: %d octets", i, len(p))
				}
				if utf8.ValidString(tc.line) && !utf8.ValidString(p) {
					t.Errorf("line %d splits a UTF-8 sequence: %q", i, p)
				}
			}
		})
	}
}

func FuzzWriteFolded(f *testing.F) {
	f.Add("X:" + strings.Repeat("€", 80))
	f.Add("X:" + strings.Repeat("a", 73))
	f.Add("\xf0\x9f\x98")
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\r\n") {
			return
		}
		var buf bytes.Buffer
		writeFolded(&buf, line)
		phys := strings.Split(strings.TrimSuffix(buf.String(), "\r\n"), "\r\n")
		joined := phys[0]
		for i, p := range phys {
			if len(p) > maxLineOctets {
				t.Fatalf("line %d has %d octets", i, len(p))
			}
			if i > 0 {
				if !strings.HasPrefix(p, " ") || len(p) < 2 {
					t.Fatalf("bad continuation line %q", p)
				}
				joined += p[1:]
			}
		}
		if joined != line {
			t.Fatalf("unfold mismatch")
		}
		if utf8.ValidString(line) {
			for _, p := range phys {
				if !utf8.ValidString(p) {
					t.Fatalf("split UTF-8 sequence in %q", p)
				}
			}
		}
	})
}

func TestEscapeICSText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{`a\b`, `a\\b`},
		{"a;b,c", `a\;b\,c`},
		{"l1\nl2", `l1\nl2`},
		{"l1\r\nl2\rl3", `l1\nl2\nl3`},
		{"tab\there\x00\x07x", "tab\there" + "x"},
		{"ünïcødé €", "ünïcødé €"},
	}
	for _, tc := range tests {
		if got := EscapeICSText(tc.in); got != tc.want {
			t.Errorf("EscapeICSText(%q) = %q, want %q", tc.in, got, tc.want)
		}
		// go-ical's decoder must give the text back (minus dropped controls).
		p := ical.Prop{Name: "SUMMARY", Value: EscapeICSText(tc.in), Params: ical.Params{}}
		txt, err := p.Text()
		if err != nil {
			t.Fatalf("go-ical Text(%q): %v", p.Value, err)
		}
		want := strings.NewReplacer("\r\n", "\n", "\r", "\n", "\x00", "", "\x07", "").Replace(tc.in)
		if txt != want {
			t.Errorf("go-ical decoded %q, want %q", txt, want)
		}
	}
	if got := EscapeICSTextList([]string{"a,b", "c;d"}); got != `a\,b,c\;d` {
		t.Errorf("EscapeICSTextList = %q", got)
	}
}

// TestGoICALFacts pins the behaviour of go-ical that sink works around.
func TestGoICALFacts(t *testing.T) {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//x//y//EN")
	ev := ical.NewEvent()
	ev.Props.SetText(ical.PropUID, "u1")
	ev.Props.SetText(ical.PropDateTimeStamp, "20240101T000000Z")
	ev.Props.SetText(ical.PropSummary, strings.Repeat("long ", 40))
	cal.Children = append(cal.Children, ev.Component)
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		t.Fatal(err)
	}
	folded := true
	for _, l := range strings.Split(buf.String(), "\r\n") {
		if len(l) > maxLineOctets {
			folded = false
		}
	}
	if folded {
		t.Log("go-ical now folds lines; the own encoder is still used")
	}
	// go-ical refuses VTIMEZONE children inside VEVENT etc.; sink does not
	// validate: any tree is written.
	bad := ical.NewCalendar()
	bad.Props.SetText(ical.PropVersion, "2.0")
	bad.Props.SetText(ical.PropProductID, "x")
	e := ical.NewEvent()
	e.Props.SetText(ical.PropUID, "u")
	e.Props.SetText(ical.PropDateTimeStamp, "20240101T000000Z")
	e.Children = append(e.Children, &ical.Component{Name: "X-THING", Props: ical.Props{}})
	bad.Children = append(bad.Children, e.Component)
	if err := ical.NewEncoder(&bytes.Buffer{}).Encode(bad); err == nil {
		t.Log("go-ical now accepts X- children of VEVENT")
	}
	var out bytes.Buffer
	if err := EncodeICS(&out, bad); err != nil {
		t.Fatalf("EncodeICS: %v", err)
	}
	if !strings.Contains(out.String(), "BEGIN:X-THING\r\n") {
		t.Fatalf("X-THING missing:\n%s", out.String())
	}
}

// testCalendar builds a calendar with a VTIMEZONE tree, a recurring event
// with an alarm, long multibyte text and parameters needing quoting.
func testCalendar() *ical.Calendar {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//pstsync//sink test//EN")

	tz := &ical.Component{Name: ical.CompTimezone, Props: ical.Props{}}
	tz.Props.SetText(ical.PropTimezoneID, "W. Europe Standard Time")
	std := &ical.Component{Name: ical.CompTimezoneStandard, Props: ical.Props{}}
	std.Props.Set(&ical.Prop{Name: "DTSTART", Params: ical.Params{}, Value: "16011028T030000"})
	std.Props.Set(&ical.Prop{Name: "RRULE", Params: ical.Params{}, Value: "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"})
	std.Props.Set(&ical.Prop{Name: "TZOFFSETFROM", Params: ical.Params{}, Value: "+0200"})
	std.Props.Set(&ical.Prop{Name: "TZOFFSETTO", Params: ical.Params{}, Value: "+0100"})
	dl := &ical.Component{Name: ical.CompTimezoneDaylight, Props: ical.Props{}}
	dl.Props.Set(&ical.Prop{Name: "DTSTART", Params: ical.Params{}, Value: "16010325T020000"})
	dl.Props.Set(&ical.Prop{Name: "RRULE", Params: ical.Params{}, Value: "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3"})
	dl.Props.Set(&ical.Prop{Name: "TZOFFSETFROM", Params: ical.Params{}, Value: "+0100"})
	dl.Props.Set(&ical.Prop{Name: "TZOFFSETTO", Params: ical.Params{}, Value: "+0200"})
	tz.Children = []*ical.Component{std, dl}

	ev := &ical.Component{Name: ical.CompEvent, Props: ical.Props{}}
	ev.Props.Set(&ical.Prop{Name: "UID", Params: ical.Params{}, Value: "040000008200E00074C5B7101A82E008-1"})
	ev.Props.Set(&ical.Prop{Name: "DTSTAMP", Params: ical.Params{}, Value: "20240102T030405Z"})
	ev.Props.Set(&ical.Prop{Name: "DTSTART", Params: ical.Params{"TZID": {"W. Europe Standard Time"}}, Value: "20240105T090000"})
	ev.Props.Set(&ical.Prop{Name: "DTEND", Params: ical.Params{"TZID": {"W. Europe Standard Time"}}, Value: "20240105T100000"})
	ev.Props.Set(&ical.Prop{Name: "RRULE", Params: ical.Params{}, Value: "FREQ=WEEKLY;COUNT=5;BYDAY=FR"})
	ev.Props.Set(&ical.Prop{Name: "SUMMARY", Params: ical.Params{}, Value: EscapeICSText("Réunion d'équipe; ordre du jour, points\\divers")})
	ev.Props.Set(&ical.Prop{Name: "DESCRIPTION", Params: ical.Params{}, Value: EscapeICSText(strings.Repeat("Ligne très longue avec des caractères accentués — et des emoji 😀. ", 6) + "\r\nSecond line")})
	ev.Props.Set(&ical.Prop{Name: "LOCATION", Params: ical.Params{}, Value: EscapeICSText("Salle 3, Bâtiment B")})
	ev.Props.Set(&ical.Prop{Name: "ORGANIZER", Params: ical.Params{"CN": {`Doe, "Johnny" John`}}, Value: "mailto:john@example.com"})
	ev.Props.Add(&ical.Prop{Name: "ATTENDEE", Params: ical.Params{"CN": {"Zoë: Müller"}, "PARTSTAT": {"ACCEPTED"}, "ROLE": {"REQ-PARTICIPANT"}}, Value: "mailto:zoe@example.com"})
	ev.Props.Add(&ical.Prop{Name: "ATTENDEE", Params: ical.Params{"CN": {"Bob"}}, Value: "mailto:bob@example.com"})
	ev.Props.Set(&ical.Prop{Name: "CATEGORIES", Params: ical.Params{}, Value: EscapeICSTextList([]string{"Work", "Team, internal"})})
	alarm := &ical.Component{Name: ical.CompAlarm, Props: ical.Props{}}
	alarm.Props.Set(&ical.Prop{Name: "ACTION", Params: ical.Params{}, Value: "DISPLAY"})
	alarm.Props.Set(&ical.Prop{Name: "TRIGGER", Params: ical.Params{}, Value: "-PT15M"})
	alarm.Props.Set(&ical.Prop{Name: "DESCRIPTION", Params: ical.Params{}, Value: "Reminder"})
	ev.Children = []*ical.Component{alarm}
	cal.Children = []*ical.Component{tz, ev}
	return cal
}

func TestEncodeICSRoundTripGoICAL(t *testing.T) {
	cal := testCalendar()
	var buf bytes.Buffer
	if err := EncodeICS(&buf, cal); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	checkPhysicalLines(t, out)
	lines := unfold(t, out)
	if lines[0] != "BEGIN:VCALENDAR" || lines[1] != "VERSION:2.0" || lines[len(lines)-1] != "END:VCALENDAR" {
		t.Errorf("unexpected framing: %q ... %q", lines[:2], lines[len(lines)-1])
	}

	dec, err := ical.NewDecoder(strings.NewReader(out)).Decode()
	if err != nil {
		t.Fatalf("go-ical decode: %v\n%s", err, out)
	}
	if len(dec.Children) != 2 || dec.Children[0].Name != "VTIMEZONE" || len(dec.Children[0].Children) != 2 {
		t.Fatalf("component tree not preserved: %+v", dec.Children)
	}
	if n := dec.Children[1].Children; len(n) != 1 || n[0].Name != "VALARM" {
		t.Fatalf("VALARM lost")
	}
	evs := dec.Events()
	if len(evs) != 1 {
		t.Fatalf("got %d events", len(evs))
	}
	ev := evs[0]
	for name, want := range map[string]string{
		"SUMMARY":     "Réunion d'équipe; ordre du jour, points\\divers",
		"DESCRIPTION": strings.Repeat("Ligne très longue avec des caractères accentués — et des emoji 😀. ", 6) + "\nSecond line",
		"LOCATION":    "Salle 3, Bâtiment B",
	} {
		got, err := ev.Props.Text(name)
		if err != nil || got != want {
			t.Errorf("%s = %q (%v), want %q", name, got, err, want)
		}
	}
	cats, err := ev.Props.Get("CATEGORIES").TextList()
	if err != nil || len(cats) != 2 || cats[1] != "Team, internal" {
		t.Errorf("CATEGORIES = %q (%v)", cats, err)
	}
	if cn := ev.Props.Get("ATTENDEE").Params.Get("CN"); cn != "Zoë: Müller" {
		t.Errorf("ATTENDEE CN = %q", cn)
	}
	// go-ical does not decode RFC 6868; ical.js does (checked below).
	if cn := ev.Props.Get("ORGANIZER").Params.Get("CN"); cn != `Doe, ^'Johnny^' John` {
		t.Errorf("ORGANIZER CN = %q", cn)
	}
	if atts := ev.Props.Values("ATTENDEE"); len(atts) != 2 || atts[0].Value != "mailto:zoe@example.com" {
		t.Errorf("ATTENDEE order not kept: %+v", atts)
	}

	// Deterministic output: same input, same bytes (maps are unordered).
	for i := 0; i < 5; i++ {
		var again bytes.Buffer
		if err := EncodeICS(&again, testCalendar()); err != nil {
			t.Fatal(err)
		}
		if again.String() != out {
			t.Fatal("output not deterministic")
		}
	}
}

func TestEncodeICSRoundTripICALJS(t *testing.T) {
	var buf bytes.Buffer
	if err := EncodeICS(&buf, testCalendar()); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "cal.ics")
	if err := WriteFileAtomic(p, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	jcal := parseWithICALJS(t, p)
	kids := jChildren(jcal)
	if len(kids) != 2 || kids[1][0] != "vevent" {
		t.Fatalf("unexpected jCal children: %v", kids)
	}
	ev := kids[1]
	want := map[string]string{
		"summary":     "Réunion d'équipe; ordre du jour, points\\divers",
		"description": strings.Repeat("Ligne très longue avec des caractères accentués — et des emoji 😀. ", 6) + "\nSecond line",
		"location":    "Salle 3, Bâtiment B",
	}
	for name, w := range want {
		ps := jProps(ev, name)
		if len(ps) != 1 || ps[0][3] != w {
			t.Errorf("ical.js %s = %v, want %q", name, ps, w)
		}
	}
	cats := jProps(ev, "categories")
	if len(cats) != 1 || len(cats[0]) != 5 || cats[0][4] != "Team, internal" {
		t.Errorf("ical.js categories = %v", cats)
	}
	org := jProps(ev, "organizer")
	if len(org) != 1 || org[0][1].(map[string]any)["cn"] != `Doe, "Johnny" John` {
		t.Errorf("ical.js organizer = %v", org)
	}
}

func TestEncodeICSErrors(t *testing.T) {
	if err := EncodeICS(&bytes.Buffer{}, nil); err == nil {
		t.Error("nil calendar accepted")
	}
	cal := ical.NewCalendar()
	cal.Props.Set(&ical.Prop{Name: "X-BAD", Params: ical.Params{}, Value: "a\nb"})
	if err := EncodeICS(&bytes.Buffer{}, cal); err == nil || !strings.Contains(err.Error(), "CR or LF") {
		t.Errorf("raw newline accepted: %v", err)
	}
	cal = ical.NewCalendar()
	cal.Props.Set(&ical.Prop{Name: "BAD NAME", Params: ical.Params{}, Value: "x"})
	if err := EncodeICS(&bytes.Buffer{}, cal); err == nil {
		t.Error("invalid property name accepted")
	}
	cal = ical.NewCalendar()
	cal.Props.SetText("VERSION", "2.0")
	if err := EncodeICS(failWriter{}, cal); !errors.Is(err, errFail) {
		t.Errorf("writer error not wrapped: %v", err)
	}
}

func TestParamValue(t *testing.T) {
	tests := []struct {
		in          string
		caret, want string
	}{
		{"simple", "", "simple"},
		{"a,b", "", `"a,b"`},
		{"a:b;c", "", `"a:b;c"`},
		{`say "hi"`, "", `say ^'hi^'`},
		{"l1\nl2", "", "l1^nl2"},
		{"x^y", "", "x^y"},
		{"x^ny", "", "x^^ny"},
		{`say "hi"`, "no", "say 'hi'"},
		{"l1\r\nl2", "no", "l1 l2"},
		{"ctl\x01", "", "ctl"},
	}
	for _, tc := range tests {
		if got := paramValue(tc.in, tc.caret == ""); got != tc.want {
			t.Errorf("paramValue(%q, %v) = %q, want %q", tc.in, tc.caret == "", got, tc.want)
		}
	}
}

var errFail = errors.New("injected failure")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errFail }
