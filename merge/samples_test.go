package merge

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/migrate"
	"github.com/pstsync/pstsync/sink"
)

// samplesWithItems are the samples holding contacts, lists, appointments,
// tasks or journal entries.
var samplesWithItems = []string{
	"sedatools__ContactCalendar-test.pst",
	"java-libpst__dist-list.pst",
	"aspose__SampleContacts.pst",
	"aspose__PersonalStorageFile1.pst",
	"aspose__Test_part1.pst",
	"aspose__Outlook_part2.pst",
	"PstReader__hughbe_Outlook.pst",
	"go-pst__32-bit.pst",
}

// exported exports the samples once per test binary run into dir and
// returns the .vcf and .ics files.
func exported(t *testing.T) (vcfs, icss []string) {
	t.Helper()
	var files []string
	for _, s := range samplesWithItems {
		files = append(files, testutil.Sample(t, s))
	}
	out := t.TempDir()
	if _, err := migrate.Export(context.Background(), files, migrate.Options{Out: out, Workers: 2}); err != nil {
		t.Fatalf("export: %v", err)
	}
	err := filepath.WalkDir(out, func(p string, e fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case strings.HasSuffix(p, ".vcf"):
			vcfs = append(vcfs, p)
		case strings.HasSuffix(p, ".ics"):
			icss = append(icss, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return vcfs, icss
}

// vcardLines renders the non-volatile properties of a card as sorted,
// normalised lines (CATEGORIES split into items, TYPE values lower-cased
// and sorted, quoted-comma parameters rejoined), to compare cards for
// equivalence.
func vcardLines(c vcard.Card) []string {
	var out []string
	for name, fs := range c {
		if vcardVolatile[name] {
			continue
		}
		for _, f := range fs {
			g := Field{Name: name, Group: f.Group, Params: normVCardParams(f.Params), Value: f.Value}
			if name == "CATEGORIES" {
				for _, it := range splitUnescaped(f.Value, ',') {
					g.Value = strings.TrimSpace(it)
					out = append(out, g.String())
				}
				continue
			}
			out = append(out, g.String())
		}
	}
	sort.Strings(out)
	return out
}

func TestSampleVCardRoundTrip(t *testing.T) {
	vcfs, icss := exported(t)
	if len(vcfs) < 80 || len(icss) < 30 {
		t.Fatalf("export gave %d vCards and %d calendars", len(vcfs), len(icss))
	}
	for _, p := range vcfs {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dec := vcard.NewDecoder(bytes.NewReader(data))
		for {
			c, err := dec.Decode()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			d, err := FromVCard(c)
			if err != nil {
				t.Fatalf("%s: FromVCard: %v", p, err)
			}
			back, err := ToVCard(d)
			if err != nil {
				t.Fatalf("%s: ToVCard: %v", p, err)
			}
			if a, b := vcardLines(c), vcardLines(back); strings.Join(a, "\n") != strings.Join(b, "\n") {
				t.Errorf("%s: round trip differs:\n%s\n--- got\n%s", p, strings.Join(a, "\n"), strings.Join(b, "\n"))
			}
			if back.Value("UID") != c.Value("UID") || back.Value("REV") != c.Value("REV") {
				t.Errorf("%s: UID/REV %q %q", p, back.Value("UID"), back.Value("REV"))
			}
			checkStable(t, p, d)
		}
	}
}

// checkStable: the canonical bytes read back give the same Doc and bytes.
func checkStable(t *testing.T, name string, d *Doc) {
	t.Helper()
	canon := Canonical(d)
	var d2 *Doc
	var err error
	if d.Kind == KindContact {
		var c vcard.Card
		if c, err = vcard.NewDecoder(bytes.NewReader(canon)).Decode(); err == nil {
			d2, err = FromVCard(c)
		}
	} else {
		var c *ical.Calendar
		if c, err = ical.NewDecoder(bytes.NewReader(canon)).Decode(); err == nil {
			d2, err = FromCalendar(c)
		}
	}
	if err != nil {
		t.Fatalf("%s: re-read canonical: %v\n%s", name, err, canon)
	}
	if !SameFields(d, d2) || !d.Modified.Equal(d2.Modified) || d.UID != d2.UID {
		t.Errorf("%s: canonical not stable: changed %v", name, ChangedKeys(d, d2))
	}
	if c2 := Canonical(d2); !bytes.Equal(canon, c2) {
		t.Errorf("%s: canonical bytes differ after a round trip:\n%s\n---\n%s", name, canon, c2)
	}
}

// compLines renders a component's properties (minus volatile ones) and
// its children as sorted lines, with multi-value EXDATE/RDATE/CATEGORIES
// split.
func compLines(c *ical.Component, prefix string) []string {
	var out []string
	for name, ps := range c.Props {
		switch name {
		case "DTSTAMP", "LAST-MODIFIED", "PRODID", "VERSION":
			continue
		}
		for _, p := range ps {
			f := icalField(name, p)
			if name == "EXDATE" || name == "RDATE" || name == "CATEGORIES" {
				for _, v := range splitUnescaped(p.Value, ',') {
					f.Value = v
					out = append(out, prefix+f.String())
				}
				continue
			}
			out = append(out, prefix+f.String())
		}
	}
	for _, ch := range c.Children {
		out = append(out, compLines(ch, prefix+ch.Name+"/")...)
	}
	sort.Strings(out)
	return out
}

func calLines(c *ical.Calendar) []string {
	var out []string
	for _, ch := range c.Children {
		id := ch.Name
		if ch.Name == "VTIMEZONE" {
			id += "[" + propValue(ch.Props, "TZID") + "]"
		} else if p := ch.Props.Get("RECURRENCE-ID"); p != nil {
			id += "[" + p.Value + "]"
		}
		out = append(out, compLines(ch, id+"/")...)
	}
	out = append(out, compLines(&ical.Component{Props: c.Props}, "VCALENDAR/")...)
	sort.Strings(out)
	return out
}

func TestSampleCalendarRoundTrip(t *testing.T) {
	_, icss := exported(t)
	overrides := 0
	for _, p := range icss {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ical.NewDecoder(bytes.NewReader(data)).Decode()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		d, err := FromCalendar(c)
		if err != nil {
			t.Fatalf("%s: FromCalendar: %v", p, err)
		}
		for k := range d.Fields {
			if strings.HasPrefix(k, "RID=") && strings.HasSuffix(k, "/RECURRENCE-ID") {
				overrides++
			}
		}
		back, err := ToCalendar(d)
		if err != nil {
			t.Fatalf("%s: ToCalendar: %v", p, err)
		}
		if a, b := calLines(c), calLines(back); strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Errorf("%s: round trip differs:\n%s\n--- got\n%s", p, strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
		// pst/cal's DTSTAMP is the modification time: the canonical
		// encoding keeps it.
		if a, b := c.Children[len(c.Children)-1].Props.Get("DTSTAMP"), back.Children[len(back.Children)-1].Props.Get("DTSTAMP"); a != nil && (b == nil || a.Value != b.Value) {
			t.Errorf("%s: DTSTAMP changed", p)
		}
		checkStable(t, p, d)
		var buf bytes.Buffer
		if err := sink.EncodeICS(&buf, back); err != nil {
			t.Fatalf("%s: encode: %v", p, err)
		}
	}
	if overrides == 0 {
		t.Error("no overrides in the samples' calendars")
	}
}
