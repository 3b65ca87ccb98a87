package contact

import (
	"bytes"
	"context"
	"encoding/base64"
	"image/jpeg"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/pst"
)

type sampleItem struct {
	folder string
	msg    *pst.Message
}

// loadItems opens a sample and returns its contacts and distribution lists.
func loadItems(t *testing.T, name string) (*pst.File, []sampleItem, []sampleItem) {
	t.Helper()
	path := testutil.Sample(t, name)
	f, err := pst.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() { f.Close() })
	var contacts, lists []sampleItem
	err = f.Walk(context.Background(), func(fo *pst.Folder) error {
		refs, err := fo.Items()
		if err != nil {
			return err
		}
		for _, r := range refs {
			m, err := f.Message(r.NID)
			if err != nil {
				t.Errorf("%s: message %#x: %v", name, r.NID, err)
				continue
			}
			it := sampleItem{strings.Join(fo.Path, "/"), m}
			switch c := m.Class(); {
			case strings.HasPrefix(c, "IPM.Contact"):
				contacts = append(contacts, it)
			case strings.HasPrefix(c, "IPM.DistList"):
				lists = append(lists, it)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", name, err)
	}
	return f, contacts, lists
}

func fieldValues(c vcard.Card, k string) []string {
	var out []string
	for _, f := range c[k] {
		out = append(out, f.Value)
	}
	return out
}

func TestSampleContactCalendar(t *testing.T) {
	_, contacts, _ := loadItems(t, "sedatools__ContactCalendar-test.pst")
	if len(contacts) != 1 {
		t.Fatalf("contacts = %d, want 1", len(contacts))
	}
	c, err := ToVCard(contacts[0].msg)
	if err != nil {
		t.Fatal(err)
	}
	check := func(k string, want ...string) {
		t.Helper()
		got := fieldValues(c, k)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	check(vcard.FieldFormattedName, "Title First Name Second Name Last Name Suffix")
	check(vcard.FieldName, "Last Name;First Name;Second Name;Title;Suffix")
	check(FieldXFileUnder, "Last Name, First Name Second Name")
	check(vcard.FieldEmail, "test@programmevitam.fr", "test-a@programmevitam.fr", "test-b@programmevitam.fr")
	for i, f := range c[vcard.FieldEmail] {
		if got := f.Params.Get(vcard.ParamPreferred); got != string(rune('1'+i)) {
			t.Errorf("EMAIL %d PREF = %q", i, got)
		}
	}
	check(vcard.FieldTelephone, "Office number", "Office2 number", "Home number", "Mobile number",
		"Fax number", "Assistant number", "Other number")
	tel := map[string]string{}
	for _, f := range c[vcard.FieldTelephone] {
		tel[f.Value] = strings.Join(f.Params.Types(), ",")
	}
	for v, typ := range map[string]string{
		"Office number": "work,voice", "Home number": "home,voice", "Mobile number": "cell,voice",
		"Fax number": "work,fax", "Assistant number": "voice,x-assistant", "Other number": "voice,x-other",
	} {
		if tel[v] != typ {
			t.Errorf("TEL %q TYPE = %q, want %q", v, tel[v], typ)
		}
	}
	adrs := map[string]*vcard.Field{}
	for _, f := range c[vcard.FieldAddress] {
		adrs[f.Params.Get(vcard.ParamType)] = f
	}
	if len(adrs) != 3 {
		t.Fatalf("ADR = %d, want 3 (work, home, other)", len(adrs))
	}
	wantAdr := map[string]string{
		"work":    ";;Office adresse line1\nOffice adresse line2;Office town;Office province;Office zip code;Office country",
		"home":    ";;Home line1\nHome line2;Home town;Home province;Home zip code;Home country",
		"x-other": ";;Other line1\nOther line2;Other town;Other province;Other zip code;Other country",
	}
	for typ, v := range wantAdr {
		f := adrs[typ]
		if f == nil {
			t.Errorf("no ADR TYPE=%s", typ)
			continue
		}
		if f.Value != v {
			t.Errorf("ADR %s = %q, want %q", typ, f.Value, v)
		}
		if !strings.Contains(f.Params.Get("LABEL"), "\n") {
			t.Errorf("ADR %s LABEL = %q", typ, f.Params.Get("LABEL"))
		}
	}
	if f := adrs["work"]; f != nil && f.Params.Get(vcard.ParamPreferred) != "1" {
		t.Errorf("work ADR not PREF (PidLidPostalAddressId = work)")
	}
	check(vcard.FieldOrganization, "Organisation")
	check(vcard.FieldTitle, "Function")
	check(vcard.FieldURL, "www.programmevitam.fr")
	check(vcard.FieldIMPP, "im:@progvitam")
	check(vcard.FieldNote, "Everything you want to know")
	check(vcard.FieldRevision, "20190802T134933Z")
	if u := c.Value(vcard.FieldUID); !uuidURNRe.MatchString(u) {
		t.Errorf("UID = %q", u)
	}

	photo := c.Value(vcard.FieldPhoto)
	const prefix = "data:image/jpeg;base64,"
	if !strings.HasPrefix(photo, prefix) {
		t.Fatalf("PHOTO = %.40q", photo)
	}
	data, err := base64.StdEncoding.DecodeString(photo[len(prefix):])
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("photo is not a JPEG: %v", err)
	}
	if cfg.Width == 0 || cfg.Height == 0 {
		t.Errorf("photo size %dx%d", cfg.Width, cfg.Height)
	}
	var buf bytes.Buffer
	if err := vcard.NewEncoder(&buf).Encode(c); err != nil {
		t.Fatal(err)
	}
}

func TestSampleDistList(t *testing.T) {
	f, contacts, lists := loadItems(t, "java-libpst__dist-list.pst")
	if len(contacts) != 1 || len(lists) != 1 {
		t.Fatalf("contacts = %d, lists = %d, want 1 and 1", len(contacts), len(lists))
	}
	cc, err := ToVCard(contacts[0].msg)
	if err != nil {
		t.Fatal(err)
	}
	if got := cc.Value(vcard.FieldEmail); got != "contact1@rjohnson.id.au" {
		t.Errorf("contact EMAIL = %q", got)
	}

	want := []string{
		"MEMBER;X-CN=contact name 1:mailto:contact1@rjohnson.id.au",
		"MEMBER;X-CN=dist name 1:mailto:dist1@rjohnson.id.au",
		"MEMBER;X-CN=dist name 2:mailto:dist2@rjohnson.id.au",
	}
	for _, tc := range []struct {
		name string
		opts []DistListOptions
	}{{"one-off copies", nil}, {"file resolver", []DistListOptions{FileOptions(f)}}} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := DistListToVCard(lists[0].msg, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if c.Value(vcard.FieldFormattedName) != "test dist list" || c.Value(vcard.FieldKind) != "group" {
				t.Errorf("FN/KIND = %q/%q", c.Value(vcard.FieldFormattedName), c.Value(vcard.FieldKind))
			}
			diffLines(t, lines(c, vcard.FieldVersion, vcard.FieldKind, vcard.FieldUID,
				vcard.FieldFormattedName, vcard.FieldRevision, vcard.FieldNote, vcard.FieldCategories), want)
		})
	}
	// The wrapped member resolves to the contact item itself.
	members := lists[0].msg.Props.Binaries(lists[0].msg.Props.NamedID(pst.PSETIDAddress, lidDistListMembers))
	if len(members) != 3 {
		t.Fatalf("members = %d", len(members))
	}
	uid, ok := FileOptions(f).ResolveUID(members[0])
	if !ok || uid != UID(contacts[0].msg) {
		t.Errorf("ResolveUID = %q %v, want the contact's UID %q", uid, ok, UID(contacts[0].msg))
	}
}

func TestSampleAsposeContacts(t *testing.T) {
	for _, tc := range []struct {
		file string
		n    int
	}{{"aspose__SampleContacts.pst", 6}, {"aspose__PersonalStorageFile1.pst", 72}} {
		t.Run(tc.file, func(t *testing.T) {
			_, contacts, _ := loadItems(t, tc.file)
			if len(contacts) != tc.n {
				t.Fatalf("contacts = %d, want %d", len(contacts), tc.n)
			}
			uids := map[string]bool{}
			var withEmail, withTel int
			for _, it := range contacts {
				c, err := ToVCard(it.msg)
				if err != nil {
					t.Fatal(err)
				}
				if c.Value(vcard.FieldFormattedName) == "" {
					t.Errorf("%#x: empty FN", it.msg.NID)
				}
				u := c.Value(vcard.FieldUID)
				if uids[u] {
					t.Errorf("%#x: duplicate UID %s", it.msg.NID, u)
				}
				uids[u] = true
				if len(c[vcard.FieldEmail]) > 0 {
					withEmail++
				}
				if len(c[vcard.FieldTelephone]) > 0 {
					withTel++
				}
				var buf bytes.Buffer
				if err := vcard.NewEncoder(&buf).Encode(c); err != nil {
					t.Fatal(err)
				}
			}
			if withEmail == 0 || withTel == 0 {
				t.Errorf("contacts with EMAIL = %d, with TEL = %d", withEmail, withTel)
			}
		})
	}
}

func TestSampleAsposeTolle(t *testing.T) {
	_, contacts, _ := loadItems(t, "aspose__SampleContacts.pst")
	var c vcard.Card
	for _, it := range contacts {
		if it.msg.Props.String(pst.TagDisplayName) == "Margaret J. Tolle" {
			var err error
			if c, err = ToVCard(it.msg); err != nil {
				t.Fatal(err)
			}
		}
	}
	if c == nil {
		t.Fatal("Margaret J. Tolle not found")
	}
	want := []string{
		"FN:Margaret J. Tolle",
		"N:Tolle;Margaret;J.;;",
		"X-MS-FILE-UNDER:Tolle, Margaret J.",
		"EMAIL;PREF=1;X-MS-DISPLAY-NAME=Hisen1988 (MargaretJTolle@dayrep.com):MargaretJTolle@dayrep.com",
		"TEL;TYPE=work,voice:(08)9080-1183",
		"TEL;TYPE=cell,voice:(925)599-3355(925)599-3355",
		"ADR;LABEL=4 Darwinia Loop EIGHTY MILE BEACH WA 6725;TYPE=work:;;;;;;",
		"ORG:Adaptaz",
		"TITLE:Recording engineer",
		"GENDER:F",
	}
	diffLines(t, lines(c, vcard.FieldVersion, vcard.FieldKind, vcard.FieldUID), want)
}
