package merge

import (
	"bytes"
	"fmt"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"
)

// DecodeVCard parses one vCard from data and converts it with FromVCard.
func DecodeVCard(data []byte) (d *Doc, err error) {
	defer func() {
		if p := recover(); p != nil {
			d, err = nil, fmt.Errorf("merge: vCard decoder: %v", p)
		}
	}()
	c, err := vcard.NewDecoder(bytes.NewReader(data)).Decode()
	if err != nil {
		return nil, fmt.Errorf("merge: decode vCard: %w", err)
	}
	return FromVCard(c)
}

// DecodeCalendar parses an iCalendar stream holding one item and converts
// it with FromCalendar. go-ical's decoder panics on some malformed input
// (e.g. "0;0="); that becomes an error here.
func DecodeCalendar(data []byte) (d *Doc, err error) {
	defer func() {
		if p := recover(); p != nil {
			d, err = nil, fmt.Errorf("merge: iCalendar decoder: %v", p)
		}
	}()
	c, err := ical.NewDecoder(bytes.NewReader(data)).Decode()
	if err != nil {
		return nil, fmt.Errorf("merge: decode iCalendar: %w", err)
	}
	return FromCalendar(c)
}
