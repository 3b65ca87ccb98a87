// Package contact converts Outlook contact items (IPM.Contact*) and personal
// distribution lists (IPM.DistList*) to vCard models ([MS-OXOCNTC]).
//
// The produced vcard.Card is a vCard 4.0 model (RFC 6350): VERSION is 4.0,
// KIND, GENDER, ANNIVERSARY, RELATED and MEMBER are used, PREF is a number,
// the formatted address is the LABEL parameter of ADR and the photo is a
// data: URI. Writing it as text (and down-converting to 3.0) is the job of
// package sink. Notes for that conversion:
//
//   - Values are stored unescaped, as go-vcard does: structured values (N,
//     ADR, ORG, GENDER) separate components with ';' (a ';' inside a
//     component is replaced by ','), and CATEGORIES holds the category
//     names joined by ',' (one field), like vcard.Card.SetCategories; the
//     encoder must not escape those separators. Newlines are "\n".
//   - Parameter values (LABEL, X-CN, X-MS-DISPLAY-NAME) may contain ':',
//     ';', ',' or newlines and need quoting (RFC 6868 for newlines).
//   - 3.0: ADR;LABEL=... becomes a separate LABEL property; PREF=n becomes
//     TYPE=pref on the PREF=1 field; PHOTO data URIs become
//     ENCODING=b;TYPE=JPEG; KIND/MEMBER become X-ADDRESSBOOKSERVER-KIND /
//     X-ADDRESSBOOKSERVER-MEMBER; GENDER, ANNIVERSARY and RELATED have no
//     3.0 form (X-GENDER, X-ANNIVERSARY, X-ASSISTANT/X-MANAGER/X-SPOUSE are
//     usual); TEL TYPE=x-car/x-isdn map back to car/isdn, and
//     TYPE=textphone/text have no 3.0 equivalent (3.0 has msg).
//   - BDAY and ANNIVERSARY are DATE values "YYYYMMDD" (3.0 wants
//     "YYYY-MM-DD").
package contact

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-vcard"

	"github.com/pstsync/pstsync/pst"
)

// ErrNoMessage is returned for a nil message or one without properties.
var ErrNoMessage = errors.New("contact: nil message")

// Property names of the extension properties this package emits.
const (
	FieldXFileUnder        = "X-MS-FILE-UNDER"
	FieldXOfficeLocation   = "X-MS-OFFICE-LOCATION"
	FieldXHobbies          = "X-MS-HOBBIES"
	FieldXLanguage         = "X-MS-LANGUAGE"
	FieldXLocation         = "X-MS-LOCATION"
	FieldXAccount          = "X-MS-ACCOUNT"
	FieldXComputerNetwork  = "X-MS-COMPUTER-NETWORK-NAME"
	FieldXCustomerID       = "X-MS-CUSTOMER-ID"
	FieldXGovernmentID     = "X-MS-GOVERNMENT-ID"
	FieldXOrganizationalID = "X-MS-ORGANIZATIONAL-ID"
	FieldXFtpSite          = "X-MS-FTP-SITE"
	FieldXReferredBy       = "X-MS-REFERRED-BY"
	FieldXUserField        = "X-MS-USER-FIELD" // with parameter X-INDEX=1..4
	FieldXEmailEX          = "X-MS-EMAIL-EX"   // Exchange (X.500) address without an SMTP form
	FieldXPhoneticFirst    = "X-PHONETIC-FIRST-NAME"
	FieldXPhoneticLast     = "X-PHONETIC-LAST-NAME"
	FieldXPhoneticOrg      = "X-PHONETIC-ORG"
	ParamXDisplayName      = "X-MS-DISPLAY-NAME"
)

// ToVCard converts a contact item to a vCard 4.0 model ([MS-OXOCNTC] 2.2.1):
// N (surname; given; middle; PidTagDisplayNamePrefix; PidTagGeneration),
// FN (PidTagDisplayName, else PidLidFileUnder, the name parts, the company
// or the first address), NICKNAME, EMAIL for Email1..3 in that PREF order
// (an "EX" address is replaced by its SMTP original display name, or kept
// as X-MS-EMAIL-EX), TEL for all 19 Outlook phone kinds, ADR for the work,
// home and other addresses with the formatted address as LABEL and PREF=1
// on the mailing address (PidLidPostalAddressId), ORG (company;
// department), TITLE, ROLE (profession), BDAY and ANNIVERSARY (DATE; the
// PidLid*Local values win), GENDER, RELATED (assistant, manager, spouse,
// children), URL, IMPP, FBURL, NOTE, CATEGORIES (PidNameKeywords), REV,
// UID and PHOTO (data: URI of the contact picture attachment), plus
// X-MS-* properties for the remaining user fields.
func ToVCard(m *pst.Message) (vcard.Card, error) {
	if m == nil || m.Props == nil {
		return nil, ErrNoMessage
	}
	p := m.Props
	c := make(vcard.Card)
	c.SetValue(vcard.FieldVersion, "4.0")
	c.SetKind(vcard.KindIndividual)
	c.SetValue(vcard.FieldUID, UID(m))

	addNames(c, p)
	addEmails(c, p)
	addPhones(c, p)
	addAddresses(c, p)
	addOrganization(c, p)
	addDates(c, p)
	addRelated(c, p)
	addURLs(c, p)
	addMisc(c, p)
	addCommon(c, p)
	if photo := contactPhoto(m); photo != nil {
		c.Add(vcard.FieldPhoto, photo)
	}
	return c, nil
}

// addCommon adds NOTE, CATEGORIES and REV (shared with distribution lists).
func addCommon(c vcard.Card, p *pst.Props) {
	if note := normNewlines(p.String(pst.TagBody)); strings.TrimSpace(note) != "" {
		c.SetValue(vcard.FieldNote, strings.TrimRight(note, " \t\n"))
	}
	if cats := categories(p); len(cats) > 0 {
		c.SetValue(vcard.FieldCategories, strings.Join(cats, ","))
	}
	if t, ok := p.Time(pst.TagLastModificationTime); ok && validTime(t) {
		c.SetRevision(t.UTC())
	}
}

func categories(p *pst.Props) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range p.Strings(p.NamedStrID(pst.PSPublicStrings, nameKeywords)) {
		s = strings.TrimSpace(strings.ReplaceAll(s, ",", " "))
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

func str(p *pst.Props, id uint16) string {
	if id == 0 {
		return ""
	}
	return strings.TrimSpace(strings.TrimRight(p.String(id), "\x00"))
}

func normNewlines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// comp prepares one component of a structured value.
func comp(s string) string {
	return strings.ReplaceAll(normNewlines(strings.TrimSpace(s)), ";", ",")
}

func addNames(c vcard.Card, p *pst.Props) {
	n := &vcard.Name{
		FamilyName:      comp(str(p, tagSurname)),
		GivenName:       comp(str(p, tagGivenName)),
		AdditionalName:  comp(str(p, tagMiddleName)),
		HonorificPrefix: comp(str(p, tagDisplayNamePrefix)),
		HonorificSuffix: comp(str(p, tagGeneration)),
	}
	c.AddName(n)

	fileUnder := str(p, named(p, lidFileUnder))
	fn := str(p, pst.TagDisplayName)
	if fn == "" {
		fn = fileUnder
	}
	if fn == "" {
		fn = strings.Join(nonEmpty(n.HonorificPrefix, n.GivenName, n.AdditionalName, n.FamilyName, n.HonorificSuffix), " ")
	}
	if fn == "" {
		fn = str(p, pst.TagSubject)
	}
	if fn == "" {
		fn = str(p, tagCompanyName)
	}
	if fn == "" {
		if e := emails(p); len(e) > 0 {
			fn = e[0].addr
		}
	}
	c.SetValue(vcard.FieldFormattedName, fn)
	if fileUnder != "" && fileUnder != fn {
		c.SetValue(FieldXFileUnder, fileUnder)
	}
	if nick := str(p, tagNickname); nick != "" {
		c.SetValue(vcard.FieldNickname, nick)
	}
	if s := str(p, named(p, lidYomiFirstName)); s != "" {
		c.SetValue(FieldXPhoneticFirst, s)
	}
	if s := str(p, named(p, lidYomiLastName)); s != "" {
		c.SetValue(FieldXPhoneticLast, s)
	}
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

type email struct {
	index       int // 1..3
	addr        string
	displayName string
	ex          bool // addr is an Exchange DN (no SMTP form found)
}

// looksSMTP is a cheap plausibility check for an internet address.
func looksSMTP(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n<>\"/")
}

func emails(p *pst.Props) []email {
	var out []email
	for i := uint32(0); i < 3; i++ {
		off := i * emailStride
		addr := str(p, named(p, lidEmail1Address+off))
		typ := strings.ToUpper(str(p, named(p, lidEmail1AddrType+off)))
		orig := str(p, named(p, lidEmail1OrigDispName+off))
		dn := str(p, named(p, lidEmail1DisplayName+off))
		e := email{index: int(i) + 1, displayName: dn}
		switch {
		case typ == "EX" || (addr != "" && !looksSMTP(addr) && strings.HasPrefix(addr, "/")):
			switch {
			case looksSMTP(orig):
				e.addr = orig
			case addr != "":
				e.addr, e.ex = addr, true
			}
		case addr != "":
			e.addr = addr
		case looksSMTP(orig):
			e.addr = orig
		}
		if strings.HasPrefix(strings.ToLower(e.addr), "smtp:") {
			e.addr = e.addr[5:]
		}
		if e.addr != "" {
			out = append(out, e)
		}
	}
	return out
}

// defaultNames are the names Outlook builds e-mail display names from.
func defaultNames(c vcard.Card, p *pst.Props) map[string]bool {
	n := map[string]bool{"": true}
	n[c.Value(vcard.FieldFormattedName)] = true
	n[str(p, pst.TagSubject)] = true
	n[str(p, pst.TagNormalizedSubject)] = true
	n[str(p, named(p, lidFileUnder))] = true
	n[str(p, tagCompanyName)] = true
	parts := []string{str(p, tagGivenName), str(p, tagMiddleName), str(p, tagSurname), str(p, tagGeneration)}
	n[strings.Join(nonEmpty(parts...), " ")] = true
	n[strings.Join(nonEmpty(append([]string{str(p, tagDisplayNamePrefix)}, parts...)...), " ")] = true
	return n
}

func addEmails(c vcard.Card, p *pst.Props) {
	names := defaultNames(c, p)
	seen := map[string]bool{}
	pref := 1
	for _, e := range emails(p) {
		key := strings.ToLower(e.addr)
		if seen[key] {
			continue
		}
		seen[key] = true
		f := &vcard.Field{Value: e.addr, Params: vcard.Params{}}
		// Outlook's default display name is "<name> (<addr>)", the name
		// or the address itself; keep only a custom one.
		if d := strings.TrimSpace(strings.ReplaceAll(e.displayName, `"`, "")); d != e.addr &&
			!names[strings.TrimSpace(strings.TrimSuffix(d, "("+e.addr+")"))] {
			f.Params.Set(ParamXDisplayName, d)
		}
		if e.ex {
			c.Add(FieldXEmailEX, f)
			continue
		}
		f.Params.Set(vcard.ParamPreferred, strconv.Itoa(pref))
		pref++
		c.Add(vcard.FieldEmail, f)
	}
}

type phoneKind struct {
	id    uint16
	types []string
	pref  bool
}

// phoneKinds maps every Outlook telephone property to TEL TYPE values. Kinds
// without a vCard 4.0 type use x- tokens (x-car, x-isdn, ...).
var phoneKinds = []phoneKind{
	{tagPrimaryPhone, []string{vcard.TypeVoice}, true},
	{tagBusinessPhone, []string{vcard.TypeWork, vcard.TypeVoice}, false},
	{tagBusiness2Phone, []string{vcard.TypeWork, vcard.TypeVoice}, false},
	{tagCompanyMainPhone, []string{vcard.TypeWork, vcard.TypeVoice, "x-company-main"}, false},
	{tagHomePhone, []string{vcard.TypeHome, vcard.TypeVoice}, false},
	{tagHome2Phone, []string{vcard.TypeHome, vcard.TypeVoice}, false},
	{tagMobilePhone, []string{vcard.TypeCell, vcard.TypeVoice}, false},
	{tagBusinessFax, []string{vcard.TypeWork, vcard.TypeFax}, false},
	{tagHomeFax, []string{vcard.TypeHome, vcard.TypeFax}, false},
	{tagPrimaryFax, []string{vcard.TypeFax}, false},
	{tagPagerPhone, []string{vcard.TypePager}, false},
	{tagCarPhone, []string{vcard.TypeVoice, "x-car"}, false},
	{tagAssistantPhone, []string{vcard.TypeVoice, "x-assistant"}, false},
	{tagCallbackPhone, []string{vcard.TypeVoice, "x-callback"}, false},
	{tagRadioPhone, []string{vcard.TypeVoice, "x-radio"}, false},
	{tagTelexNumber, []string{"x-telex"}, false},
	{tagTTYTDDPhone, []string{vcard.TypeTextPhone}, false},
	{tagISDNNumber, []string{vcard.TypeVoice, "x-isdn"}, false},
	{tagOtherPhone, []string{vcard.TypeVoice, "x-other"}, false},
}

func addPhones(c vcard.Card, p *pst.Props) {
	for _, k := range phoneKinds {
		v := str(p, k.id)
		if v == "" {
			continue
		}
		f := &vcard.Field{Value: normNewlines(v), Params: vcard.Params{}}
		f.Params[vcard.ParamType] = append([]string(nil), k.types...)
		if k.pref {
			f.Params.Set(vcard.ParamPreferred, "1")
		}
		c.Add(vcard.FieldTelephone, f)
	}
}

type addrSpec struct {
	typ                                        string // home, work, "" (other)
	postalID                                   int64  // PidLidPostalAddressId value naming it
	street, city, state, postal, country, pobx uint16
	label                                      uint16
}

func addAddresses(c vcard.Card, p *pst.Props) {
	specs := []addrSpec{
		{typ: vcard.TypeWork, postalID: 2,
			street: named(p, lidWorkAddressStreet), city: named(p, lidWorkAddressCity),
			state: named(p, lidWorkAddressState), postal: named(p, lidWorkAddressPostal),
			country: named(p, lidWorkAddressCountry), pobx: named(p, lidWorkAddressPOBox),
			label: named(p, lidWorkAddress)},
		{typ: vcard.TypeHome, postalID: 1,
			street: tagHomeStreet, city: tagHomeCity, state: tagHomeState,
			postal: tagHomePostalCode, country: tagHomeCountry, pobx: tagHomePOBox,
			label: named(p, lidHomeAddress)},
		{typ: "", postalID: 3,
			street: tagOtherStreet, city: tagOtherCity, state: tagOtherState,
			postal: tagOtherPostalCode, country: tagOtherCountry, pobx: tagOtherPOBox,
			label: named(p, lidOtherAddress)},
	}
	mailing, _ := p.Int(named(p, lidPostalAddressID))
	added := 0
	for _, s := range specs {
		a := &vcard.Address{
			PostOfficeBox: comp(str(p, s.pobx)),
			StreetAddress: comp(str(p, s.street)),
			Locality:      comp(str(p, s.city)),
			Region:        comp(str(p, s.state)),
			PostalCode:    comp(str(p, s.postal)),
			Country:       comp(str(p, s.country)),
		}
		label := normNewlines(str(p, s.label))
		if a.PostOfficeBox+a.StreetAddress+a.Locality+a.Region+a.PostalCode+a.Country == "" && label == "" {
			continue
		}
		a.Field = &vcard.Field{Params: vcard.Params{}}
		if s.typ != "" {
			a.Params.Set(vcard.ParamType, s.typ)
		} else {
			a.Params.Set(vcard.ParamType, "x-other")
		}
		if label != "" {
			a.Params.Set("LABEL", label)
		}
		if mailing == s.postalID {
			a.Params.Set(vcard.ParamPreferred, "1")
		}
		c.AddAddress(a)
		added++
	}
	if added > 0 {
		return
	}
	// Only the mailing-address copy is set (some generators write just
	// these): keep it as an untyped preferred address.
	a := &vcard.Address{
		PostOfficeBox: comp(str(p, tagPostOfficeBox)),
		StreetAddress: comp(str(p, tagStreetAddress)),
		Locality:      comp(str(p, tagLocality)),
		Region:        comp(str(p, tagStateOrProv)),
		PostalCode:    comp(str(p, tagPostalCode)),
		Country:       comp(str(p, tagCountry)),
	}
	label := normNewlines(str(p, tagPostalAddress))
	if a.PostOfficeBox+a.StreetAddress+a.Locality+a.Region+a.PostalCode+a.Country == "" && label == "" {
		return
	}
	a.Field = &vcard.Field{Params: vcard.Params{}}
	if label != "" {
		a.Params.Set("LABEL", label)
	}
	a.Params.Set(vcard.ParamPreferred, "1")
	c.AddAddress(a)
}

func addOrganization(c vcard.Card, p *pst.Props) {
	company, dept := comp(str(p, tagCompanyName)), comp(str(p, tagDepartmentName))
	switch {
	case company != "" && dept != "":
		c.SetValue(vcard.FieldOrganization, company+";"+dept)
	case company != "":
		c.SetValue(vcard.FieldOrganization, company)
	case dept != "":
		c.SetValue(vcard.FieldOrganization, ";"+dept)
	}
	if s := str(p, tagTitle); s != "" {
		c.SetValue(vcard.FieldTitle, s)
	}
	if s := str(p, tagProfession); s != "" {
		c.SetValue(vcard.FieldRole, s)
	}
	if s := str(p, tagOfficeLocation); s != "" {
		c.SetValue(FieldXOfficeLocation, s)
	}
	if s := str(p, named(p, lidYomiCompanyName)); s != "" {
		c.SetValue(FieldXPhoneticOrg, s)
	}
}

// Outlook writes 4501-01-01 for "no date"; treat anything outside
// 1601..4500 as absent.
func validTime(t time.Time) bool {
	return !t.IsZero() && t.Year() > 1601 && t.Year() < 4500
}

// utcMidnightDate returns the calendar date of a PidTagBirthday-style value:
// local midnight converted to UTC. Rounding to the nearest UTC midnight gives
// the local date for zones from UTC-11:59 to UTC+12. PidLid*Local values
// (midnight of the date, stored without conversion) round to themselves.
func utcMidnightDate(t time.Time) string {
	return t.UTC().Add(12 * time.Hour).Truncate(24 * time.Hour).Format("20060102")
}

func eventDate(p *pst.Props, localLID uint32, tag uint16) string {
	if t, ok := p.Time(named(p, localLID)); ok && validTime(t) {
		return utcMidnightDate(t)
	}
	if t, ok := p.Time(tag); ok && validTime(t) {
		return utcMidnightDate(t)
	}
	return ""
}

func addDates(c vcard.Card, p *pst.Props) {
	if d := eventDate(p, lidBirthdayLocal, tagBirthday); d != "" {
		c.SetValue(vcard.FieldBirthday, d)
	}
	if d := eventDate(p, lidWeddingAnnivLocal, tagWeddingAnniversary); d != "" {
		c.SetValue(vcard.FieldAnniversary, d)
	}
	if g, ok := p.Int(tagGender); ok {
		switch g {
		case 1:
			c.SetGender(vcard.SexFemale, "")
		case 2:
			c.SetGender(vcard.SexMale, "")
		}
	}
}

func related(c vcard.Card, typ, name string) {
	name = strings.TrimSpace(name)
	if name == "" {
		return
	}
	f := &vcard.Field{Value: name, Params: vcard.Params{}}
	f.Params.Set(vcard.ParamValue, "text")
	f.Params.Set(vcard.ParamType, typ)
	c.Add(vcard.FieldRelated, f)
}

func addRelated(c vcard.Card, p *pst.Props) {
	related(c, "assistant", str(p, tagAssistant))
	related(c, "manager", str(p, tagManagerName))
	related(c, vcard.TypeSpouse, str(p, tagSpouseName))
	for _, ch := range p.Strings(tagChildrensNames) {
		related(c, vcard.TypeChild, ch)
	}
}

func addURLs(c vcard.Card, p *pst.Props) {
	seen := map[string]bool{}
	add := func(v, typ string) {
		v = strings.TrimSpace(v)
		if v == "" || seen[v] {
			return
		}
		seen[v] = true
		f := &vcard.Field{Value: v, Params: vcard.Params{}}
		if typ != "" {
			f.Params.Set(vcard.ParamType, typ)
		}
		c.Add(vcard.FieldURL, f)
	}
	add(str(p, tagBusinessHomePage), vcard.TypeWork)
	add(str(p, tagPersonalHomePage), vcard.TypeHome)
	add(str(p, named(p, lidHTML)), "")

	if im := str(p, named(p, lidIMAddress)); im != "" {
		if !hasScheme(im) {
			im = "im:" + im
		}
		c.SetValue(vcard.FieldIMPP, im)
	}
	if fb := str(p, named(p, lidFreeBusyLocation)); fb != "" {
		c.SetValue(vcard.FieldFreeOrBusyURL, fb)
	}
}

// hasScheme reports whether s starts with a URI scheme ("sip:", "xmpp:").
func hasScheme(s string) bool {
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return false
	}
	for j, r := range s[:i] {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case j > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

func addMisc(c vcard.Card, p *pst.Props) {
	for _, x := range []struct {
		field string
		id    uint16
	}{
		{FieldXHobbies, tagHobbies},
		{FieldXLanguage, tagLanguage},
		{FieldXLocation, tagLocation},
		{FieldXAccount, tagAccount},
		{FieldXComputerNetwork, tagComputerNetworkName},
		{FieldXCustomerID, tagCustomerID},
		{FieldXGovernmentID, tagGovernmentIDNumber},
		{FieldXOrganizationalID, tagOrganizationalIDNum},
		{FieldXFtpSite, tagFtpSite},
		{FieldXReferredBy, tagReferredByName},
	} {
		if s := str(p, x.id); s != "" {
			c.SetValue(x.field, normNewlines(s))
		}
	}
	for i, lid := range []uint32{lidUserField1, lidUserField2, lidUserField3, lidUserField4} {
		if s := str(p, named(p, lid)); s != "" {
			c.Add(FieldXUserField, &vcard.Field{Value: normNewlines(s), Params: vcard.Params{"X-INDEX": {strconv.Itoa(i + 1)}}})
		}
	}
}

// contactPhoto returns the PHOTO field for the contact picture attachment:
// the one flagged PidTagAttachmentContactPhoto, else one named
// ContactPicture.jpg.
func contactPhoto(m *pst.Message) *vcard.Field {
	var pick *pst.Attachment
	for _, a := range m.Attachments {
		if a == nil || len(a.Data) == 0 {
			continue
		}
		if b, ok := a.Props.Bool(pst.TagAttachmentContactPhoto); ok && b {
			pick = a
			break
		}
	}
	if pick == nil {
		for _, a := range m.Attachments {
			if a != nil && len(a.Data) > 0 && strings.EqualFold(a.Filename(), "ContactPicture.jpg") {
				pick = a
				break
			}
		}
	}
	if pick == nil {
		return nil
	}
	mt := http.DetectContentType(pick.Data)
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	if !strings.HasPrefix(mt, "image/") {
		tag := strings.ToLower(strings.TrimSpace(pick.Props.String(pst.TagAttachMimeTag)))
		if !strings.HasPrefix(tag, "image/") {
			return nil
		}
		mt = tag
	}
	return &vcard.Field{Value: "data:" + mt + ";base64," + base64.StdEncoding.EncodeToString(pick.Data), Params: vcard.Params{}}
}

// UID returns a stable identifier for a contact or distribution list:
// "urn:uuid:" and a name-based (SHA-1, version 5 layout) UUID derived from
// PidTagSearchKey, else PidTagRecordKey, else PidTagEntryID, else from the
// node id, the creation time and the display name. The same item gives the
// same UID on every run; copies of an item that keep its search key share
// it.
func UID(m *pst.Message) string {
	if m == nil || m.Props == nil {
		return ""
	}
	p := m.Props
	for _, k := range []struct {
		name string
		id   uint16
	}{{"searchkey", pst.TagSearchKey}, {"recordkey", pst.TagRecordKey}, {"entryid", pst.TagEntryID}} {
		if b := p.Binary(k.id); usableKey(b) {
			return uuidURN(k.name + ":" + hex.EncodeToString(b))
		}
	}
	var sb strings.Builder
	sb.WriteString("item:")
	var nid [4]byte
	binary.LittleEndian.PutUint32(nid[:], m.NID)
	sb.WriteString(hex.EncodeToString(nid[:]))
	if t, ok := p.Time(pst.TagCreationTime); ok {
		sb.WriteString("|" + strconv.FormatInt(t.UnixNano(), 10))
	}
	sb.WriteString("|" + p.String(pst.TagDisplayName))
	if m.NID == 0 {
		// Embedded item: no identity of its own, use its content.
		for _, e := range emails(p) {
			sb.WriteString("|" + e.addr)
		}
		sb.WriteString("|" + p.String(tagCompanyName) + "|" + p.String(pst.TagBody))
	}
	return uuidURN(sb.String())
}

func usableKey(b []byte) bool {
	if len(b) < 8 {
		return false
	}
	for _, c := range b {
		if c != 0 {
			return true
		}
	}
	return false
}

func uuidURN(name string) string {
	h := sha1.Sum([]byte("pstsync/contact\x00" + name))
	h[6] = h[6]&0x0F | 0x50
	h[8] = h[8]&0x3F | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
