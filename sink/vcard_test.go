package sink

import (
	"bytes"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"
)

var jpegBytes = append([]byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0}, bytes.Repeat([]byte{0x12, 0x34, 0xfe, 0xfb, 0xff}, 60)...)

// TestGoVCardFacts pins the go-vcard encoder bugs that EncodeVCard avoids.
func TestGoVCardFacts(t *testing.T) {
	c := vcard.Card{}
	c.SetValue(vcard.FieldVersion, "4.0")
	c.SetValue(vcard.FieldFormattedName, "X")
	c.SetValue(vcard.FieldPhoto, PhotoDataURI("image/jpeg", jpegBytes[:6]))
	c.SetCategories([]string{"a", "b"})
	var buf bytes.Buffer
	if err := vcard.NewEncoder(&buf).Encode(c); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, `base64\,`) {
		t.Log("go-vcard no longer escapes the comma of data URIs")
	}
	if !strings.Contains(out, `CATEGORIES:a\,b`) {
		t.Log("go-vcard no longer joins CATEGORIES wrongly")
	}
	// Our encoder gets both right.
	buf.Reset()
	if err := EncodeVCard(&buf, c, VCard40); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); !strings.Contains(s, "PHOTO:data:image/jpeg;base64,/9j/") || !strings.Contains(s, "CATEGORIES:a,b\r\n") {
		t.Fatalf("bad output:\n%s", s)
	}
}

// testCard builds a contact in vCard 4.0 terms.
func testCard() vcard.Card {
	c := vcard.Card{}
	c.SetValue(vcard.FieldUID, "urn:uuid:3f8a1c4e-1111-2222-3333-444455556666")
	c.SetValue(vcard.FieldFormattedName, "Dr. Zoë O'Brien-Müller, PhD")
	c.Set(vcard.FieldName, &vcard.Field{Value: VCardStructured("O'Brien-Müller", "Zoë", "Anne;Marie", "Dr.", "PhD, MBA")})
	c.Add(vcard.FieldAddress, &vcard.Field{
		Value:  VCardStructured("", "Suite 5", "12 Rue de la Paix, Bât. B", "Paris", "Île-de-France", "75002", "France"),
		Params: vcard.Params{vcard.ParamType: {"work"}, "LABEL": {"12 Rue de la Paix\nParis"}},
	})
	c.Add(vcard.FieldEmail, &vcard.Field{Value: "zoe@example.com", Params: vcard.Params{vcard.ParamType: {"work"}, vcard.ParamPreferred: {"1"}}})
	c.Add(vcard.FieldTelephone, &vcard.Field{Value: "tel:+33-1-23-45-67-89", Params: vcard.Params{vcard.ParamType: {"work", "voice"}, "VALUE": {"uri"}}})
	c.SetValue(vcard.FieldOrganization, VCardStructured("ACME; Inc.", "R&D"))
	c.SetValue(vcard.FieldTitle, "Head of R&D, Europe")
	c.SetValue(vcard.FieldNote, strings.Repeat("Note with, commas; semicolons \\ backslashes and ünïcode 😀. ", 4)+"\r\nsecond line")
	c.Set(vcard.FieldCategories, &vcard.Field{Value: VCardList("Work", "Friends, close", `Back\slash`)})
	c.SetValue(vcard.FieldBirthday, "19800215")
	c.SetValue(vcard.FieldAnniversary, "20050610")
	c.SetValue(vcard.FieldGender, "F")
	c.SetValue(vcard.FieldURL, "https://example.com/a,b?c=d;e")
	c.SetValue(vcard.FieldPhoto, PhotoDataURI("image/jpeg", jpegBytes))
	c.SetValue("X-MS-SPOUSE", "Sam")
	return c
}

func encodeCard(t *testing.T, c vcard.Card, version string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := EncodeVCard(&buf, c, version); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	checkPhysicalLines(t, out)
	return out
}

func decodeCard(t *testing.T, s string) vcard.Card {
	t.Helper()
	c, err := vcard.NewDecoder(strings.NewReader(s)).Decode()
	if err != nil {
		t.Fatalf("go-vcard decode: %v\n%s", err, s)
	}
	return c
}

func TestEncodeVCard40(t *testing.T) {
	out := encodeCard(t, testCard(), VCard40)
	lines := unfold(t, out)
	if lines[0] != "BEGIN:VCARD" || lines[1] != "VERSION:4.0" || lines[len(lines)-1] != "END:VCARD" {
		t.Fatalf("bad framing:\n%s", out)
	}
	for _, want := range []string{
		`N:O'Brien-Müller;Zoë;Anne\;Marie;Dr.;PhD\, MBA`,
		`ADR;LABEL=12 Rue de la Paix^nParis;TYPE=work:;Suite 5;12 Rue de la Paix\, Bât. B;Paris;Île-de-France;75002;France`,
		`CATEGORIES:Work,Friends\, close,Back\\slash`,
		"PHOTO:data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(jpegBytes),
		"TEL;TYPE=work,voice;VALUE=uri:tel:+33-1-23-45-67-89",
		"URL:https://example.com/a,b?c=d;e",
		`TITLE:Head of R&D\, Europe`,
		`ORG:ACME\; Inc.;R&D`,
		"GENDER:F",
		"ANNIVERSARY:20050610",
		"UID:urn:uuid:3f8a1c4e-1111-2222-3333-444455556666",
	} {
		if !contains(lines, want) {
			t.Errorf("missing line %q in\n%s", want, strings.Join(lines, "\n"))
		}
	}

	// go-vcard reads it back.
	d := decodeCard(t, out)
	if got := d.Value(vcard.FieldPhoto); got != testCard().Value(vcard.FieldPhoto) {
		t.Errorf("PHOTO round trip: %q", got)
	}
	// go-vcard's decoded Value follows the same convention as the input
	// ("\;" inside a component) except that it unescapes "\," (so it
	// cannot tell a comma from a list separator); its Name() splitter
	// ignores the "\;" escape.
	if got, want := d.Value(vcard.FieldName), strings.ReplaceAll(testCard().Value(vcard.FieldName), `\,`, ","); got != want {
		t.Errorf("N round trip: %q, want %q", got, want)
	}
	if got, want := d.Value(vcard.FieldOrganization), testCard().Value(vcard.FieldOrganization); got != want {
		t.Errorf("ORG round trip: %q, want %q", got, want)
	}
	if a := d.Address(); a.StreetAddress != "12 Rue de la Paix, Bât. B" || a.Country != "France" || a.PostalCode != "75002" {
		t.Errorf("ADR round trip: %+v", a)
	}
	if got, want := d.Value(vcard.FieldNote), testCard().Value(vcard.FieldNote); got != strings.ReplaceAll(want, "\r\n", "\n") {
		t.Errorf("NOTE round trip: %q", got)
	}
	if got := d.Value(vcard.FieldFormattedName); got != "Dr. Zoë O'Brien-Müller, PhD" {
		t.Errorf("FN round trip: %q", got)
	}
	// go-vcard cannot represent a comma inside a category; the others survive.
	if cats := d.Categories(); len(cats) != 4 || cats[0] != "Work" || cats[3] != `Back\slash` {
		t.Errorf("CATEGORIES via go-vcard: %q", cats)
	}

	// Deterministic.
	if again := encodeCard(t, testCard(), VCard40); again != out {
		t.Error("output not deterministic")
	}
}

func TestEncodeVCard30(t *testing.T) {
	out := encodeCard(t, testCard(), VCard30)
	lines := unfold(t, out)
	if lines[1] != "VERSION:3.0" {
		t.Fatalf("bad version line:\n%s", out)
	}
	for _, want := range []string{
		"PHOTO;ENCODING=b;TYPE=JPEG:" + base64.StdEncoding.EncodeToString(jpegBytes),
		`CATEGORIES:Work,Friends\, close,Back\\slash`,
		"EMAIL;TYPE=WORK,PREF:zoe@example.com",
		"TEL;TYPE=WORK,VOICE:+33-1-23-45-67-89",
		"X-ANNIVERSARY:2005-06-10",
		"BDAY:1980-02-15",
		"X-GENDER:Female",
		`ADR;TYPE=WORK:;Suite 5;12 Rue de la Paix\, Bât. B;Paris;Île-de-France;75002;France`,
		`LABEL;TYPE=WORK:12 Rue de la Paix\nParis`,
	} {
		if !contains(lines, want) {
			t.Errorf("missing line %q in\n%s", want, strings.Join(lines, "\n"))
		}
	}
	for _, bad := range []string{"GENDER:", "ANNIVERSARY:", "PREF=", "VALUE=uri:tel", "data:"} {
		for _, l := range lines {
			if strings.HasPrefix(l, bad) || strings.Contains(l, ";"+bad) || (bad == "data:" && strings.Contains(l, bad)) {
				t.Errorf("4.0-only construct %q left in 3.0 line %q", bad, l)
			}
		}
	}
	d := decodeCard(t, out)
	ph := d.Get(vcard.FieldPhoto)
	if ph == nil || ph.Params.Get("ENCODING") != "b" || ph.Params.Get("TYPE") != "JPEG" {
		t.Fatalf("PHOTO params: %+v", ph)
	}
	data, err := base64.StdEncoding.DecodeString(ph.Value)
	if err != nil || !bytes.Equal(data, jpegBytes) {
		t.Errorf("PHOTO data round trip: %v", err)
	}
}

func TestEncodeVCardGroups(t *testing.T) {
	g := vcard.Card{}
	g.SetKind(vcard.KindGroup)
	g.SetValue(vcard.FieldFormattedName, "Team, Paris")
	g.SetValue(vcard.FieldUID, "urn:uuid:00000000-0000-0000-0000-000000000001")
	g.Add(vcard.FieldMember, &vcard.Field{Value: "urn:uuid:3f8a1c4e-1111-2222-3333-444455556666"})
	g.Add(vcard.FieldMember, &vcard.Field{Value: "mailto:bob@example.com"})

	out4 := unfold(t, encodeCard(t, g, VCard40))
	want4 := []string{"BEGIN:VCARD", "VERSION:4.0", "KIND:group", "UID:urn:uuid:00000000-0000-0000-0000-000000000001",
		`FN:Team\, Paris`, "MEMBER:urn:uuid:3f8a1c4e-1111-2222-3333-444455556666", "MEMBER:mailto:bob@example.com", "END:VCARD"}
	if !reflect.DeepEqual(out4, want4) {
		t.Errorf("4.0 group:\n got %q\nwant %q", out4, want4)
	}
	out3 := unfold(t, encodeCard(t, g, VCard30))
	want3 := []string{"BEGIN:VCARD", "VERSION:3.0", "X-ADDRESSBOOKSERVER-KIND:group", "UID:urn:uuid:00000000-0000-0000-0000-000000000001",
		`FN:Team\, Paris`, "N:;;;;", "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:3f8a1c4e-1111-2222-3333-444455556666",
		"X-ADDRESSBOOKSERVER-MEMBER:mailto:bob@example.com", "END:VCARD"}
	if !reflect.DeepEqual(out3, want3) {
		t.Errorf("3.0 group:\n got %q\nwant %q", out3, want3)
	}
	// And back: a 3.0-style card written as 4.0.
	back := decodeCard(t, strings.Join(want3, "\r\n")+"\r\n")
	out := unfold(t, encodeCard(t, back, VCard40))
	if !contains(out, "KIND:group") || !contains(out, "MEMBER:mailto:bob@example.com") {
		t.Errorf("3.0 group not converted to 4.0: %q", out)
	}
}

func TestEncodeVCardConversions(t *testing.T) {
	tests := []struct {
		name    string
		field   string
		in      *vcard.Field
		version string
		want    string
	}{
		{"bday no year 3.0", "BDAY", &vcard.Field{Value: "--0415"}, VCard30, "BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-15"},
		{"bday no year back", "BDAY", &vcard.Field{Value: "1604-04-15", Params: vcard.Params{"X-APPLE-OMIT-YEAR": {"1604"}}}, VCard40, "BDAY:--0415"},
		{"bday extended to 4.0", "BDAY", &vcard.Field{Value: "1980-02-15"}, VCard40, "BDAY:19800215"},
		{"kind org 3.0", "KIND", &vcard.Field{Value: "org"}, VCard30, "X-ABSHOWAS:COMPANY"},
		{"photo 3.0 b to 4.0", "PHOTO", &vcard.Field{Value: "iVBORw0KGgo=", Params: vcard.Params{"ENCODING": {"b"}, "TYPE": {"PNG"}}}, VCard40, "PHOTO:data:image/png;base64,iVBORw0KGgo="},
		{"photo url 3.0", "PHOTO", &vcard.Field{Value: "https://example.com/p.jpg"}, VCard30, "PHOTO;VALUE=uri:https://example.com/p.jpg"},
		{"type pref to 4.0", "EMAIL", &vcard.Field{Value: "a@b.c", Params: vcard.Params{"TYPE": {"INTERNET,pref"}}}, VCard40, "EMAIL;PREF=1;TYPE=INTERNET:a@b.c"},
		{"lang 3.0", "LANG", &vcard.Field{Value: "fr"}, VCard30, "X-LANG:fr"},
		{"grouped", "EMAIL", &vcard.Field{Value: "a@b.c", Group: "item1"}, VCard40, "item1.EMAIL:a@b.c"},
		{"param quote 3.0", "X-FOO", &vcard.Field{Value: "v", Params: vcard.Params{"X-P": {`a "b"; c`}}}, VCard30, `X-FOO;X-P="a 'b'; c":v`},
		{"sort-as dropped 3.0", "N", &vcard.Field{Value: "Doe;J;;;", Params: vcard.Params{"SORT-AS": {"Doe"}}}, VCard30, "N:Doe;J;;;"},
		{"note control chars", "NOTE", &vcard.Field{Value: "a\x00b\x1bc\td"}, VCard40, "NOTE:abc\td"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := vcard.Card{}
			c.SetValue(vcard.FieldFormattedName, "X")
			c.Set(tc.field, tc.in)
			lines := unfold(t, encodeCard(t, c, tc.version))
			if !contains(lines, tc.want) {
				t.Errorf("want line %q in %q", tc.want, lines)
			}
		})
	}
}

func TestEncodeVCardMissingFN(t *testing.T) {
	c := vcard.Card{}
	c.Set(vcard.FieldName, &vcard.Field{Value: VCardStructured("Doe", "John", "", "Mr.", "")})
	lines := unfold(t, encodeCard(t, c, VCard30))
	if !contains(lines, "FN:Mr. John Doe") {
		t.Errorf("FN not derived: %q", lines)
	}
	c = vcard.Card{}
	c.SetValue(vcard.FieldEmail, "x@example.com")
	lines = unfold(t, encodeCard(t, c, VCard30))
	if !contains(lines, "FN:x@example.com") || !contains(lines, "N:;;;;") {
		t.Errorf("FN/N not added: %q", lines)
	}
}

func TestEncodeVCardErrors(t *testing.T) {
	c := vcard.Card{}
	c.SetValue(vcard.FieldFormattedName, "X")
	if err := EncodeVCard(&bytes.Buffer{}, c, "2.1"); err == nil {
		t.Error("version 2.1 accepted")
	}
	if err := EncodeVCard(failWriter{}, c, VCard40); err == nil {
		t.Error("writer error ignored")
	}
	c.SetValue("BAD NAME", "x")
	if err := EncodeVCard(&bytes.Buffer{}, c, VCard40); err == nil {
		t.Error("invalid property name accepted")
	}
	c = vcard.Card{}
	c.SetValue(vcard.FieldPhoto, "data:image/jpeg;base64,@@@")
	if err := EncodeVCard(&bytes.Buffer{}, c, VCard30); err == nil {
		t.Error("bad data URI accepted for 3.0 conversion")
	}
}

// TestEncodeVCardICALJS parses both versions with ical.js and compares the
// values it sees.
func TestEncodeVCardICALJS(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{VCard40, VCard30} {
		p := filepath.Join(dir, "card"+v+".vcf")
		if err := WriteFileAtomic(p, []byte(encodeCard(t, testCard(), v))); err != nil {
			t.Fatal(err)
		}
		j := parseWithICALJS(t, p)
		one := func(name string) []any {
			ps := jProps(j, name)
			if len(ps) != 1 {
				t.Fatalf("%s %s: got %d properties", v, name, len(ps))
			}
			return ps[0]
		}
		if cats := one("categories"); !reflect.DeepEqual(cats[3:], []any{"Work", "Friends, close", `Back\slash`}) {
			t.Errorf("%s categories = %v", v, cats[3:])
		}
		if n := one("n"); !reflect.DeepEqual(n[3], []any{"O'Brien-Müller", "Zoë", "Anne;Marie", "Dr.", "PhD, MBA"}) {
			t.Errorf("%s n = %v", v, n[3])
		}
		if adr := one("adr"); !reflect.DeepEqual(adr[3], []any{"", "Suite 5", "12 Rue de la Paix, Bât. B", "Paris", "Île-de-France", "75002", "France"}) {
			t.Errorf("%s adr = %v", v, adr[3])
		}
		if note := one("note"); note[3] != strings.ReplaceAll(testCard().Value(vcard.FieldNote), "\r\n", "\n") {
			t.Errorf("%s note = %q", v, note[3])
		}
		if fn := one("fn"); fn[3] != "Dr. Zoë O'Brien-Müller, PhD" {
			t.Errorf("%s fn = %q", v, fn[3])
		}
		photo := one("photo")
		switch v {
		case VCard40:
			if photo[3] != PhotoDataURI("image/jpeg", jpegBytes) {
				t.Errorf("4.0 photo = %.60q", photo[3])
			}
		case VCard30:
			params, _ := photo[1].(map[string]any)
			if params["encoding"] != "b" || photo[3] != base64.StdEncoding.EncodeToString(jpegBytes) {
				t.Errorf("3.0 photo = %v %.60q", params, photo[3])
			}
		}
	}
	checkWithICALJS(t, dir)
}

// TestEncodeVCardKhard lets khard (vobject) read the cards, when installed.
func TestEncodeVCardKhard(t *testing.T) {
	khard, err := exec.LookPath("khard")
	if err != nil {
		missingTool(t, "khard not installed (scripts/test installs it)")
	}
	dir := t.TempDir()
	book := filepath.Join(dir, "book")
	for _, v := range []string{VCard40, VCard30} {
		c := testCard()
		c.SetValue(vcard.FieldUID, "urn:uuid:khard-"+v)
		if err := WriteFileAtomic(filepath.Join(book, "c"+v+".vcf"), []byte(encodeCard(t, c, v))); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "khard.conf")
	conf := "[addressbooks]\n[[book]]\npath = " + book + "\n[general]\ndefault_action = list\n[vcard]\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(khard, "-c", cfg, "list", "--parsable")
	cmd.Env = append(os.Environ(), "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("khard: %v\n%s", err, out)
	}
	for _, v := range []string{VCard40, VCard30} {
		if !strings.Contains(string(out), "urn:uuid:khard-"+v+"\tZoë Anne;Marie O'Brien-Müller\tbook") {
			t.Errorf("khard did not list the %s card with its unescaped name:\n%s", v, out)
		}
	}
}

func contains(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// TestDecodeVCardValue: DecodeVCardValue reads each kind of value, and
// EncodeVCard writes the result back as it was written.
func TestDecodeVCardValue(t *testing.T) {
	tests := []struct {
		name, raw, want string
		params          vcard.Params
		rewritten       string // what EncodeVCard writes; raw when empty
	}{
		{name: "FN", raw: `Ann\; Bob\: C\, D\\E\nF`, want: "Ann; Bob: C, D\\E\nF", rewritten: `Ann; Bob: C\, D\\E\nF`},
		{name: "NOTE", raw: `C:\path \x`, want: `C:\path \x`, rewritten: `C:\\path \\x`},
		{name: "N", raw: `Doe;Jane;Mary,Ann;Dr.;`, want: `Doe;Jane;Mary,Ann;Dr.;`},
		{name: "N", raw: `O\;Brien;A\,B;;;`, want: `O\;Brien;A\,B;;;`},
		{name: "ADR", raw: `;;Line 1,Line 2\nx;Town;;;`, want: ";;Line 1,Line 2\nx;Town;;;"},
		{name: "ORG", raw: `Smith\, Jones;R\\D`, want: `Smith\, Jones;R\\D`},
		{name: "NICKNAME", raw: `Jo\, Jr.,Jojo`, want: `Jo\, Jr.,Jojo`},
		{name: "CATEGORIES", raw: `a\,b,c\;d`, want: `a\,b,c;d`, rewritten: `a\,b,c;d`},
		{name: "URL", raw: `http\://example.com/a,b`, want: "http://example.com/a,b", rewritten: "http://example.com/a,b"},
		{name: "PHOTO", raw: "data:image/png;base64,AAAA", want: "data:image/png;base64,AAAA"},
		{name: "X-FOO", raw: `a\,b;c`, want: "a,b;c", rewritten: `a\,b;c`},
		{name: "NOTE", raw: `v`, params: vcard.Params{"VALUE": {"uri"}}, want: "v"},
	}
	for _, tt := range tests {
		got := DecodeVCardValue(tt.name, tt.params, tt.raw)
		if got != tt.want {
			t.Errorf("DecodeVCardValue(%s, %q) = %q, want %q", tt.name, tt.raw, got, tt.want)
			continue
		}
		c := vcard.Card{tt.name: {{Value: got, Params: tt.params}}, "FN": {{Value: "x"}}}
		if tt.name == "FN" {
			c = vcard.Card{tt.name: {{Value: got, Params: tt.params}}}
		}
		var buf bytes.Buffer
		if err := EncodeVCard(&buf, c, VCard40); err != nil {
			t.Fatal(err)
		}
		want := tt.rewritten
		if want == "" {
			want = tt.raw
		}
		if !contains(unfold(t, buf.String()), lineOf(tt.name, tt.params, want)) {
			t.Errorf("%s %q written as\n%s\nwant %s", tt.name, got, buf.String(), lineOf(tt.name, tt.params, want))
		}
	}
}

func lineOf(name string, p vcard.Params, v string) string {
	if len(p) > 0 {
		return name + ";VALUE=" + p.Get("VALUE") + ":" + v
	}
	return name + ":" + v
}
