package mail

import (
	"bytes"
	"encoding/binary"
	"strings"
	"unicode/utf16"
)

// entryAddr is what an EntryID tells about a recipient.
type entryAddr struct {
	name, addrType, email string
}

var (
	// MAPI_ONE_OFF_UID ([MS-OXCDATA] 2.2.5.1).
	oneOffUID = []byte{0x81, 0x2B, 0x1F, 0xA4, 0xBE, 0xA3, 0x10, 0x19, 0x9D, 0x6E, 0x00, 0xDD, 0x01, 0x0F, 0x54, 0x02}
	// Address Book EntryID provider ([MS-OXCDATA] 2.2.5.2).
	abUID = []byte{0xDC, 0xA7, 0x40, 0xC8, 0xC0, 0x42, 0x10, 0x1A, 0xB4, 0xB9, 0x08, 0x00, 0x2B, 0x2F, 0xE1, 0x82}
)

// parseFlatEntryList parses a FlatEntryList ([MS-OXCDATA] 2.3.3), as in
// PidTagReplyRecipientEntries, into the EntryIDs it holds. Malformed
// input yields the entries read so far.
func parseFlatEntryList(b []byte) [][]byte {
	if len(b) < 8 {
		return nil
	}
	count := binary.LittleEndian.Uint32(b[0:4])
	b = b[8:] // skip count and total size
	var out [][]byte
	for i := uint32(0); i < count && len(b) >= 4; i++ {
		n := binary.LittleEndian.Uint32(b[0:4])
		b = b[4:]
		if uint64(n) > uint64(len(b)) {
			break
		}
		out = append(out, b[:n])
		pad := (4 - n%4) % 4
		adv := uint64(n) + uint64(pad)
		if adv > uint64(len(b)) {
			break
		}
		b = b[adv:]
	}
	return out
}

// parseEntryID decodes a One-Off EntryID (display name, address type,
// address) or an Address Book EntryID (type "EX" with the X500 DN).
func parseEntryID(e []byte) (entryAddr, bool) {
	if len(e) < 20 {
		return entryAddr{}, false
	}
	uid := e[4:20]
	switch {
	case bytes.Equal(uid, oneOffUID):
		if len(e) < 24 {
			return entryAddr{}, false
		}
		flags := binary.LittleEndian.Uint16(e[22:24])
		rest := e[24:]
		var fields [3]string
		for i := range fields {
			var s string
			if flags&0x8000 != 0 {
				s, rest = cutUTF16(rest)
			} else {
				s, rest = cutString8(rest)
			}
			fields[i] = s
		}
		return entryAddr{name: fields[0], addrType: fields[1], email: fields[2]}, true
	case bytes.Equal(uid, abUID):
		// Version (4), Type (4), X500DN (NUL-terminated).
		if len(e) < 28 {
			return entryAddr{}, false
		}
		dn, _ := cutString8(e[28:])
		if dn == "" {
			return entryAddr{}, false
		}
		return entryAddr{addrType: "EX", email: dn}, true
	}
	return entryAddr{}, false
}

func cutUTF16(b []byte) (string, []byte) {
	var u []uint16
	for len(b) >= 2 {
		c := binary.LittleEndian.Uint16(b)
		b = b[2:]
		if c == 0 {
			return string(utf16.Decode(u)), b
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u)), nil
}

func cutString8(b []byte) (string, []byte) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return decodeBytes(b, false, 0), nil
	}
	return decodeBytes(b[:i], false, 0), b[i+1:]
}

// replyTo returns the Reply-To entries: from PidTagReplyRecipientEntries,
// with names from PidTagReplyRecipientNames when an entry lacks one.
func replyToEntries(entries []byte, names string) []entryAddr {
	ids := parseFlatEntryList(entries)
	var nameList []string
	if names != "" {
		for _, n := range strings.Split(names, ";") {
			nameList = append(nameList, strings.TrimSpace(n))
		}
	}
	var out []entryAddr
	for i, id := range ids {
		a, ok := parseEntryID(id)
		if !ok {
			continue
		}
		if a.name == "" && i < len(nameList) {
			a.name = nameList[i]
		}
		out = append(out, a)
	}
	return out
}
