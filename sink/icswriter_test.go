package sink

import (
	"bytes"
	"strings"
	"testing"

	"github.com/emersion/go-ical"
)

// TestICSWriter: a calendar written piece by piece gives EncodeICS's bytes
// (properties sorted the same way, same-name ones in the order given,
// children encoded whole); a bad name is an error from Finish.
func TestICSWriter(t *testing.T) {
	alarm := ical.NewComponent(ical.CompAlarm)
	alarm.Props.SetText(ical.PropAction, "DISPLAY")
	alarm.Props.SetText(ical.PropDescription, "Reminder")
	ev := ical.NewComponent(ical.CompEvent)
	ev.Props.Add(&ical.Prop{Name: "X-B", Value: "2", Params: ical.Params{}})
	ev.Props.Add(&ical.Prop{Name: "ATTENDEE", Value: "mailto:b@x", Params: ical.Params{"CN": {"B; the second"}}})
	ev.Props.Add(&ical.Prop{Name: "ATTENDEE", Value: "mailto:a@x", Params: ical.Params{}})
	ev.Props.SetText(ical.PropSummary, strings.Repeat("long summary, ", 10))
	ev.Props.SetText(ical.PropUID, "u1")
	ev.Props.Add(&ical.Prop{Name: "DTSTART", Value: "20250101T090000", Params: ical.Params{"TZID": {"Europe/Berlin"}}})
	ev.Children = []*ical.Component{alarm}
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropProductID, "-//x//y//EN")
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Children = []*ical.Component{ev}
	var want bytes.Buffer
	if err := EncodeICS(&want, cal); err != nil {
		t.Fatal(err)
	}

	w := NewICSWriter()
	w.Begin("vcalendar")
	w.Props([]ICSProp{{Name: "PRODID", Value: "-//x//y//EN"}, {Name: "version", Value: "2.0"}})
	w.Begin(ical.CompEvent)
	w.Props([]ICSProp{
		{Name: "X-B", Value: "2"},
		{Name: "ATTENDEE", Value: "mailto:b@x", Params: ical.Params{"CN": {"B; the second"}}},
		{Name: "SUMMARY", Value: ev.Props.Get(ical.PropSummary).Value},
		{Name: "ATTENDEE", Value: "mailto:a@x"},
		{Name: "UID", Value: "u1"},
		{Name: "DTSTART", Value: "20250101T090000", Params: ical.Params{"TZID": {"Europe/Berlin"}}},
	})
	w.Component(alarm)
	w.End(ical.CompEvent)
	w.End("VCALENDAR")
	got, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("got\n%s\nwant\n%s", got, want.Bytes())
	}

	for name, write := range map[string]func(w *ICSWriter){
		"component name": func(w *ICSWriter) { w.Begin("V EVENT") },
		"property name":  func(w *ICSWriter) { w.Begin("VEVENT"); w.Props([]ICSProp{{Name: "A;B", Value: "x"}}) },
		"line break":     func(w *ICSWriter) { w.Begin("VEVENT"); w.Props([]ICSProp{{Name: "SUMMARY", Value: "a\r\nb"}}) },
		"child":          func(w *ICSWriter) { w.Begin("VEVENT"); w.Component(&ical.Component{Name: "V:ALARM"}) },
	} {
		w := NewICSWriter()
		write(w)
		w.End("VEVENT") // nothing after an error
		if data, err := w.Finish(); err == nil {
			t.Errorf("%s: no error, wrote\n%s", name, data)
		}
	}
}
