package merge

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"
)

// The foreign-data test: calendars and cards from other projects' test
// data (testdata/foreign, origins and licences in SOURCES.tsv) are read,
// every item goes through the model and its canonical encoding and is read
// back, and every property value of the source must be found unchanged in
// the result. The deliberate normalisations (README, "Items from other
// clients") are the only differences allowed; they are spelled out in
// icsSkip, sameICSProp, vcardSkip and normCardField below.

// foreignBroken are source files that their projects keep as examples of
// damaged input: the problems named are the right answer.
var foreignBroken = map[string]string{
	"android-vcard/v21_invalid_comment_line.vcf":                           "a '#' comment line inside the card",
	"android-vcard/v21_nest.vcf":                                           "a vCard nested in a vCard (2.1 AGENT)",
	"icalendar/calendars__big_bad_calendar.ics":                            "cut short",
	"icalendar/calendars__small_bad_calendar.ics":                          "cut short",
	"icalendar/calendars__pr_480_summary_with_colon.ics":                   "cut short",
	"icalendar/calendars__timezone_same_start_and_offset.ics":              "END:VCALENDARD",
	"icalendar/calendars__fuzz_testcase_0_char_in_component_name.ics":      "NUL in a component name",
	"icalendar/calendars__fuzz_testcase_invalid_month.ics":                 "fuzzer output",
	"icalendar/calendars__issue_104_broken_calendar.ics":                   "a line 'X'",
	"icalendar/events__issue_104_mark_events_broken.ics":                   "a line 'X'",
	"icalendar/calendars__issue_168_input.ics":                             "'X-APPLE-RADIUS=…' has no ':'",
	"icalendar/calendars__timezone_rdate.ics":                              "'SUMMARY=testevent' has no ':'",
	"icalendar/calendars__issue_350.ics":                                   "a property after END:VCALENDAR",
	"icalendar/calendars__issue_351_whitespace_in_property_and_params.ics": "'REFRESH - INTERVAL' is no property name",
}

func foreignFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/foreign/*/*")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, ".ics") || strings.HasSuffix(f, ".vcf") {
			out = append(out, f)
		}
	}
	if len(out) < 200 {
		t.Fatalf("only %d foreign files", len(out))
	}
	return out
}

func TestForeignData(t *testing.T) {
	var items, cards, props int
	for _, path := range foreignFiles(t) {
		rel := strings.TrimPrefix(filepath.ToSlash(path), "testdata/foreign/")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		isICS := strings.HasSuffix(path, ".ics")
		var fi FileItems
		if isICS {
			fi = ReadICSFile(data)
		} else {
			fi = ReadVCFFile(data)
		}
		_, broken := foreignBroken[rel]
		for _, p := range fi.Problems {
			if !broken && !errors.Is(p.Err, ErrNotItem) {
				t.Errorf("%s: %v", rel, p)
			}
		}
		if !bytes.Contains(data, []byte("\uFFFD")) {
			for _, d := range fi.Docs {
				for k, f := range d.Fields {
					if strings.ContainsRune(f.Value, '\uFFFD') {
						t.Errorf("%s: %q: %s holds U+FFFD: %q", rel, d.UID, k, f.Value)
					}
				}
			}
		}
		if broken && len(fi.Problems) == 0 && fi.Complete {
			t.Errorf("%s: the damage (%s) went unnoticed", rel, foreignBroken[rel])
		}
		if !broken && !fi.Complete {
			t.Errorf("%s: not read to its end", rel)
		}
		if isICS {
			out := map[string][]*ical.Component{} // UID -> components written
			zones := map[string]*ical.Component{}
			for _, d := range fi.Docs {
				items++
				cal := foreignCanonical(t, rel, d)
				for _, c := range cal.Children {
					if c.Name == ical.CompTimezone {
						zones[propValue(c.Props, ical.PropTimezoneID)] = c
						continue
					}
					out[d.UID] = append(out[d.UID], c)
				}
			}
			if !broken {
				props += checkICSSource(t, rel, data, fi, out, zones)
			}
			continue
		}
		out := map[string][]vcard.Card{}
		for _, d := range fi.Docs {
			cards++
			rd := roundTrip(t, d)
			c, err := decodeVCardCard(Canonical(rd))
			if err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
			out[d.UID] = append(out[d.UID], c)
		}
		if !broken {
			props += checkVCFSource(t, rel, data, out)
		}
	}
	t.Logf("%d calendar items and %d cards, %d source property values compared", items, cards, props)
	if items+cards < 300 {
		t.Errorf("only %d items", items+cards)
	}
}

// foreignCanonical round-trips d and returns its canonical calendar.
func foreignCanonical(t *testing.T, rel string, d *Doc) *ical.Calendar {
	t.Helper()
	rd := roundTrip(t, d)
	cal, err := decodeICSCalendar(Canonical(rd))
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return cal
}

// icsSkip are source properties deliberately not carried as written:
// the calendar's own PRODID and VERSION, and the UID (checked as
// Doc.UID).
var icsSkip = map[string]bool{ical.PropUID: true}

func checkICSSource(t *testing.T, rel string, data []byte, fi FileItems, out map[string][]*ical.Component, zones map[string]*ical.Component) int {
	t.Helper()
	bad := map[string]bool{}
	for _, p := range fi.Problems {
		bad[p.UID] = true
	}
	n := 0
	st := readICSStream(data)
	var srcItems []*ical.Component
	for _, top := range st.top {
		if _, ok := kindOfComp(top.comp.Name); ok {
			srcItems = append(srcItems, top.comp)
			continue
		}
		if top.comp.Name != ical.CompCalendar {
			continue
		}
		for _, c := range top.comp.Children {
			if _, ok := kindOfComp(c.Name); ok {
				srcItems = append(srcItems, c)
			}
		}
	}
	for _, c := range srcItems {
		uid := ""
		if ps := c.Props[ical.PropUID]; len(ps) > 0 {
			uid = unescapeICSText(ps[0].Value)
		}
		if bad[uid] {
			continue
		}
		if strings.TrimSpace(uid) == "" {
			uid = "roundtrip-uid"
			for k := range out {
				if k == "" {
					uid = ""
				}
			}
		}
		var why string
		found := false
		for _, o := range out[uid] {
			if m, w := icsSubset(c, o, true); m > 0 || w == "" {
				if w == "" {
					found = true
					n += m
					break
				}
				why = w
			}
		}
		if !found {
			t.Errorf("%s: %s %q: %s", rel, c.Name, uid, why)
		}
		// Every zone a property names that the file has is written.
		need := map[string]bool{}
		zoneRefs(c, need, 0)
		for tzid := range need {
			if hasZone(st, tzid) && zones[tzid] == nil {
				t.Errorf("%s: %q: VTIMEZONE %q dropped", rel, uid, tzid)
			}
		}
	}
	return n
}

func hasZone(st icsStream, tzid string) bool {
	for _, top := range st.top {
		for _, c := range top.comp.Children {
			if c.Name == ical.CompTimezone && propValue(c.Props, ical.PropTimezoneID) == tzid {
				return true
			}
		}
	}
	return false
}

// icsSubset reports whether every property value of src (and of its
// children, recursively) is in dst; n counts the values compared, why
// names the first one missing. For an item (top set) dst must be the same
// instance (same RECURRENCE-ID).
func icsSubset(src, dst *ical.Component, top bool) (n int, why string) {
	if src.Name != dst.Name {
		return 0, "component " + dst.Name
	}
	if top && propValue(src.Props, ical.PropRecurrenceID) != propValue(dst.Props, ical.PropRecurrenceID) {
		return 0, "another instance"
	}
	modified := top && len(src.Props[ical.PropLastModified]) > 0 && len(src.Props[ical.PropRecurrenceID]) == 0
	for name, ps := range src.Props {
		if top && icsSkip[name] {
			continue
		}
		if modified && name == ical.PropDateTimeStamp {
			continue // normalisation: a master's DTSTAMP is written as its LAST-MODIFIED
		}
		for _, p := range ps {
			for _, v := range icsValues(name, p.Value) {
				n++
				ok := false
				for _, q := range dst.Props[name] {
					if slices.Contains(icsValues(name, q.Value), v) && sameICSParams(name, p, q) {
						ok = true
						break
					}
				}
				if !ok && modified && name == ical.PropLastModified && len(dst.Props[name]) > 0 &&
					parseStamp(p.Value).Equal(parseStamp(dst.Props[name][0].Value)) && !parseStamp(p.Value).IsZero() {
					ok = true // normalisation: LAST-MODIFIED is written in UTC
				}
				if !ok {
					return n, fmt.Sprintf("%s:%s lost (have %v)", name, p.Value, dst.Props[name])
				}
			}
		}
	}
	used := map[*ical.Component]bool{}
	for _, ch := range src.Children {
		found := ""
		for _, dch := range dst.Children {
			if used[dch] {
				continue
			}
			m, w := icsSubset(ch, dch, false)
			if w == "" {
				used[dch] = true
				n += m
				found = "ok"
				break
			}
			found = w
		}
		if found != "ok" {
			return n, ch.Name + ": " + found
		}
	}
	return n, ""
}

// icsValues splits the list properties the model keeps value by value.
func icsValues(name, v string) []string {
	v = valueText(v)
	switch name {
	case ical.PropExceptionDates, ical.PropRecurrenceDates, ical.PropCategories:
		var out []string
		for _, x := range splitUnescaped(v, ',') {
			if x != "" {
				out = append(out, x)
			}
		}
		return out
	}
	return []string{v}
}

func sameICSParams(name string, p, q ical.Prop) bool {
	a, b := icalField(name, p), icalField(name, q)
	return (Field{Params: a.Params}).Equal(Field{Params: b.Params})
}

// vcardSkip are source properties not carried as fields: VERSION and
// PRODID (the canonical card is vCard 4.0 by pstsync), UID (Doc.UID) and
// REV (Doc.Modified, compared as a time).
var vcardSkip = map[string]bool{"VERSION": true, "PRODID": true, "UID": true, "REV": true}

func checkVCFSource(t *testing.T, rel string, data []byte, out map[string][]vcard.Card) int {
	t.Helper()
	n := 0
	for i, rc := range readVCardStream(data).cards {
		if rc.err != nil {
			continue
		}
		uid := rc.card.Value(vcard.FieldUID)
		if strings.TrimSpace(uid) == "" {
			uid = ""
		}
		cands := out[uid]
		if len(cands) == 0 {
			t.Errorf("%s: card %d (%q) missing", rel, i+1, uid)
			continue
		}
		var why string
		found := false
		for _, dst := range cands {
			m, w := cardSubset(rc.card, dst)
			if w == "" {
				n += m
				found = true
				break
			}
			why = w
		}
		if !found {
			t.Errorf("%s: card %d (%q): %s", rel, i+1, uid, why)
		}
	}
	return n
}

func cardSubset(src, dst vcard.Card) (int, string) {
	n := 0
	for name, fs := range src {
		if vcardSkip[name] {
			if name == "REV" && !parseStamp(src.Value("REV")).IsZero() {
				if got := dst.Value("REV"); !parseStamp(got).Equal(parseStamp(src.Value("REV"))) {
					return n, fmt.Sprintf("REV %q became %q", src.Value("REV"), got)
				}
			}
			continue
		}
		for _, f := range fs {
			dname, want := normCardField(name, f)
			for _, v := range want.values {
				n++
				ok := false
				for _, g := range dst[dname] {
					_, have := normCardField(dname, g)
					if g.Group == f.Group && slices.Contains(have.values, v) && have.params == want.params {
						ok = true
						break
					}
				}
				if !ok {
					var have []string
					for _, g := range dst[dname] {
						_, h := normCardField(dname, g)
						have = append(have, fmt.Sprintf("%q %s", h.values, h.params))
					}
					return n, fmt.Sprintf("%s %q %s lost; have %v", name, v, want.params, have)
				}
			}
		}
	}
	return n, ""
}

type cardValue struct {
	values []string
	params string
}

// normCardField is a card field in comparable form, with the deliberate
// normalisations of a vCard 4.0 canonical card applied to either side:
// Apple's X-ADDRESSBOOKSERVER-KIND/-MEMBER become KIND/MEMBER and
// X-ANNIVERSARY becomes ANNIVERSARY; binary data (ENCODING=b or BASE64,
// with its TYPE) becomes a data: URI, compared by its bytes; dates
// "YYYY-MM-DD" become "YYYYMMDD"; TYPE values are case-insensitive, a set,
// and TYPE=pref is PREF=1; the parameter values of one name are one
// comma-joined value; CATEGORIES are compared item by item.
func normCardField(name string, f *vcard.Field) (string, cardValue) {
	switch name {
	case "X-ADDRESSBOOKSERVER-KIND":
		name = "KIND"
	case "X-ADDRESSBOOKSERVER-MEMBER":
		name = "MEMBER"
	case "X-ANNIVERSARY":
		name = "ANNIVERSARY"
	}
	params := map[string][]string{}
	for k, vs := range f.Params {
		params[strings.ToUpper(k)] = append(params[strings.ToUpper(k)], vs...)
	}
	values := []string{f.Value}
	switch {
	case name == "KIND":
		values = []string{strings.ToLower(f.Value)}
	case isBinary(name):
		enc := strings.ToLower(strings.Join(params["ENCODING"], ""))
		if enc == "b" || enc == "base64" {
			raw, _ := base64.StdEncoding.DecodeString(f.Value)
			values = []string{string(raw)}
			delete(params, "ENCODING")
			delete(params, "TYPE")
		} else if rest, ok := strings.CutPrefix(f.Value, "data:"); ok {
			if _, b64, ok := strings.Cut(rest, ";base64,"); ok {
				raw, _ := base64.StdEncoding.DecodeString(b64)
				values = []string{string(raw)}
			}
		}
		delete(params, "VALUE")
	case name == "BDAY" || name == "ANNIVERSARY":
		v := strings.TrimSpace(f.Value)
		if len(v) == 10 && v[4] == '-' && v[7] == '-' {
			v = v[:4] + v[5:7] + v[8:]
		}
		values = []string{v}
	case name == "CATEGORIES":
		values = nil
		for _, it := range splitUnescaped(f.Value, ',') {
			if it != "" {
				values = append(values, it)
			}
		}
	}
	var types []string
	for _, t := range params["TYPE"] {
		for _, x := range strings.Split(decodeCarets(t), ",") {
			x = strings.ToLower(strings.TrimSpace(x))
			if x == "pref" {
				params["PREF"] = []string{"1"}
				continue
			}
			if x != "" && !slices.Contains(types, x) {
				types = append(types, x)
			}
		}
	}
	delete(params, "TYPE")
	if len(types) > 0 {
		slices.Sort(types)
		params["TYPE"] = types
	}
	var sb bytes.Buffer
	for _, k := range slices.Sorted(mapKeys(params)) {
		if len(params[k]) == 0 {
			continue
		}
		fmt.Fprintf(&sb, ";%s=%s", k, vcardParamText(decodeCarets(strings.Join(params[k], ","))))
	}
	return name, cardValue{values: values, params: sb.String()}
}

func isBinary(name string) bool {
	return name == "PHOTO" || name == "LOGO" || name == "SOUND" || name == "KEY"
}

func mapKeys(m map[string][]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
