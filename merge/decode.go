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
