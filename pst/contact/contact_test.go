package contact

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"

	"github.com/pstsync/pstsync/pst"
)

func tinyJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tinyPNG(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func fullContact(t *testing.T) *pst.Message {
	m := msg(
		pS(pst.TagMessageClass, "IPM.Contact"),
		pS(pst.TagDisplayName, "Dr. Jane Q. Doe Jr."),
		pS(nid(lidFileUnder), "Doe, Jane"),
		pS(tagGivenName, "Jane"),
		pS(tagSurname, "Doe"),
		pS(tagMiddleName, "Quincy"),
		pS(tagDisplayNamePrefix, "Dr."),
		pS(tagGeneration, "Jr."),
		pS(tagNickname, "JQ"),
		pS(nid(lidYomiFirstName), "ジェーン"),
		pS(nid(lidYomiLastName), "ドウ"),
		pS(nid(lidYomiCompanyName), "エイクミー"),
		// Email1: SMTP with a custom display name.
		pS(nid(0x8080), "Jane at work"),
		pS(nid(0x8082), "SMTP"),
		pS(nid(0x8083), "jane@example.com"),
		pS(nid(0x8084), "jane@example.com"),
		// Email2: Exchange DN with an SMTP original display name.
		pS(nid(0x8090), "Jane Quincy Doe Jr. (jane.doe@corp.example)"),
		pS(nid(0x8092), "EX"),
		pS(nid(0x8093), "/o=Corp/ou=Exchange/cn=Recipients/cn=jdoe"),
		pS(nid(0x8094), "jane.doe@corp.example"),
		// Email3: Exchange DN only.
		pS(nid(0x80A2), "EX"),
		pS(nid(0x80A3), "/o=Corp/cn=jdoe2"),
		pS(nid(0x80A4), "Jane Doe"),
		// Phones.
		pS(tagPrimaryPhone, "+1 555 0100"),
		pS(tagBusinessPhone, "+1 555 0101"),
		pS(tagBusiness2Phone, "+1 555 0102"),
		pS(tagCompanyMainPhone, "+1 555 0103"),
		pS(tagHomePhone, "+1 555 0104"),
		pS(tagHome2Phone, "+1 555 0105"),
		pS(tagMobilePhone, "+1 555 0106"),
		pS(tagBusinessFax, "+1 555 0107"),
		pS(tagHomeFax, "+1 555 0108"),
		pS(tagPrimaryFax, "+1 555 0109"),
		pS(tagPagerPhone, "+1 555 0110"),
		pS(tagCarPhone, "+1 555 0111"),
		pS(tagAssistantPhone, "+1 555 0112"),
		pS(tagCallbackPhone, "+1 555 0113"),
		pS(tagRadioPhone, "+1 555 0114"),
		pS(tagTelexNumber, "555 0115"),
		pS(tagTTYTDDPhone, "+1 555 0116"),
		pS(tagISDNNumber, "+1 555 0117"),
		pS(tagOtherPhone, "+1 555 0118"),
		// Work address (named) with formatted label.
		pS(nid(lidWorkAddressStreet), "1 Main St\r\nSuite 2"),
		pS(nid(lidWorkAddressCity), "Springfield"),
		pS(nid(lidWorkAddressState), "IL"),
		pS(nid(lidWorkAddressPostal), "62701"),
		pS(nid(lidWorkAddressCountry), "USA"),
		pS(nid(lidWorkAddressPOBox), "PO 9"),
		pS(nid(lidWorkAddress), "1 Main St\r\nSuite 2\r\nSpringfield, IL 62701\r\nUSA"),
		// Home address.
		pS(tagHomeStreet, "5 Elm; Apt 3"),
		pS(tagHomeCity, "Shelbyville"),
		pS(tagHomeState, "IL"),
		pS(tagHomePostalCode, "62565"),
		pS(tagHomeCountry, "USA"),
		pS(tagHomePOBox, "PO 1"),
		pS(nid(lidHomeAddress), "5 Elm; Apt 3\r\nShelbyville IL 62565"),
		// Other address, no label.
		pS(tagOtherStreet, "7 Oak"),
		pS(tagOtherCity, "Ogdenville"),
		pS(tagOtherState, "IL"),
		pS(tagOtherPostalCode, "60000"),
		pS(tagOtherCountry, "USA"),
		pS(tagOtherPOBox, ""),
		pI(nid(lidPostalAddressID), 1),
		// Organisation.
		pS(tagCompanyName, "Acme"),
		pS(tagDepartmentName, "R&D"),
		pS(tagTitle, "Engineer"),
		pS(tagProfession, "Physicist"),
		pS(tagOfficeLocation, "B2-113"),
		// Dates: local midnight in UTC+2 (Outlook stores it in UTC).
		pT(tagBirthday, "1980-05-03T22:00:00Z"),
		pT(tagWeddingAnniversary, "2005-06-17T22:00:00Z"),
		pT(nid(lidWeddingAnnivLocal), "2005-06-18T00:00:00Z"),
		pst.Property{ID: tagGender, Type: pst.TypeInt16, Value: int16(1)},
		// Relations.
		pS(tagAssistant, "Al Assistant"),
		pS(tagManagerName, "Mona Manager"),
		pS(tagSpouseName, "Sam Doe"),
		pMS(tagChildrensNames, "Kid One", "Kid Two"),
		// URLs and IM.
		pS(tagBusinessHomePage, "https://acme.example/"),
		pS(tagPersonalHomePage, "https://jane.example/"),
		pS(nid(lidHTML), "https://acme.example/"),
		pS(nid(lidIMAddress), "jane@im.example"),
		pS(nid(lidFreeBusyLocation), "https://fb.example/jane"),
		// Misc.
		pS(tagHobbies, "Chess"),
		pS(tagLanguage, "English"),
		pS(tagLocation, "Bldg 2"),
		pS(tagAccount, "ACC-1"),
		pS(tagComputerNetworkName, "NET"),
		pS(tagCustomerID, "C-42"),
		pS(tagGovernmentIDNumber, "G-1"),
		pS(tagOrganizationalIDNum, "E-7"),
		pS(tagFtpSite, "ftp://ftp.example/"),
		pS(tagReferredByName, "Ref Errer"),
		pS(nid(lidUserField1), "u1"),
		pS(nid(lidUserField3), "u3"),
		// Common.
		pS(pst.TagBody, "Line one\r\nLine two\r\n\r\n"),
		pMS(keywordsID, "VIP", "Family", "VIP", " "),
		pT(pst.TagLastModificationTime, "2019-08-02T13:49:33Z"),
		pB(pst.TagSearchKey, mustHex("2910de4f02a7a648a199500fd8e50706")),
	)
	m.Attachments = []*pst.Attachment{
		{Props: pst.NewProps(nil, pS(pst.TagAttachLongFilename, "other.jpg")), Data: []byte("not the photo")},
		{Props: pst.NewProps(nil,
			pS(pst.TagAttachLongFilename, "ContactPicture.jpg"),
			pst.Property{ID: pst.TagAttachmentContactPhoto, Type: pst.TypeBool, Value: true}),
			Data: tinyJPEG(t)},
	}
	return m
}

func TestToVCardFull(t *testing.T) {
	m := fullContact(t)
	c, err := ToVCard(m)
	if err != nil {
		t.Fatal(err)
	}
	uid := UID(m)
	want := []string{
		"VERSION:4.0",
		"KIND:individual",
		"UID:" + uid,
		"FN:Dr. Jane Q. Doe Jr.",
		"N:Doe;Jane;Quincy;Dr.;Jr.",
		"X-MS-FILE-UNDER:Doe, Jane",
		"NICKNAME:JQ",
		"X-PHONETIC-FIRST-NAME:ジェーン",
		"X-PHONETIC-LAST-NAME:ドウ",
		"X-PHONETIC-ORG:エイクミー",
		"EMAIL;PREF=1;X-MS-DISPLAY-NAME=Jane at work:jane@example.com",
		"EMAIL;PREF=2:jane.doe@corp.example",
		"X-MS-EMAIL-EX:/o=Corp/cn=jdoe2",
		"TEL;PREF=1;TYPE=voice:+1 555 0100",
		"TEL;TYPE=work,voice:+1 555 0101",
		"TEL;TYPE=work,voice:+1 555 0102",
		"TEL;TYPE=work,voice,x-company-main:+1 555 0103",
		"TEL;TYPE=home,voice:+1 555 0104",
		"TEL;TYPE=home,voice:+1 555 0105",
		"TEL;TYPE=cell,voice:+1 555 0106",
		"TEL;TYPE=work,fax:+1 555 0107",
		"TEL;TYPE=home,fax:+1 555 0108",
		"TEL;TYPE=fax:+1 555 0109",
		"TEL;TYPE=pager:+1 555 0110",
		"TEL;TYPE=voice,x-car:+1 555 0111",
		"TEL;TYPE=voice,x-assistant:+1 555 0112",
		"TEL;TYPE=voice,x-callback:+1 555 0113",
		"TEL;TYPE=voice,x-radio:+1 555 0114",
		"TEL;TYPE=x-telex:555 0115",
		"TEL;TYPE=textphone:+1 555 0116",
		"TEL;TYPE=voice,x-isdn:+1 555 0117",
		"TEL;TYPE=voice,x-other:+1 555 0118",
		"ADR;LABEL=1 Main St\nSuite 2\nSpringfield, IL 62701\nUSA;TYPE=work:PO 9;;1 Main St\nSuite 2;Springfield;IL;62701;USA",
		"ADR;LABEL=5 Elm; Apt 3\nShelbyville IL 62565;PREF=1;TYPE=home:PO 1;;5 Elm, Apt 3;Shelbyville;IL;62565;USA",
		"ADR;TYPE=x-other:;;7 Oak;Ogdenville;IL;60000;USA",
		"ORG:Acme;R&D",
		"TITLE:Engineer",
		"ROLE:Physicist",
		"X-MS-OFFICE-LOCATION:B2-113",
		"BDAY:19800504",
		"ANNIVERSARY:20050618",
		"GENDER:F",
		"RELATED;TYPE=assistant;VALUE=text:Al Assistant",
		"RELATED;TYPE=manager;VALUE=text:Mona Manager",
		"RELATED;TYPE=spouse;VALUE=text:Sam Doe",
		"RELATED;TYPE=child;VALUE=text:Kid One",
		"RELATED;TYPE=child;VALUE=text:Kid Two",
		"URL;TYPE=work:https://acme.example/",
		"URL;TYPE=home:https://jane.example/",
		"IMPP:im:jane@im.example",
		"FBURL:https://fb.example/jane",
		"X-MS-HOBBIES:Chess",
		"X-MS-LANGUAGE:English",
		"X-MS-LOCATION:Bldg 2",
		"X-MS-ACCOUNT:ACC-1",
		"X-MS-COMPUTER-NETWORK-NAME:NET",
		"X-MS-CUSTOMER-ID:C-42",
		"X-MS-GOVERNMENT-ID:G-1",
		"X-MS-ORGANIZATIONAL-ID:E-7",
		"X-MS-FTP-SITE:ftp://ftp.example/",
		"X-MS-REFERRED-BY:Ref Errer",
		"X-MS-USER-FIELD;X-INDEX=1:u1",
		"X-MS-USER-FIELD;X-INDEX=3:u3",
		"NOTE:Line one\nLine two",
		"CATEGORIES:VIP,Family",
		"REV:20190802T134933Z",
	}
	diffLines(t, lines(c, vcard.FieldPhoto), want)

	// Order matters for EMAIL (PREF order) and TEL (primary first).
	if got := c[vcard.FieldEmail][0].Value; got != "jane@example.com" {
		t.Errorf("first EMAIL = %q", got)
	}
	photos := c[vcard.FieldPhoto]
	if len(photos) != 1 {
		t.Fatalf("PHOTO fields = %d, want 1", len(photos))
	}
	const prefix = "data:image/jpeg;base64,"
	if !strings.HasPrefix(photos[0].Value, prefix) {
		t.Fatalf("PHOTO = %.40q", photos[0].Value)
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(photos[0].Value, prefix))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width != 3 || cfg.Height != 2 {
		t.Errorf("photo decode: %v %+v", err, cfg)
	}
	// The card must encode as text.
	var buf bytes.Buffer
	if err := vcard.NewEncoder(&buf).Encode(c); err != nil {
		t.Fatal(err)
	}
}

func TestToVCardSmall(t *testing.T) {
	tests := []struct {
		name string
		m    *pst.Message
		want []string
	}{
		{
			name: "email only",
			m: msg(
				pS(nid(0x8082), "SMTP"),
				pS(nid(0x8083), "SMTP:solo@example.org"),
				pS(nid(0x8080), "solo@example.org"),
			),
			want: []string{"FN:solo@example.org", "N:;;;;", "EMAIL;PREF=1:solo@example.org"},
		},
		{
			name: "fn from file under, duplicate emails collapse, pref renumbered",
			m: msg(
				pS(nid(lidFileUnder), "Smith, Ann"),
				pS(nid(0x8083), "ann@example.org"),
				pS(nid(0x8093), "ANN@example.org"),
				pS(nid(0x80A3), "ann2@example.org"),
				pS(nid(0x80A0), "Smith, Ann"),
			),
			want: []string{"FN:Smith, Ann", "N:;;;;", "EMAIL;PREF=1:ann@example.org", "EMAIL;PREF=2:ann2@example.org"},
		},
		{
			name: "fn from name parts, department only",
			m: msg(
				pS(tagGivenName, "Bo"),
				pS(tagSurname, "Li"),
				pS(tagDepartmentName, "Sales"),
			),
			want: []string{"FN:Bo Li", "N:Li;Bo;;;", "ORG:;Sales"},
		},
		{
			name: "fn from company, male, im with scheme, unknown gender ignored",
			m: msg(
				pS(tagCompanyName, "Acme; Inc"),
				pst.Property{ID: tagGender, Type: pst.TypeInt16, Value: int16(2)},
				pS(nid(lidIMAddress), "sip:bob@example.com"),
			),
			want: []string{"FN:Acme; Inc", "N:;;;;", "ORG:Acme, Inc", "GENDER:M", "IMPP:sip:bob@example.com"},
		},
		{
			name: "only mailing address copy",
			m: msg(
				pS(pst.TagDisplayName, "X"),
				pS(tagStreetAddress, "9 Pine"),
				pS(tagLocality, "Town"),
				pS(tagPostalAddress, "9 Pine\r\nTown"),
			),
			want: []string{"FN:X", "N:;;;;", "ADR;LABEL=9 Pine\nTown;PREF=1:;;9 Pine;Town;;;"},
		},
		{
			name: "label only work address, other mailing",
			m: msg(
				pS(pst.TagDisplayName, "X"),
				pS(nid(lidWorkAddress), "4 Darwinia Loop EIGHTY MILE BEACH WA 6725"),
				pI(nid(lidPostalAddressID), 2),
			),
			want: []string{"FN:X", "N:;;;;", "ADR;LABEL=4 Darwinia Loop EIGHTY MILE BEACH WA 6725;PREF=1;TYPE=work:;;;;;;"},
		},
		{
			name: "no-date sentinel and gender unspecified",
			m: msg(
				pS(pst.TagDisplayName, "X"),
				pT(tagBirthday, "4501-01-01T00:00:00Z"),
				pst.Property{ID: tagGender, Type: pst.TypeInt16, Value: int16(0)},
			),
			want: []string{"FN:X", "N:;;;;"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ToVCard(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]string{"VERSION:4.0", "KIND:individual", "UID:" + UID(tc.m)}, tc.want...)
			diffLines(t, lines(c), want)
		})
	}
}

func TestBirthdayDate(t *testing.T) {
	tests := []struct {
		name  string
		props []pst.Property
		want  string
	}{
		{"utc+2 midnight", []pst.Property{pT(tagBirthday, "1980-05-03T22:00:00Z")}, "19800504"},
		{"utc-5 midnight", []pst.Property{pT(tagBirthday, "1980-05-04T05:00:00Z")}, "19800504"},
		{"utc+12 midnight", []pst.Property{pT(tagBirthday, "1980-05-03T12:00:00Z")}, "19800504"},
		{"utc-11 midnight", []pst.Property{pT(tagBirthday, "1980-05-04T11:00:00Z")}, "19800504"},
		{"utc midnight", []pst.Property{pT(tagBirthday, "1980-05-04T00:00:00Z")}, "19800504"},
		{"local wins", []pst.Property{
			pT(tagBirthday, "1980-05-03T22:00:00Z"),
			pT(nid(lidBirthdayLocal), "1977-01-31T00:00:00Z"),
		}, "19770131"},
		{"bad local falls back", []pst.Property{
			pT(tagBirthday, "1980-05-03T22:00:00Z"),
			pT(nid(lidBirthdayLocal), "4501-01-01T00:00:00Z"),
		}, "19800504"},
		{"absent", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ToVCard(msg(tc.props...))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Value(vcard.FieldBirthday); got != tc.want {
				t.Errorf("BDAY = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPhoto(t *testing.T) {
	jpg, pngb := tinyJPEG(t), tinyPNG(t)
	att := func(name string, flag bool, data []byte, mime string) *pst.Attachment {
		ps := []pst.Property{pS(pst.TagAttachLongFilename, name)}
		if flag {
			ps = append(ps, pst.Property{ID: pst.TagAttachmentContactPhoto, Type: pst.TypeBool, Value: true})
		}
		if mime != "" {
			ps = append(ps, pS(pst.TagAttachMimeTag, mime))
		}
		return &pst.Attachment{Props: pst.NewProps(nil, ps...), Data: data}
	}
	tests := []struct {
		name string
		atts []*pst.Attachment
		want string // data URI prefix, "" for no PHOTO
		data []byte
	}{
		{"flagged png", []*pst.Attachment{att("a.bin", false, jpg, ""), att("x", true, pngb, "")}, "data:image/png;base64,", pngb},
		{"by file name", []*pst.Attachment{att("contactpicture.JPG", false, jpg, "")}, "data:image/jpeg;base64,", jpg},
		{"not an image", []*pst.Attachment{att("ContactPicture.jpg", true, []byte("hello world"), "")}, "", nil},
		{"unsniffable with image mime tag", []*pst.Attachment{att("ContactPicture.jpg", true, []byte{1, 2, 3}, "image/x-foo")}, "data:image/x-foo;base64,", []byte{1, 2, 3}},
		{"empty data skipped", []*pst.Attachment{att("ContactPicture.jpg", true, nil, ""), att("ContactPicture.jpg", false, jpg, "")}, "data:image/jpeg;base64,", jpg},
		{"no picture", []*pst.Attachment{att("doc.pdf", false, []byte("%PDF-1.4"), "")}, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := msg(pS(pst.TagDisplayName, "P"))
			m.Attachments = tc.atts
			c, err := ToVCard(m)
			if err != nil {
				t.Fatal(err)
			}
			got := c.Value(vcard.FieldPhoto)
			if tc.want == "" {
				if got != "" {
					t.Fatalf("PHOTO = %.40q, want none", got)
				}
				return
			}
			if got != tc.want+base64.StdEncoding.EncodeToString(tc.data) {
				t.Fatalf("PHOTO = %.60q, want prefix %q and the attachment bytes", got, tc.want)
			}
		})
	}
}

var uuidURNRe = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestUID(t *testing.T) {
	key1 := mustHex("2910de4f02a7a648a199500fd8e50706")
	key2 := mustHex("2910de4f02a7a648a199500fd8e50707")
	a := msg(pB(pst.TagSearchKey, key1), pS(pst.TagDisplayName, "A"))
	a2 := msg(pB(pst.TagSearchKey, key1), pS(pst.TagDisplayName, "A edited"))
	a2.NID = 0x999
	b := msg(pB(pst.TagSearchKey, key2))
	rk := msg(pB(pst.TagRecordKey, key1))
	zero := msg(pB(pst.TagSearchKey, make([]byte, 16)), pS(pst.TagDisplayName, "Z"))
	n1 := msg(pS(pst.TagDisplayName, "N"))
	n2 := msg(pS(pst.TagDisplayName, "N"))
	n2.NID = 0x200044
	emb1 := &pst.Message{Props: pst.NewProps(testNamer, pS(pst.TagDisplayName, "E"), pS(nid(0x8083), "e@x.org"))}
	emb2 := &pst.Message{Props: pst.NewProps(testNamer, pS(pst.TagDisplayName, "E"), pS(nid(0x8083), "f@x.org"))}

	for _, m := range []*pst.Message{a, b, rk, zero, n1, emb1} {
		if u := UID(m); !uuidURNRe.MatchString(u) {
			t.Errorf("UID %q is not a v5 urn:uuid", u)
		}
	}
	// Pinned value (SHA-1 name-based, computed independently): a change of
	// derivation would change every UID users already have.
	if got, want := UID(a), "urn:uuid:60576475-c86d-598f-976f-dc4d180e6092"; got != want {
		t.Errorf("UID(a) = %s, want %s", got, want)
	}
	same := [][2]*pst.Message{{a, a2}}
	diff := [][2]*pst.Message{{a, b}, {a, rk}, {n1, n2}, {emb1, emb2}, {zero, n1}}
	for _, p := range same {
		if UID(p[0]) != UID(p[1]) {
			t.Error("same search key, different UID")
		}
	}
	for i, p := range diff {
		if UID(p[0]) == UID(p[1]) {
			t.Errorf("pair %d: UIDs collide: %s", i, UID(p[0]))
		}
	}
	if UID(nil) != "" {
		t.Error("UID(nil) not empty")
	}
}

func TestNilMessage(t *testing.T) {
	if _, err := ToVCard(nil); !errors.Is(err, ErrNoMessage) {
		t.Errorf("ToVCard(nil) err = %v", err)
	}
	if _, err := ToVCard(&pst.Message{}); !errors.Is(err, ErrNoMessage) {
		t.Errorf("ToVCard(no props) err = %v", err)
	}
	if _, err := DistListToVCard(nil); !errors.Is(err, ErrNoMessage) {
		t.Errorf("DistListToVCard(nil) err = %v", err)
	}
}

func TestHasScheme(t *testing.T) {
	for s, want := range map[string]bool{
		"sip:a@b": true, "xmpp:a@b": true, "ms-sip:x": true, "a@b": false,
		":x": false, "1a:b": false, "a b:c": false, "": false,
	} {
		if got := hasScheme(s); got != want {
			t.Errorf("hasScheme(%q) = %v", s, got)
		}
	}
}
