package merge

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"
)

// ErrNotItem is wrapped by the problem of a component that is not an item
// pstsync syncs (VFREEBUSY, VAVAILABILITY, an X- component, a VTIMEZONE or
// VALARM outside a calendar): it is reported, and it is no damage.
var ErrNotItem = errors.New("not a calendar item pstsync syncs")

// ItemProblem is one item of a file that could not be decoded (skipped).
type ItemProblem struct {
	Index int    // position of the item in the file (0-based); -1 for a line outside any item
	UID   string // its UID when it could be read
	Err   error
}

func (p ItemProblem) Error() string {
	switch {
	case p.Index < 0:
		return p.Err.Error()
	case p.UID != "":
		return fmt.Sprintf("item %d (UID %q): %v", p.Index+1, p.UID, p.Err)
	}
	return fmt.Sprintf("item %d: %v", p.Index+1, p.Err)
}

// FileItems is what one .ics or .vcf file holds.
type FileItems struct {
	// Docs are every item decoded, in file order; duplicates (same UID)
	// included; UID "" when the item has none.
	Docs []*Doc
	// Problems are the items that could not be decoded.
	Problems []ItemProblem
	// Complete reports that the file was read to its proper end
	// (END:VCALENDAR / the last END:VCARD), not cut short. An empty file
	// is complete; a file with no calendar or card in it is not.
	Complete bool
}

// noUID stands in for a missing UID while an item is converted (the
// conversions require one); the Doc returned has UID "".
const noUID = "pstsync-no-uid-7f3a9c1e5b"

// ReadICSFile decodes every item of an iCalendar file: each VEVENT, VTODO
// or VJOURNAL master with its RECURRENCE-ID overrides (grouped by UID
// within the file) and the VTIMEZONEs they refer to. It never fails as a
// whole: a component it cannot read is a Problem and the others still
// decode. A second master with the UID of an earlier one is its own Doc,
// and so is a second override of one instance (the caller decides what
// they become). Calendar-level properties
// (METHOD, X-WR-CALNAME...) are not part of any item.
func ReadICSFile(data []byte) (fi FileItems) {
	defer func() {
		if p := recover(); p != nil { // a bug, not the input's fault: keep the file out of the sync
			fi = FileItems{Problems: []ItemProblem{{Index: -1, Err: fmt.Errorf("merge: reading iCalendar: %v", p)}}}
		}
	}()
	if strings.TrimSpace(string(data)) == "" {
		return FileItems{Complete: true}
	}
	st := readICSStream(data)
	fi.Complete = st.complete && len(st.top) > 0
	for _, err := range st.stray {
		fi.Problems = append(fi.Problems, ItemProblem{Index: -1, Err: err})
	}
	index := 0
	for _, top := range st.top {
		if _, item := kindOfComp(top.comp.Name); item {
			// A bare VEVENT (some clients export single items so): read
			// it as the calendar it belongs in.
			top = &icsNode{comp: &ical.Component{Name: ical.CompCalendar, Props: ical.Props{}, Children: []*ical.Component{top.comp}}}
		}
		if top.comp.Name != ical.CompCalendar {
			fi.Problems = append(fi.Problems, ItemProblem{Index: -1, Err: fmt.Errorf("%s outside VCALENDAR: %w", top.comp.Name, ErrNotItem)})
			continue
		}
		if top.own != nil {
			fi.Problems = append(fi.Problems, ItemProblem{Index: -1, Err: top.own})
		}
		index = readCalendarItems(&fi, top.comp, st.nodes, index)
	}
	return fi
}

// icsGroup is one item of a calendar: a master and its overrides.
type icsGroup struct {
	index  int
	uid    string
	kind   string
	comps  []*ical.Component
	master bool
	rids   map[string]bool // instances of the overrides in comps
}

func readCalendarItems(fi *FileItems, cal *ical.Component, nodes map[*ical.Component]*icsNode, index int) int {
	zones := map[string]*ical.Component{}
	badZones := map[string]error{}
	var groups []*icsGroup
	byKey := map[string]*icsGroup{} // kind + UID -> the group overrides join
	for _, ch := range cal.Children {
		n := nodes[ch]
		if ch.Name == ical.CompTimezone {
			if n != nil && n.err != nil {
				// The items that use it are problems too (groupDoc):
				// without their zone their times would change.
				fi.Problems = append(fi.Problems, ItemProblem{Index: -1, Err: fmt.Errorf("VTIMEZONE: %w", n.err)})
				badZones[propValue(ch.Props, ical.PropTimezoneID)] = n.err
				continue
			}
			if tzid := propValue(ch.Props, ical.PropTimezoneID); tzid != "" {
				if _, dup := zones[tzid]; !dup {
					zones[tzid] = ch
				}
			}
			continue
		}
		i := index
		index++
		uid := ""
		if ps := ch.Props[ical.PropUID]; len(ps) > 0 {
			uid = unescapeICSText(legacyText(ps[0].Value))
		}
		if _, ok := kindOfComp(ch.Name); !ok {
			fi.Problems = append(fi.Problems, ItemProblem{Index: i, UID: uid, Err: fmt.Errorf("%s: %w", ch.Name, ErrNotItem)})
			continue
		}
		if n != nil && n.err != nil {
			fi.Problems = append(fi.Problems, ItemProblem{Index: i, UID: uid, Err: n.err})
			continue
		}
		isOverride := len(ch.Props[ical.PropRecurrenceID]) > 0
		key := ch.Name + "\x00" + uid
		g := byKey[key]
		switch {
		case strings.TrimSpace(uid) == "":
			g = nil // every item without a UID is its own
		case isOverride && g != nil && hasInstance(g, ch):
			g = nil // a second version of one instance: kept apart, like a second master
		case isOverride && g != nil:
		case !isOverride && g != nil && !g.master:
			g.master = true // overrides came first; this is their master
			g.comps = append([]*ical.Component{ch}, g.comps...)
			continue
		default:
			g = nil
		}
		if g == nil {
			g = &icsGroup{index: i, uid: uid, kind: ch.Name, master: !isOverride}
			if isOverride {
				hasInstance(g, ch)
			}
			groups = append(groups, g)
			if _, taken := byKey[key]; !taken && strings.TrimSpace(uid) != "" {
				byKey[key] = g // a second master does not take the overrides
			}
		}
		g.comps = append(g.comps, ch)
	}
	for _, g := range groups {
		d, err := groupDoc(g, zones, badZones)
		if err != nil {
			fi.Problems = append(fi.Problems, ItemProblem{Index: g.index, UID: g.uid, Err: err})
			continue
		}
		fi.Docs = append(fi.Docs, d)
	}
	return index
}

// hasInstance reports whether g already holds an override of the instance
// the override o is of, and records o's instance when it does not.
func hasInstance(g *icsGroup, o *ical.Component) bool {
	rid := strings.TrimSpace(propValue(o.Props, ical.PropRecurrenceID))
	if g.rids == nil {
		g.rids = map[string]bool{}
	}
	if g.rids[rid] {
		return true
	}
	g.rids[rid] = true
	return false
}

// groupDoc converts one item with the zones its properties name.
func groupDoc(g *icsGroup, zones map[string]*ical.Component, badZones map[string]error) (*Doc, error) {
	cal := ical.NewCalendar()
	need := map[string]bool{}
	for _, c := range g.comps {
		zoneRefs(c, need, 0)
	}
	for tzid := range need {
		if err := badZones[tzid]; err != nil && zones[tzid] == nil {
			return nil, fmt.Errorf("its VTIMEZONE %q cannot be read: %w", tzid, err)
		}
	}
	for tzid := range need {
		if z := zones[tzid]; z != nil {
			cal.Children = append(cal.Children, z)
		}
	}
	comps := g.comps
	if strings.TrimSpace(g.uid) == "" {
		comps = make([]*ical.Component, len(g.comps))
		for i, c := range g.comps {
			cp := *c
			cp.Props = make(ical.Props, len(c.Props))
			for k, v := range c.Props {
				cp.Props[k] = v
			}
			cp.Props[ical.PropUID] = []ical.Prop{{Name: ical.PropUID, Value: noUID, Params: ical.Params{}}}
			comps[i] = &cp
		}
	}
	cal.Children = append(cal.Children, comps...)
	d, err := FromCalendar(cal)
	if err != nil {
		return nil, err
	}
	if d.UID == noUID {
		d.UID = ""
	}
	return d, nil
}

// zoneRefs adds the TZID parameter values of c's properties (and its
// children's) to need.
func zoneRefs(c *ical.Component, need map[string]bool, depth int) {
	for _, ps := range c.Props {
		for _, p := range ps {
			for _, t := range p.Params[ical.ParamTimezoneID] {
				need[t] = true
			}
		}
	}
	if depth < maxICSDepth {
		for _, ch := range c.Children {
			zoneRefs(ch, need, depth+1)
		}
	}
}

// ReadVCFFile decodes every card of a vCard file (2.1, 3.0 or 4.0). It
// never fails as a whole: a card it cannot read is a Problem and the
// others still decode.
func ReadVCFFile(data []byte) (fi FileItems) {
	defer func() {
		if p := recover(); p != nil {
			fi = FileItems{Problems: []ItemProblem{{Index: -1, Err: fmt.Errorf("merge: reading vCard: %v", p)}}}
		}
	}()
	if strings.TrimSpace(string(data)) == "" {
		return FileItems{Complete: true}
	}
	st := readVCardStream(data)
	fi.Complete = st.complete && len(st.cards) > 0
	for _, err := range st.stray {
		fi.Problems = append(fi.Problems, ItemProblem{Index: -1, Err: err})
	}
	for i, rc := range st.cards {
		uid := rc.card.Value(vcard.FieldUID)
		if rc.err != nil {
			fi.Problems = append(fi.Problems, ItemProblem{Index: i, UID: uid, Err: rc.err})
			continue
		}
		c := rc.card
		if strings.TrimSpace(uid) == "" {
			c = make(vcard.Card, len(rc.card))
			for k, v := range rc.card {
				c[k] = v
			}
			c[vcard.FieldUID] = []*vcard.Field{{Value: noUID}}
		}
		d, err := FromVCard(c)
		if err != nil {
			fi.Problems = append(fi.Problems, ItemProblem{Index: i, UID: uid, Err: err})
			continue
		}
		if d.UID == noUID {
			d.UID = ""
		}
		fi.Docs = append(fi.Docs, d)
	}
	return fi
}
