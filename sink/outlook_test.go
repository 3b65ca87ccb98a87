package sink

import (
	"bytes"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"
)

func secondCard() vcard.Card {
	c := vcard.Card{}
	c.SetValue(vcard.FieldUID, "urn:uuid:second")
	c.SetValue(vcard.FieldFormattedName, "Bob Builder")
	c.Set(vcard.FieldName, &vcard.Field{Value: VCardStructured("Builder", "Bob", "", "", "")})
	c.Add(vcard.FieldTelephone, &vcard.Field{Value: "+49 30 1", Params: vcard.Params{}})
	c.Add(vcard.FieldTelephone, &vcard.Field{Value: "+49 170 2", Params: vcard.Params{vcard.ParamType: {"cell"}}})
	c.Add(vcard.FieldTelephone, &vcard.Field{Value: "+49 30 3", Params: vcard.Params{vcard.ParamType: {"home", "voice"}}})
	c.Add(vcard.FieldEmail, &vcard.Field{Value: "bob@example.com"})
	c.Add(vcard.FieldEmail, &vcard.Field{Value: "bob@example.org"})
	c.Add(vcard.FieldAddress, &vcard.Field{Value: VCardStructured("", "", "Gartenweg 2", "Potsdam", "", "14467", "Germany"),
		Params: vcard.Params{vcard.ParamType: {"home"}}})
	c.SetValue(vcard.FieldURL, "https://bob.example")
	return c
}

// TestOutlookCSV checks the file against Outlook's column list: the
// header, a BOM, CRLF rows of equal width, and values in their columns.
func TestOutlookCSV(t *testing.T) {
	group := vcard.Card{}
	group.SetValue(vcard.FieldFormattedName, "Team")
	group.SetValue(vcard.FieldKind, "group")
	var b bytes.Buffer
	if err := EncodeOutlookCSV(&b, []vcard.Card{testCard(), secondCard(), group}); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	if !bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		t.Error("no UTF-8 byte order mark")
	}
	if bytes.Count(data, []byte("\n")) != bytes.Count(data, []byte("\r\n")) {
		t.Error("line ends are not CRLF")
	}
	r := csv.NewReader(bytes.NewReader(data[3:]))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(OutlookCSVColumns) != 92 || strings.Join(rows[0], ",") != strings.Join(OutlookCSVColumns, ",") {
		t.Fatalf("header: %d columns %v", len(rows[0]), rows[0])
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want header + 2 (the group skipped)", len(rows))
	}
	get := func(row int, col string) string {
		for i, c := range OutlookCSVColumns {
			if c == col {
				return rows[row][i]
			}
		}
		t.Fatalf("no column %q", col)
		return ""
	}
	for _, tc := range []struct {
		row       int
		col, want string
	}{
		{1, "Title", "Dr."}, {1, "First Name", "Zoë"}, {1, "Middle Name", "Anne;Marie"}, {1, "Last Name", "O'Brien-Müller"},
		{1, "Suffix", "PhD, MBA"}, {1, "Company", "ACME; Inc."}, {1, "Department", "R&D"}, {1, "Job Title", "Head of R&D, Europe"},
		{1, "Business City", "Paris"}, {1, "Business Postal Code", "75002"}, {1, "Business Country/Region", "France"},
		{1, "Business Phone", "tel:+33-1-23-45-67-89"}, {1, "E-mail Address", "zoe@example.com"}, {1, "E-mail Type", "SMTP"},
		{1, "Birthday", "2/15/1980"}, {1, "Anniversary", "6/10/2005"}, {1, "Gender", "Female"},
		{1, "Categories", "Work;Friends, close;Back\\slash"}, {1, "Web Page", "https://example.com/a,b?c=d;e"},
		{2, "First Name", "Bob"}, {2, "Last Name", "Builder"}, {2, "Other Phone", "+49 30 1"}, {2, "Mobile Phone", "+49 170 2"},
		{2, "Home Phone", "+49 30 3"}, {2, "E-mail 2 Address", "bob@example.org"}, {2, "Home Street", "Gartenweg 2"},
		{2, "Home City", "Potsdam"}, {2, "Gender", "Unspecified"}, {2, "Sensitivity", "Normal"},
	} {
		if got := get(tc.row, tc.col); got != tc.want {
			t.Errorf("row %d %s = %q, want %q", tc.row, tc.col, got, tc.want)
		}
	}
	if n := get(1, "Notes"); !strings.HasSuffix(n, "😀. \nsecond line") || !bytes.Contains(data, []byte("😀. \r\nsecond line")) {
		t.Errorf("notes lost their line break (CRLF in the file): %q", n)
	}
}

// TestWriteOutlookVCards: one vCard 3.0 per file, TYPE on every TEL and
// URL; khard and ical.js read them.
func TestWriteOutlookVCards(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "contacts")
	paths, err := WriteOutlookVCards(dir, []vcard.Card{testCard(), secondCard()})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 || filepath.Base(paths[1]) != OutlookVCardName(secondCard()) {
		t.Fatalf("paths %v", paths)
	}
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		s := string(b)
		if strings.Count(s, "BEGIN:VCARD") != 1 || !strings.Contains(s, "VERSION:3.0\r\n") {
			t.Errorf("%s: not one vCard 3.0:\n%s", p, s)
		}
		for _, line := range strings.Split(s, "\r\n") {
			if (strings.HasPrefix(line, "TEL") || strings.HasPrefix(line, "URL")) && !strings.Contains(strings.SplitN(line, ":", 2)[0], "TYPE=") {
				t.Errorf("%s: %q without TYPE", p, line)
			}
		}
	}
	checkWithICALJS(t, dir)
	khard, err := exec.LookPath("khard")
	if err != nil {
		missingTool(t, "khard not installed")
	}
	cfg := filepath.Join(t.TempDir(), "khard.conf")
	os.WriteFile(cfg, []byte("[addressbooks]\n[[book]]\npath = "+dir+"\n[general]\ndefault_action = list\n[vcard]\n"), 0o644)
	cmd := exec.Command(khard, "-c", cfg, "list", "--parsable")
	cmd.Env = append(os.Environ(), "HOME="+filepath.Dir(cfg))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("khard: %v\n%s", err, out)
	}
	for _, want := range []string{"urn:uuid:second\tBob Builder\tbook", "urn:uuid:3f8a1c4e-1111-2222-3333-444455556666\t"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("khard output lacks %q:\n%s", want, out)
		}
	}
}

func TestOutlookImportCalendar(t *testing.T) {
	src := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//x//EN\r\nBEGIN:VEVENT\r\nUID:040000008200E00074C5B7101A82E008\r\n" +
		"DTSTAMP:20260101T000000Z\r\nLAST-MODIFIED:20261201T080000Z\r\nSEQUENCE:3\r\nDTSTART:20261207T090000Z\r\nDTEND:20261207T100000Z\r\n" +
		"SUMMARY:Budget\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	c, err := ical.NewDecoder(strings.NewReader(src)).Decode()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		seq     int
		wantSeq string
	}{{1, "4"}, {7, "7"}} {
		out := OutlookImportCalendar(c, tc.seq, "office@example.com")
		ev := out.Children[0]
		if m := out.Props.Get(ical.PropMethod); m == nil || m.Value != "REQUEST" {
			t.Errorf("METHOD %v", m)
		}
		if s := ev.Props.Get(ical.PropSequence).Value; s != tc.wantSeq {
			t.Errorf("seq %d: SEQUENCE %s, want %s", tc.seq, s, tc.wantSeq)
		}
		if o := ev.Props.Get(ical.PropOrganizer); o == nil || o.Value != "mailto:office@example.com" {
			t.Errorf("ORGANIZER %v", o)
		}
		if u := ev.Props.Get(ical.PropUID).Value; u != "040000008200E00074C5B7101A82E008" {
			t.Errorf("UID %s", u)
		}
		var b bytes.Buffer
		if err := EncodeICS(&b, out); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "x.ics")
		os.WriteFile(p, b.Bytes(), 0o644)
		checkWithICALJS(t, p)
	}
	if c.Props.Get(ical.PropMethod) != nil || c.Children[0].Props.Get(ical.PropSequence).Value != "3" {
		t.Error("the input calendar was changed")
	}
}
