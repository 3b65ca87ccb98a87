package outlook

import (
	"fmt"

	"github.com/pstsync/pstsync/pst"
)

// PropRef names one MAPI property: a tag (Tag != 0) or a named property
// (Set with LID, or Set with Name).
type PropRef struct {
	Tag  uint16
	Set  pst.GUID
	LID  uint32
	Name string
	Type pst.PropType
}

// DASL returns the property's name in the schema PropertyAccessor takes
// ("http://schemas.microsoft.com/mapi/proptag/0x0037001F", ".../id/{GUID}/8216 0102",
// ".../string/{GUID}/Keywords").
func (r PropRef) DASL() string {
	switch {
	case r.Tag != 0:
		return fmt.Sprintf("http://schemas.microsoft.com/mapi/proptag/0x%04X%04X", r.Tag, uint16(r.Type))
	case r.Name != "":
		return fmt.Sprintf("http://schemas.microsoft.com/mapi/string/{%s}/%s/0x%04X", r.Set, r.Name, uint16(r.Type))
	}
	return fmt.Sprintf("http://schemas.microsoft.com/mapi/id/{%s}/%04X%04X", r.Set, r.LID, uint16(r.Type))
}

// Key is the pst.NamedKey of a named property.
func (r PropRef) Key() pst.NamedKey { return pst.NamedKey{Set: r.Set, LID: r.LID, Name: r.Name} }

func tag(t uint16, typ pst.PropType) PropRef { return PropRef{Tag: t, Type: typ} }
func apptLID(l uint32, typ pst.PropType) PropRef {
	return PropRef{Set: pst.PSETIDAppointment, LID: l, Type: typ}
}
func commonLID(l uint32, typ pst.PropType) PropRef {
	return PropRef{Set: pst.PSETIDCommon, LID: l, Type: typ}
}
func addrLID(l uint32, typ pst.PropType) PropRef {
	return PropRef{Set: pst.PSETIDAddress, LID: l, Type: typ}
}

// Property ids the conversions use ([MS-OXPROPS]).
var (
	PropKeywords         = PropRef{Set: pst.PSPublicStrings, Name: "Keywords", Type: pst.TypeMultiString}
	PropGlobalObjectID   = PropRef{Set: pst.PSETIDMeeting, LID: 0x0003, Type: pst.TypeBinary}
	PropCleanGlobalObjID = PropRef{Set: pst.PSETIDMeeting, LID: 0x0023, Type: pst.TypeBinary}
	PropBusyStatus       = apptLID(0x8205, pst.TypeInt32)
	PropLocation         = apptLID(0x8208, pst.TypeString)
	PropStartWhole       = apptLID(0x820D, pst.TypeTime)
	PropEndWhole         = apptLID(0x820E, pst.TypeTime)
	PropSubType          = apptLID(0x8215, pst.TypeBool)
	PropRecur            = apptLID(0x8216, pst.TypeBinary)
	PropStateFlags       = apptLID(0x8217, pst.TypeInt32)
	PropRecurring        = apptLID(0x8223, pst.TypeBool)
	PropTZDescription    = apptLID(0x8234, pst.TypeString)
	PropTZDefStart       = apptLID(0x825E, pst.TypeBinary)
	PropTZDefEnd         = apptLID(0x825F, pst.TypeBinary)
	PropTZDefRecur       = apptLID(0x8260, pst.TypeBinary)
	PropSequence         = apptLID(0x8201, pst.TypeInt32)
	PropReminderDelta    = commonLID(0x8501, pst.TypeInt32)
	PropReminderSet      = commonLID(0x8503, pst.TypeBool)
	PropCommonStart      = commonLID(0x8516, pst.TypeTime)
	PropCommonEnd        = commonLID(0x8517, pst.TypeTime)
	PropFileUnder        = addrLID(0x8005, pst.TypeString)
	PropPostalAddressID  = addrLID(0x8022, pst.TypeInt32)
	PropEmail1Address    = addrLID(0x8083, pst.TypeString)
	PropEmail1AddrType   = addrLID(0x8082, pst.TypeString)
	PropEmail1DispName   = addrLID(0x8080, pst.TypeString)
	PropEmail1OrigDisp   = addrLID(0x8084, pst.TypeString)
	PropBirthdayLocal    = addrLID(0x80DE, pst.TypeTime)
	PropAnnivLocal       = addrLID(0x80DF, pst.TypeTime)
	PropHasPicture       = addrLID(0x8015, pst.TypeBool)
	PropRRule            = UserProp(RRuleProperty)
	PropUTC              = UserProp(UTCProperty)
)

// UserProp is the MAPI property of a user property (text) named name: a
// string-named property in PS_PUBLIC_STRINGS, as UserProperties.Add makes
// it.
func UserProp(name string) PropRef {
	return PropRef{Set: pst.PSPublicStrings, Name: name, Type: pst.TypeString}
}

// ContactFields maps the ContactItem members pstsync writes (by their
// object-model name) to the MAPI property Outlook stores them in. The
// COM adapter sets the members by these names; the fake stores them in
// these properties, as Outlook does; the PST converter reads them back.
var ContactFields = map[string]PropRef{
	"FirstName":                    tag(0x3A06, pst.TypeString),
	"LastName":                     tag(0x3A11, pst.TypeString),
	"MiddleName":                   tag(0x3A44, pst.TypeString),
	"Title":                        tag(0x3A45, pst.TypeString),
	"Suffix":                       tag(0x3A05, pst.TypeString),
	"NickName":                     tag(0x3A4F, pst.TypeString),
	"FileAs":                       addrLID(0x8005, pst.TypeString),
	"CompanyName":                  tag(0x3A16, pst.TypeString),
	"JobTitle":                     tag(0x3A17, pst.TypeString),
	"Department":                   tag(0x3A18, pst.TypeString),
	"Profession":                   tag(0x3A46, pst.TypeString),
	"Body":                         tag(pst.TagBody, pst.TypeString),
	"Birthday":                     tag(0x3A42, pst.TypeTime),
	"Anniversary":                  tag(0x3A41, pst.TypeTime),
	"PersonalHomePage":             tag(0x3A50, pst.TypeString),
	"BusinessHomePage":             tag(0x3A51, pst.TypeString),
	"PrimaryTelephoneNumber":       tag(0x3A1A, pst.TypeString),
	"AssistantTelephoneNumber":     tag(0x3A2E, pst.TypeString),
	"CallbackTelephoneNumber":      tag(0x3A02, pst.TypeString),
	"CompanyMainTelephoneNumber":   tag(0x3A57, pst.TypeString),
	"RadioTelephoneNumber":         tag(0x3A1D, pst.TypeString),
	"TelexNumber":                  tag(0x3A2C, pst.TypeString),
	"TTYTDDTelephoneNumber":        tag(0x3A4B, pst.TypeString),
	"ISDNNumber":                   tag(0x3A2D, pst.TypeString),
	"PrimaryFaxNumber":             tag(0x3A23, pst.TypeString),
	"Gender":                       tag(0x3A4D, pst.TypeInt16),
	"WebPage":                      addrLID(0x802B, pst.TypeString),
	"IMAddress":                    addrLID(0x8062, pst.TypeString),
	"HomeAddress":                  addrLID(0x801A, pst.TypeString),
	"BusinessAddress":              addrLID(0x801B, pst.TypeString),
	"OtherAddress":                 addrLID(0x801C, pst.TypeString),
	"Email1DisplayName":            addrLID(0x8080, pst.TypeString),
	"Email2DisplayName":            addrLID(0x8090, pst.TypeString),
	"Email3DisplayName":            addrLID(0x80A0, pst.TypeString),
	"BusinessTelephoneNumber":      tag(0x3A08, pst.TypeString),
	"Business2TelephoneNumber":     tag(0x3A1B, pst.TypeString),
	"HomeTelephoneNumber":          tag(0x3A09, pst.TypeString),
	"Home2TelephoneNumber":         tag(0x3A2F, pst.TypeString),
	"MobileTelephoneNumber":        tag(0x3A1C, pst.TypeString),
	"BusinessFaxNumber":            tag(0x3A24, pst.TypeString),
	"HomeFaxNumber":                tag(0x3A25, pst.TypeString),
	"PagerNumber":                  tag(0x3A21, pst.TypeString),
	"CarTelephoneNumber":           tag(0x3A1E, pst.TypeString),
	"OtherTelephoneNumber":         tag(0x3A1F, pst.TypeString),
	"HomeAddressStreet":            tag(0x3A5D, pst.TypeString),
	"HomeAddressCity":              tag(0x3A59, pst.TypeString),
	"HomeAddressState":             tag(0x3A5C, pst.TypeString),
	"HomeAddressPostalCode":        tag(0x3A5B, pst.TypeString),
	"HomeAddressCountry":           tag(0x3A5A, pst.TypeString),
	"HomeAddressPostOfficeBox":     tag(0x3A5E, pst.TypeString),
	"OtherAddressStreet":           tag(0x3A63, pst.TypeString),
	"OtherAddressCity":             tag(0x3A5F, pst.TypeString),
	"OtherAddressState":            tag(0x3A62, pst.TypeString),
	"OtherAddressPostalCode":       tag(0x3A61, pst.TypeString),
	"OtherAddressCountry":          tag(0x3A60, pst.TypeString),
	"OtherAddressPostOfficeBox":    tag(0x3A64, pst.TypeString),
	"BusinessAddressStreet":        addrLID(0x8045, pst.TypeString),
	"BusinessAddressCity":          addrLID(0x8046, pst.TypeString),
	"BusinessAddressState":         addrLID(0x8047, pst.TypeString),
	"BusinessAddressPostalCode":    addrLID(0x8048, pst.TypeString),
	"BusinessAddressCountry":       addrLID(0x8049, pst.TypeString),
	"BusinessAddressPostOfficeBox": addrLID(0x804A, pst.TypeString),
	"Email1Address":                addrLID(0x8083, pst.TypeString),
	"Email2Address":                addrLID(0x8093, pst.TypeString),
	"Email3Address":                addrLID(0x80A3, pst.TypeString),
}

// Properties the converters read, per item class: what the COM adapter
// asks PropertyAccessor for (besides recipients and attachments).
var (
	AppointmentProps = []PropRef{
		tag(pst.TagSubject, pst.TypeString), tag(pst.TagBody, pst.TypeString),
		tag(pst.TagSensitivity, pst.TypeInt32), tag(pst.TagImportance, pst.TypeInt32),
		tag(pst.TagCreationTime, pst.TypeTime), tag(pst.TagLastModificationTime, pst.TypeTime),
		tag(pst.TagClientSubmitTime, pst.TypeTime), tag(pst.TagMessageDeliveryTime, pst.TypeTime),
		tag(pst.TagStartDate, pst.TypeTime), tag(pst.TagEndDate, pst.TypeTime),
		tag(pst.TagSearchKey, pst.TypeBinary), tag(pst.TagResponseRequested, pst.TypeBool),
		tag(pst.TagSentRepresentingName, pst.TypeString), tag(pst.TagSentRepresentingEmailAddress, pst.TypeString),
		tag(pst.TagSentRepresentingSMTPAddress, pst.TypeString), tag(pst.TagSentRepresentingAddrType, pst.TypeString),
		tag(pst.TagSenderName, pst.TypeString), tag(pst.TagSenderEmailAddress, pst.TypeString),
		tag(pst.TagSenderSMTPAddress, pst.TypeString), tag(pst.TagSenderAddrType, pst.TypeString),
		apptLID(0x8233, pst.TypeBinary), // PidLidTimeZoneStruct
		PropKeywords, PropGlobalObjectID, PropCleanGlobalObjID, PropBusyStatus, PropLocation,
		PropStartWhole, PropEndWhole, PropSubType, PropRecur, PropStateFlags, PropRecurring,
		PropTZDescription, PropTZDefStart, PropTZDefEnd, PropTZDefRecur, PropSequence,
		PropReminderDelta, PropReminderSet, PropCommonStart, PropCommonEnd, PropRRule, PropUTC,
	}
	ContactProps = contactProps()
)

// contactReadTags and contactReadLIDs are the tagged and PSETID_Address
// properties pst/contact reads (pst/contact/ids.go); TestReadPathSamples
// checks that nothing it uses is missing.
var contactReadTags = []uint16{
	0x3A05, 0x3A06, 0x3A11, 0x3A44, 0x3A45, 0x3A4F, 0x3A16, 0x3A17, 0x3A18, 0x3A19, 0x3A46, 0x3A30,
	0x3A4E, 0x3A48, 0x3A58, 0x3A4D, 0x3A42, 0x3A41, 0x3A50, 0x3A51, 0x3A43, 0x3A0C, 0x3A0D, 0x3A00,
	0x3A49, 0x3A4A, 0x3A07, 0x3A10, 0x3A4C, 0x3A47, 0x3A08, 0x3A1B, 0x3A09, 0x3A2F, 0x3A1C, 0x3A24,
	0x3A25, 0x3A23, 0x3A21, 0x3A1E, 0x3A2E, 0x3A02, 0x3A57, 0x3A1A, 0x3A1D, 0x3A2C, 0x3A4B, 0x3A2D,
	0x3A1F, 0x3A5D, 0x3A59, 0x3A5C, 0x3A5B, 0x3A5A, 0x3A5E, 0x3A63, 0x3A5F, 0x3A62, 0x3A61, 0x3A60,
	0x3A64, 0x3A29, 0x3A27, 0x3A28, 0x3A2A, 0x3A26, 0x3A2B, 0x3A15,
}

var contactReadLIDs = []uint32{
	0x8005, 0x8022, 0x801A, 0x801B, 0x801C, 0x802B, 0x802C, 0x802D, 0x802E, 0x8045, 0x8046, 0x8047,
	0x8048, 0x8049, 0x804A, 0x804F, 0x8050, 0x8051, 0x8052, 0x8062, 0x80D8, 0x80DE, 0x80DF, 0x8080,
	0x8082, 0x8083, 0x8084,
}

// contactTimeTags are the PT_SYSTIME ones among contactReadTags; the
// others are strings except Gender (PT_SHORT).
var contactTimeTags = map[uint16]bool{0x3A42: true, 0x3A41: true}

func contactProps() []PropRef {
	out := []PropRef{
		tag(pst.TagDisplayName, pst.TypeString), tag(pst.TagSubject, pst.TypeString),
		tag(pst.TagNormalizedSubject, pst.TypeString), tag(pst.TagBody, pst.TypeString),
		tag(pst.TagSensitivity, pst.TypeInt32), tag(pst.TagSearchKey, pst.TypeBinary),
		tag(pst.TagRecordKey, pst.TypeBinary), tag(pst.TagEntryID, pst.TypeBinary),
		tag(pst.TagLastModificationTime, pst.TypeTime), tag(pst.TagCreationTime, pst.TypeTime),
		PropKeywords, PropPostalAddressID, PropBirthdayLocal, PropAnnivLocal, PropHasPicture,
	}
	for _, t := range contactReadTags {
		typ := pst.TypeString
		switch {
		case contactTimeTags[t]:
			typ = pst.TypeTime
		case t == 0x3A4D:
			typ = pst.TypeInt16
		}
		out = append(out, tag(t, typ))
	}
	for _, l := range contactReadLIDs {
		typ := pst.TypeString
		switch l {
		case 0x8022: // PostalAddressId
			typ = pst.TypeInt32
		case 0x80DE, 0x80DF: // birthday, anniversary (local)
			typ = pst.TypeTime
		}
		out = append(out, addrLID(l, typ))
		if l >= 0x8080 && l <= 0x8084 { // Email2 and Email3 at +0x10, +0x20
			out = append(out, addrLID(l+0x10, typ), addrLID(l+0x20, typ))
		}
	}
	for _, r := range ContactFields {
		out = append(out, r)
	}
	return dedup(out)
}

func dedup(rs []PropRef) []PropRef {
	seen := map[string]bool{}
	var out []PropRef
	for _, r := range rs {
		k := r.DASL()
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	return out
}

// PropBag builds the property bag of an item from values by PropRef, as
// the PST reader would give it: named properties get ids from 0x8000 on,
// resolved through the bag's namer.
type PropBag struct {
	namer pst.MapNamer
	props []pst.Property
	next  uint16
}

// NewPropBag returns an empty bag.
func NewPropBag() *PropBag { return &PropBag{namer: pst.MapNamer{}, next: 0x8000} }

// Set stores v (of the Go type pst.Property.Value documents for r.Type).
func (b *PropBag) Set(r PropRef, v any) {
	id := r.Tag
	if id == 0 {
		k := r.Key()
		var ok bool
		if id, ok = b.namer[k]; !ok {
			id = b.next
			b.next++
			b.namer[k] = id
		}
	}
	for i := range b.props {
		if b.props[i].ID == id {
			b.props[i] = pst.Property{ID: id, Type: r.Type, Value: v}
			return
		}
	}
	b.props = append(b.props, pst.Property{ID: id, Type: r.Type, Value: v})
}

// Props returns the bag as pst.Props.
func (b *PropBag) Props() *pst.Props { return pst.NewProps(b.namer, b.props...) }
