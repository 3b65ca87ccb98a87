package outlook

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/pst"
)

func TestWindowsZone(t *testing.T) {
	for tzid, want := range map[string]string{
		"Europe/Berlin": "W. Europe Standard Time", "Europe/Paris": "Romance Standard Time",
		"Romance Standard Time": "Romance Standard Time", "America/New_York": "Eastern Standard Time",
		"Europe/Amsterdam": "W. Europe Standard Time", // same rules as Berlin
		"UTC":              "UTC", "Etc/UTC": "UTC", "Mars/Olympus": "",
	} {
		if got := WindowsZone(tzid); got != want {
			t.Errorf("WindowsZone(%q) = %q, want %q", tzid, got, want)
		}
	}
}

func TestDASL(t *testing.T) {
	for r, want := range map[PropRef]string{
		{Tag: pst.TagSubject, Type: pst.TypeString}: "http://schemas.microsoft.com/mapi/proptag/0x0037001F",
		PropRecur:    "http://schemas.microsoft.com/mapi/id/{00062002-0000-0000-C000-000000000046}/82160102",
		PropKeywords: "http://schemas.microsoft.com/mapi/string/{00020329-0000-0000-C000-000000000046}/Keywords/0x101F",
	} {
		if got := r.DASL(); got != want {
			t.Errorf("DASL %+v = %s, want %s", r, got, want)
		}
	}
}

func calDoc(t *testing.T, body string) *merge.Doc {
	t.Helper()
	d, err := merge.DecodeCalendar([]byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" +
		strings.ReplaceAll(strings.TrimSpace(body), "\n", "\r\n") + "\r\nEND:VCALENDAR\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestFromDocEvent checks the members written for a series.
func TestFromDocEvent(t *testing.T) {
	d := calDoc(t, `BEGIN:VEVENT
UID:u1
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Berlin:20260302T093000
DTEND;TZID=Europe/Berlin:20260302T100000
RRULE:FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20261231T083000Z
EXDATE;TZID=Europe/Berlin:20260327T093000
CLASS:PRIVATE
PRIORITY:1
TRANSP:TRANSPARENT
SUMMARY:s
END:VEVENT`)
	w, err := FromDoc(d)
	if err != nil {
		t.Fatal(err)
	}
	r := w.Recurrence
	if w.TimeZone != "W. Europe Standard Time" || w.Fields["Sensitivity"] != SensitivityPrivate || w.Fields["Importance"] != 2 ||
		w.Fields["BusyStatus"] != 0 || w.Fields["Start"] != time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC) || w.UID != "u1" {
		t.Errorf("write %+v", w)
	}
	if r == nil || r.Type != RecursMonthNth || r.Instance != 5 || r.DayOfWeekMask != 32 || !r.PatternEnd.Equal(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)) ||
		len(r.Exceptions) != 1 || !r.Exceptions[0].Deleted || !r.Exceptions[0].Original.Equal(time.Date(2026, 3, 27, 9, 30, 0, 0, time.UTC)) {
		t.Errorf("recurrence %+v", r)
	}
}

func TestFromDocRefused(t *testing.T) {
	for name, body := range map[string]string{
		"hourly":       "BEGIN:VEVENT\nUID:a\nDTSTAMP:20260101T000000Z\nDTSTART:20260302T093000Z\nRRULE:FREQ=HOURLY\nEND:VEVENT",
		"unknown zone": "BEGIN:VEVENT\nUID:b\nDTSTAMP:20260101T000000Z\nDTSTART;TZID=Mars/Olympus:20260302T093000\nEND:VEVENT",
		"todo":         "BEGIN:VTODO\nUID:c\nDTSTAMP:20260101T000000Z\nSUMMARY:x\nEND:VTODO",
	} {
		d := calDoc(t, body)
		if _, err := FromDoc(d); err == nil || name != "unknown zone" && !errors.Is(err, ErrRefused) {
			t.Errorf("%s: err %v, want a refusal", name, err)
		}
	}
}

func TestFromDocContact(t *testing.T) {
	d, err := merge.DecodeVCard([]byte("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:c1\r\nFN:Ann Example\r\nN:Example;Ann;;;\r\n" +
		"TEL;TYPE=work,voice:1\r\nTEL;TYPE=work,voice:2\r\nTEL;TYPE=work,voice:3\r\nTEL;TYPE=cell:4\r\nTEL;TYPE=work,fax:5\r\n" +
		"ADR;TYPE=home;PREF=1:;;Street 1;Town;;123;Land\r\nGENDER:F\r\nIMPP:im:ann\r\nURL:https://x.example\r\nEND:VCARD\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := FromDoc(d)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"LastName": "Example", "FirstName": "Ann", "FileAs": "Ann Example", "BusinessTelephoneNumber": "1",
		"Business2TelephoneNumber": "2", "OtherTelephoneNumber": "3", "MobileTelephoneNumber": "4", "BusinessFaxNumber": "5",
		"HomeAddressStreet": "Street 1", "HomeAddressCity": "Town", "SelectedMailingAddress": 1, "Gender": 1,
		"IMAddress": "ann", "WebPage": "https://x.example",
	} {
		if got := w.Fields[k]; got != want {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	for k := range w.Fields {
		if _, ok := ContactFields[k]; !ok && k != "FullName" && k != "SelectedMailingAddress" {
			t.Errorf("member %s has no MAPI property in ContactFields", k)
		}
	}
}

func TestToDocErrors(t *testing.T) {
	if _, err := ToDoc(nil); err == nil {
		t.Error("nil item converted")
	}
	b := NewPropBag()
	b.Set(PropRef{Tag: pst.TagMessageClass, Type: pst.TypeString}, "IPM.Note")
	if _, err := ToDoc(&Item{Msg: &pst.Message{Props: b.Props()}}); err == nil || !strings.Contains(err.Error(), "not an appointment or contact") {
		t.Errorf("mail item: %v", err)
	}
}
