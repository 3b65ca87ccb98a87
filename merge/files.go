package merge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"
)

// ItemProblem is one item of a file that could not be decoded (skipped).
type ItemProblem struct {
	Index int
	UID   string
	Err   error
}

// FileItems is what one .ics or .vcf file holds.
type FileItems struct {
	Docs     []*Doc        // every item decoded, in file order; duplicates (same UID) included; UID "" when the item has none
	Problems []ItemProblem // items that could not be decoded
	Complete bool          // the file was read to its proper end (END:VCALENDAR / last END:VCARD), not cut short
}

// noUID stands in for a missing UID while an item is converted (the
// conversions need one); the Doc gets UID "" back.
const noUID = "pstsync-no-uid-placeholder"

// ReadICSFile splits an iCalendar file into one Doc per item: a master
// component with the overrides (RECURRENCE-ID) that share its UID, each
// with the VTIMEZONEs of its calendar. A second master with a UID already
// seen starts a second Doc with that UID (the caller decides what a
// duplicate is). Reading is lenient: an item that cannot be converted is a
// Problem, the others are kept; a file cut short (no END:VCALENDAR) or
// that the decoder cannot read to its end is not Complete. It never
// panics.
func ReadICSFile(data []byte) (out FileItems) {
	defer func() {
		if p := recover(); p != nil {
			out.Complete = false
			out.Problems = append(out.Problems, ItemProblem{Index: len(out.Docs), Err: fmt.Errorf("iCalendar decoder failed: %v", p)})
		}
	}()
	out.Complete = len(bytes.TrimSpace(data)) == 0 || endsWith(data, "END:VCALENDAR")
	dec := ical.NewDecoder(bytes.NewReader(data))
	idx := 0
	for {
		c, err := dec.Decode()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			out.Complete = false
			out.Problems = append(out.Problems, ItemProblem{Index: idx, Err: fmt.Errorf("not a valid iCalendar file: %w", err)})
			return out
		}
		var zones []*ical.Component
		type group struct {
			uid   string
			comps []*ical.Component
		}
		var groups []*group
		masters := map[string]*group{} // UID → its latest group
		for _, ch := range c.Children {
			switch ch.Name {
			case ical.CompTimezone:
				zones = append(zones, ch)
			case ical.CompEvent, ical.CompToDo, ical.CompJournal:
				uid := ""
				if p := ch.Props.Get(ical.PropUID); p != nil {
					uid = p.Value
				}
				isMaster := ch.Props.Get(ical.PropRecurrenceID) == nil
				g := masters[uid]
				if uid == "" || g == nil || (isMaster && hasMaster(g.comps)) {
					g = &group{uid: uid}
					groups = append(groups, g)
					if uid != "" {
						masters[uid] = g
					}
				}
				g.comps = append(g.comps, ch)
			}
		}
		for _, g := range groups {
			d, err := calendarDoc(zones, g.comps, g.uid)
			if err != nil {
				out.Problems = append(out.Problems, ItemProblem{Index: idx, UID: g.uid, Err: err})
			} else {
				out.Docs = append(out.Docs, d)
			}
			idx++
		}
	}
	return out
}

func hasMaster(cs []*ical.Component) bool {
	for _, c := range cs {
		if c.Props.Get(ical.PropRecurrenceID) == nil {
			return true
		}
	}
	return false
}

func calendarDoc(zones, comps []*ical.Component, uid string) (d *Doc, err error) {
	defer func() {
		if p := recover(); p != nil {
			d, err = nil, fmt.Errorf("iCalendar item: %v", p)
		}
	}()
	if uid == "" {
		for _, c := range comps {
			c.Props.SetText(ical.PropUID, noUID)
		}
	}
	cl := ical.NewCalendar()
	cl.Props.SetText(ical.PropVersion, "2.0")
	cl.Props.SetText(ical.PropProductID, ProdID)
	cl.Children = append(append([]*ical.Component{}, zones...), comps...)
	d, err = FromCalendar(cl)
	if err != nil {
		return nil, err
	}
	if uid == "" {
		d.UID = ""
	}
	return d, nil
}

// ReadVCFFile reads every card of a vCard file. Reading is lenient: a card
// that cannot be converted is a Problem; a file whose last card has no
// END:VCARD, or that the decoder cannot read to its end, is not Complete.
// It never panics.
func ReadVCFFile(data []byte) (out FileItems) {
	defer func() {
		if p := recover(); p != nil {
			out.Complete = false
			out.Problems = append(out.Problems, ItemProblem{Index: len(out.Docs), Err: fmt.Errorf("vCard decoder failed: %v", p)})
		}
	}()
	out.Complete = len(bytes.TrimSpace(data)) == 0 || endsWith(data, "END:VCARD")
	dec := vcard.NewDecoder(bytes.NewReader(data))
	for i := 0; ; i++ {
		c, err := dec.Decode()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			out.Complete = false
			out.Problems = append(out.Problems, ItemProblem{Index: i, Err: fmt.Errorf("not a valid vCard file: %w", err)})
			return out
		}
		uid := c.Value(vcard.FieldUID)
		d, err := cardDoc(c, uid)
		if err != nil {
			out.Problems = append(out.Problems, ItemProblem{Index: i, UID: uid, Err: fmt.Errorf("card %d: %w", i+1, err)})
			continue
		}
		out.Docs = append(out.Docs, d)
	}
	return out
}

func cardDoc(c vcard.Card, uid string) (d *Doc, err error) {
	defer func() {
		if p := recover(); p != nil {
			d, err = nil, fmt.Errorf("vCard: %v", p)
		}
	}()
	if strings.TrimSpace(uid) == "" {
		c.SetValue(vcard.FieldUID, noUID)
	}
	d, err = FromVCard(c)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(uid) == "" {
		d.UID = ""
	}
	return d, nil
}

// endsWith reports whether the last non-blank line of data is end
// (case-insensitive).
func endsWith(data []byte, end string) bool {
	t := bytes.TrimRight(data, " \t\r\n")
	i := bytes.LastIndexByte(t, '\n')
	return strings.EqualFold(strings.TrimSpace(string(t[i+1:])), end)
}
