package merge

import (
	"fmt"
)

// DecodeVCard parses one vCard from data (merge's own lenient reader, any
// of vCard 2.1, 3.0 and 4.0) and converts it with FromVCard.
func DecodeVCard(data []byte) (*Doc, error) {
	c, err := decodeVCardCard(data)
	if err != nil {
		return nil, fmt.Errorf("merge: decode vCard: %w", err)
	}
	return FromVCard(c)
}

// DecodeCalendar parses an iCalendar stream holding one item (merge's own
// lenient reader) and converts it with FromCalendar.
func DecodeCalendar(data []byte) (*Doc, error) {
	c, err := decodeICSCalendar(data)
	if err != nil {
		return nil, err
	}
	return FromCalendar(c)
}

// ParseObject decodes a snapshot object of the given kind (the bytes
// Canonical wrote) back into a Doc: Canonical's inverse, so that
// Canonical(ParseObject(Canonical(d))) is Canonical(d).
func ParseObject(data []byte, kind Kind) (*Doc, error) {
	switch {
	case kind == KindContact:
		return DecodeVCard(data)
	case kind.IsCalendar():
		return DecodeCalendar(data)
	case kind == KindMessage:
		return decodeMessageRecord(data)
	}
	return nil, fmt.Errorf("merge: unknown kind %q", kind)
}
