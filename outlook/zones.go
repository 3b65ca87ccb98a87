package outlook

import (
	"time"

	"github.com/pstsync/pstsync/pst/cal"
)

// windowsKeys are the Windows time zone key names pstsync can name when it
// writes an appointment (Application.TimeZones.Item(key)); pst/cal maps
// each to its IANA zone.
var windowsKeys = []string{
	"Dateline Standard Time", "Hawaiian Standard Time", "Alaskan Standard Time",
	"Pacific Standard Time", "US Mountain Standard Time", "Mountain Standard Time",
	"Central Standard Time", "Central America Standard Time", "Canada Central Standard Time",
	"Central Standard Time (Mexico)", "Eastern Standard Time", "US Eastern Standard Time",
	"SA Pacific Standard Time", "Atlantic Standard Time", "Newfoundland Standard Time",
	"E. South America Standard Time", "Argentina Standard Time", "UTC", "GMT Standard Time",
	"Greenwich Standard Time", "W. Europe Standard Time", "Central Europe Standard Time",
	"Romance Standard Time", "Central European Standard Time", "W. Central Africa Standard Time",
	"GTB Standard Time", "E. Europe Standard Time", "FLE Standard Time", "Israel Standard Time",
	"South Africa Standard Time", "Egypt Standard Time", "Turkey Standard Time",
	"Russian Standard Time", "Arab Standard Time", "Arabian Standard Time", "Iran Standard Time",
	"Pakistan Standard Time", "India Standard Time", "Bangladesh Standard Time",
	"SE Asia Standard Time", "China Standard Time", "Singapore Standard Time",
	"Taipei Standard Time", "Tokyo Standard Time", "Korea Standard Time",
	"AUS Central Standard Time", "Cen. Australia Standard Time", "AUS Eastern Standard Time",
	"E. Australia Standard Time", "Tasmania Standard Time", "W. Australia Standard Time",
	"New Zealand Standard Time",
}

// WindowsZone returns the Windows key name for a TZID: a Windows key name
// as it is, an IANA name through pst/cal's table, else the first Windows
// zone whose offsets equal the zone's over the years 2020–2030 (Outlook
// keeps only its own zone definitions). It returns "" when none fits.
func WindowsZone(tzid string) string {
	if tzid == "" || tzid == "UTC" || tzid == "Etc/UTC" || tzid == "Z" {
		return "UTC"
	}
	for _, k := range windowsKeys {
		if k == tzid || cal.IANAName(k) == tzid {
			return k
		}
	}
	loc, err := zoneByName(tzid)
	if err != nil {
		return ""
	}
	for _, k := range windowsKeys {
		other, err := time.LoadLocation(cal.IANAName(k))
		if err == nil && sameOffsets(loc, other) {
			return k
		}
	}
	return ""
}

func sameOffsets(a, b *time.Location) bool {
	for t := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC); t.Year() < 2031; t = t.Add(6 * time.Hour) {
		_, x := t.In(a).Zone()
		_, y := t.In(b).Zone()
		if x != y {
			return false
		}
	}
	return true
}
