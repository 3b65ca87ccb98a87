package contact

import "github.com/pstsync/pstsync/pst"

// Tagged property ids used by contacts ([MS-OXOCNTC] 2.2.1, [MS-OXPROPS]).
const (
	tagGeneration          uint16 = 0x3A05 // PidTagGeneration (name suffix)
	tagGivenName           uint16 = 0x3A06
	tagSurname             uint16 = 0x3A11
	tagMiddleName          uint16 = 0x3A44
	tagDisplayNamePrefix   uint16 = 0x3A45
	tagNickname            uint16 = 0x3A4F
	tagCompanyName         uint16 = 0x3A16
	tagTitle               uint16 = 0x3A17
	tagDepartmentName      uint16 = 0x3A18
	tagOfficeLocation      uint16 = 0x3A19
	tagProfession          uint16 = 0x3A46
	tagAssistant           uint16 = 0x3A30
	tagManagerName         uint16 = 0x3A4E
	tagSpouseName          uint16 = 0x3A48
	tagChildrensNames      uint16 = 0x3A58
	tagGender              uint16 = 0x3A4D
	tagBirthday            uint16 = 0x3A42
	tagWeddingAnniversary  uint16 = 0x3A41
	tagPersonalHomePage    uint16 = 0x3A50
	tagBusinessHomePage    uint16 = 0x3A51
	tagHobbies             uint16 = 0x3A43
	tagLanguage            uint16 = 0x3A0C
	tagLocation            uint16 = 0x3A0D
	tagAccount             uint16 = 0x3A00
	tagComputerNetworkName uint16 = 0x3A49
	tagCustomerID          uint16 = 0x3A4A
	tagGovernmentIDNumber  uint16 = 0x3A07
	tagOrganizationalIDNum uint16 = 0x3A10
	tagFtpSite             uint16 = 0x3A4C
	tagReferredByName      uint16 = 0x3A47

	// Telephone numbers.
	tagBusinessPhone    uint16 = 0x3A08
	tagBusiness2Phone   uint16 = 0x3A1B
	tagHomePhone        uint16 = 0x3A09
	tagHome2Phone       uint16 = 0x3A2F
	tagMobilePhone      uint16 = 0x3A1C
	tagBusinessFax      uint16 = 0x3A24
	tagHomeFax          uint16 = 0x3A25
	tagPrimaryFax       uint16 = 0x3A23
	tagPagerPhone       uint16 = 0x3A21
	tagCarPhone         uint16 = 0x3A1E
	tagAssistantPhone   uint16 = 0x3A2E
	tagCallbackPhone    uint16 = 0x3A02
	tagCompanyMainPhone uint16 = 0x3A57
	tagPrimaryPhone     uint16 = 0x3A1A
	tagRadioPhone       uint16 = 0x3A1D
	tagTelexNumber      uint16 = 0x3A2C
	tagTTYTDDPhone      uint16 = 0x3A4B
	tagISDNNumber       uint16 = 0x3A2D
	tagOtherPhone       uint16 = 0x3A1F

	// Home address (PidTagHomeAddress*).
	tagHomeStreet     uint16 = 0x3A5D
	tagHomeCity       uint16 = 0x3A59
	tagHomeState      uint16 = 0x3A5C
	tagHomePostalCode uint16 = 0x3A5B
	tagHomeCountry    uint16 = 0x3A5A
	tagHomePOBox      uint16 = 0x3A5E

	// Other address (PidTagOtherAddress*).
	tagOtherStreet     uint16 = 0x3A63
	tagOtherCity       uint16 = 0x3A5F
	tagOtherState      uint16 = 0x3A62
	tagOtherPostalCode uint16 = 0x3A61
	tagOtherCountry    uint16 = 0x3A60
	tagOtherPOBox      uint16 = 0x3A64

	// Mailing address copy (PidTagStreetAddress etc.), used only when no
	// typed address carries the data.
	tagStreetAddress uint16 = 0x3A29
	tagLocality      uint16 = 0x3A27
	tagStateOrProv   uint16 = 0x3A28
	tagPostalCode    uint16 = 0x3A2A
	tagCountry       uint16 = 0x3A26
	tagPostOfficeBox uint16 = 0x3A2B
	tagPostalAddress uint16 = 0x3A15
)

// Named properties in PSETID_Address (LIDs).
const (
	lidFileUnder            uint32 = 0x8005
	lidPostalAddressID      uint32 = 0x8022
	lidHomeAddress          uint32 = 0x801A
	lidWorkAddress          uint32 = 0x801B
	lidOtherAddress         uint32 = 0x801C
	lidHTML                 uint32 = 0x802B
	lidYomiFirstName        uint32 = 0x802C
	lidYomiLastName         uint32 = 0x802D
	lidYomiCompanyName      uint32 = 0x802E
	lidWorkAddressStreet    uint32 = 0x8045
	lidWorkAddressCity      uint32 = 0x8046
	lidWorkAddressState     uint32 = 0x8047
	lidWorkAddressPostal    uint32 = 0x8048
	lidWorkAddressCountry   uint32 = 0x8049
	lidWorkAddressPOBox     uint32 = 0x804A
	lidUserField1           uint32 = 0x804F
	lidUserField2           uint32 = 0x8050
	lidUserField3           uint32 = 0x8051
	lidUserField4           uint32 = 0x8052
	lidDistListName         uint32 = 0x8053
	lidDistListOneOffMember uint32 = 0x8054
	lidDistListMembers      uint32 = 0x8055
	lidIMAddress            uint32 = 0x8062
	lidFreeBusyLocation     uint32 = 0x80D8
	lidBirthdayLocal        uint32 = 0x80DE
	lidWeddingAnnivLocal    uint32 = 0x80DF

	lidEmail1DisplayName  uint32 = 0x8080
	lidEmail1AddrType     uint32 = 0x8082
	lidEmail1Address      uint32 = 0x8083
	lidEmail1OrigDispName uint32 = 0x8084
	// Email2 and Email3 are at +0x10 and +0x20.
	emailStride uint32 = 0x10
)

// Keywords is PidNameKeywords, the string-named categories property.
const nameKeywords = "Keywords"

func named(p *pst.Props, lid uint32) uint16 { return p.NamedID(pst.PSETIDAddress, lid) }
