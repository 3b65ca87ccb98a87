package syncer

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pstsync/pstsync/merge"
)

// combineICSText is CombineICS as it was written first, on strings: the
// reference the faster one must match.
func combineICSText(objs [][]byte) []byte {
	var zones, comps bytes.Buffer
	seenTZ := map[string]bool{}
	for _, obj := range objs {
		lines := strings.SplitAfter(string(obj), "\n")
		depth := 0
		var cur strings.Builder
		var tzid string
		isTZ := false
		for _, l := range lines {
			t := strings.TrimRight(l, "\r\n")
			if t == "" {
				continue
			}
			up := strings.ToUpper(t)
			switch {
			case strings.HasPrefix(up, "BEGIN:"):
				depth++
				if depth == 2 {
					cur.Reset()
					isTZ = up == "BEGIN:VTIMEZONE"
					tzid = ""
				}
			case strings.HasPrefix(up, "END:"):
				if depth > 2 {
					cur.WriteString(t + "\r\n")
				}
				if depth == 2 {
					cur.WriteString(t + "\r\n")
					if isTZ {
						if !seenTZ[tzid] {
							seenTZ[tzid] = true
							zones.WriteString(cur.String())
						}
					} else {
						comps.WriteString(cur.String())
					}
				}
				depth--
				continue
			}
			if depth >= 2 {
				if isTZ && depth == 2 && strings.HasPrefix(up, "TZID") {
					tzid = t
				}
				cur.WriteString(t + "\r\n")
			}
		}
	}
	var out bytes.Buffer
	out.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:" + merge.ProdID + "\r\n")
	out.Write(zones.Bytes())
	out.Write(comps.Bytes())
	out.WriteString("END:VCALENDAR\r\n")
	return out.Bytes()
}

func TestCombineICSSameAsText(t *testing.T) {
	objs := [][]byte{
		[]byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:Größe ıst\r\n long\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"),
		[]byte("begin:vcalendar\nbegin:vtimezone\ntzid:Europe/Berlin\nend:vtimezone\nbegin:vevent\nuid:b\nend:vevent\nend:vcalendar"),
		[]byte("BEGIN:VCALENDAR\r\nBEGİN:VEVENT\r\nUID:c\r\nEND:VEVENT\r\nend:VCALENDAR\r\n\r\n\r\r\n"),
		[]byte("BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nEND:VTIMEZONE\r\nBEGIN:VTIMEZONE\r\ntzid:Other\r\nEND:VTIMEZONE\r\nBEGIN:VTODO\r\nUID:d\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"),
		[]byte("no calendar at all\nEND:X\nEND:Y"),
		nil,
	}
	for i := range objs {
		for j := i; j <= len(objs); j++ {
			got, want := CombineICS(objs[i:j]), combineICSText(objs[i:j])
			if !bytes.Equal(got, want) {
				t.Errorf("objects %d..%d:\n%s\nwant\n%s", i, j, got, want)
			}
		}
	}
}
