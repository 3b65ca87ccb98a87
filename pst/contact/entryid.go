package contact

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Provider UIDs as stored on disk ([MS-OXCDATA] 2.2.5.1, [MS-OXOCNTC]
// 2.2.2.2.4.1.1).
var (
	oneOffProviderUID  = []byte{0x81, 0x2B, 0x1F, 0xA4, 0xBE, 0xA3, 0x10, 0x19, 0x9D, 0x6E, 0x00, 0xDD, 0x01, 0x0F, 0x54, 0x02}
	wrappedProviderUID = []byte{0xC0, 0x91, 0xAD, 0xD3, 0x51, 0x9D, 0xCF, 0x11, 0xA4, 0xA9, 0x00, 0xAA, 0x00, 0x47, 0xFA, 0xA4}
)

// One-off EntryID flag bits (the 16-bit little-endian word after the
// version).
const (
	oneOffUnicode    = 0x8000 // MAPI_ONE_OFF_UNICODE
	oneOffNoRichInfo = 0x0001 // MAPI_ONE_OFF_NO_RICH_INFO
)

// Errors returned by the entry id parsers.
var (
	ErrShortEntryID   = errors.New("contact: entry id too short")
	ErrNotOneOff      = errors.New("contact: not a one-off entry id")
	ErrNotWrapped     = errors.New("contact: not a wrapped entry id")
	ErrBadStringField = errors.New("contact: unterminated string in entry id")
)

// OneOff is a decoded One-Off EntryID ([MS-OXCDATA] 2.2.5.1): a recipient
// that exists only inside the id.
type OneOff struct {
	DisplayName string
	AddressType string // "SMTP", "EX", ...
	Address     string
	Unicode     bool // strings were UTF-16LE (else 8-bit)
	NoRichInfo  bool
}

// IsOneOff reports whether b carries the one-off provider UID.
func IsOneOff(b []byte) bool {
	return len(b) >= 20 && bytes.Equal(b[4:20], oneOffProviderUID)
}

// ParseOneOff decodes a One-Off EntryID. 8-bit strings are decoded as
// UTF-8 when valid, else as Windows-1252.
func ParseOneOff(b []byte) (OneOff, error) {
	var o OneOff
	if len(b) < 24 {
		return o, ErrShortEntryID
	}
	if !IsOneOff(b) {
		return o, ErrNotOneOff
	}
	flags := binary.LittleEndian.Uint16(b[22:24])
	o.Unicode = flags&oneOffUnicode != 0
	o.NoRichInfo = flags&oneOffNoRichInfo != 0
	rest := b[24:]
	fields := make([]string, 3)
	for i := range fields {
		var s string
		var err error
		if o.Unicode {
			s, rest, err = cutUTF16Z(rest)
		} else {
			s, rest, err = cut8Z(rest)
		}
		if err != nil {
			// A truncated last field is tolerated when the earlier ones
			// decoded: keep what we have.
			if i == 0 {
				return o, fmt.Errorf("one-off display name: %w", err)
			}
			fields[i] = s
			break
		}
		fields[i] = s
	}
	o.DisplayName, o.AddressType, o.Address = fields[0], fields[1], fields[2]
	return o, nil
}

func cutUTF16Z(b []byte) (string, []byte, error) {
	for i := 0; i+1 < len(b); i += 2 {
		if b[i] == 0 && b[i+1] == 0 {
			return decodeUTF16(b[:i]), b[i+2:], nil
		}
	}
	return decodeUTF16(b[:len(b)&^1]), nil, ErrBadStringField
}

func decodeUTF16(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

func cut8Z(b []byte) (string, []byte, error) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return decode8(b), nil, ErrBadStringField
	}
	return decode8(b[:i]), b[i+1:], nil
}

// cp1252 maps 0x80..0x9F of Windows-1252; other bytes map to Latin-1.
var cp1252 = [32]rune{
	0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
	0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
}

func decode8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for _, c := range b {
		switch {
		case c >= 0x80 && c < 0xA0:
			sb.WriteRune(cp1252[c-0x80])
		default:
			sb.WriteRune(rune(c))
		}
	}
	return sb.String()
}

// Wrapped entry id types (low 4 bits of the Type byte).
const (
	WrappedOneOff      = 0x0
	WrappedContact     = 0x3
	WrappedPersonalDL  = 0x4
	WrappedGALMailUser = 0x5
	WrappedGALDL       = 0x6
)

// Wrapped is a decoded WrappedEntryId ([MS-OXOCNTC] 2.2.2.2.4.1.1), the
// form PidLidDistributionListMembers uses for members that live elsewhere
// (a contact, another personal distribution list, a GAL entry).
type Wrapped struct {
	Kind int // WrappedContact, WrappedPersonalDL, ...
	// AddressIndex says which electronic address of a contact member is
	// meant: 0 business fax, 1 home fax, 2 primary fax, 3 none (not a
	// contact), 4 Email1, 5 Email2, 6 Email3.
	AddressIndex int
	// Embedded is the inner EntryID: a Message EntryID (for a PST: 4
	// flag bytes, the 16-byte store record key, the 4-byte NID), an
	// Address Book EntryID, or a One-Off EntryID.
	Embedded []byte
}

// EmailIndex returns 1..3 when AddressIndex names Email1..Email3, else 0.
func (w Wrapped) EmailIndex() int {
	if w.AddressIndex >= 4 && w.AddressIndex <= 6 {
		return w.AddressIndex - 3
	}
	return 0
}

// IsWrapped reports whether b carries the wrapped-entry-id provider UID.
func IsWrapped(b []byte) bool {
	return len(b) >= 21 && bytes.Equal(b[4:20], wrappedProviderUID)
}

// ParseWrapped decodes a WrappedEntryId.
func ParseWrapped(b []byte) (Wrapped, error) {
	var w Wrapped
	if len(b) < 21 {
		return w, ErrShortEntryID
	}
	if !IsWrapped(b) {
		return w, ErrNotWrapped
	}
	t := b[20]
	w.Kind = int(t & 0x0F)
	w.AddressIndex = int(t&0x70) >> 4
	w.Embedded = b[21:]
	return w, nil
}

// EntryIDNID returns the node id of a PST message EntryID (4 flag bytes,
// 16-byte provider UID, 4-byte little-endian NID), as found embedded in a
// wrapped entry id of a contact member.
func EntryIDNID(b []byte) (uint32, bool) {
	if len(b) != 24 {
		return 0, false
	}
	nid := binary.LittleEndian.Uint32(b[20:24])
	return nid, nid != 0
}

// Member is one decoded distribution-list member entry id.
type Member struct {
	Name        string
	AddressType string
	Address     string
	// Wrapped is set when the entry id was a WrappedEntryId (pointing at
	// a contact, a list or a GAL entry); its fields then describe the
	// target, and Name/Address come from the embedded one-off (if any).
	Wrapped *Wrapped
}

// ParseMemberEntryID decodes one value of PidLidDistributionListMembers or
// PidLidDistributionListOneOffMembers: a One-Off EntryID or a
// WrappedEntryId (which may itself wrap a one-off).
func ParseMemberEntryID(b []byte) (Member, error) {
	var m Member
	switch {
	case IsOneOff(b):
		o, err := ParseOneOff(b)
		if err != nil {
			return m, err
		}
		m.Name, m.AddressType, m.Address = o.DisplayName, o.AddressType, o.Address
		return m, nil
	case IsWrapped(b):
		w, err := ParseWrapped(b)
		if err != nil {
			return m, err
		}
		m.Wrapped = &w
		if w.Kind == WrappedOneOff || IsOneOff(w.Embedded) {
			o, err := ParseOneOff(w.Embedded)
			if err != nil {
				return m, fmt.Errorf("wrapped one-off: %w", err)
			}
			m.Name, m.AddressType, m.Address = o.DisplayName, o.AddressType, o.Address
		}
		return m, nil
	}
	if len(b) < 20 {
		return m, ErrShortEntryID
	}
	return m, fmt.Errorf("contact: unknown member entry id provider %X", b[4:20])
}
