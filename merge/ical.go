package merge

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-ical"

	"github.com/pstsync/pstsync/sink"
)

// icalMulti are the iCalendar properties with one key per value.
var icalMulti = map[string]bool{
	"ATTENDEE": true, "EXDATE": true, "RDATE": true, "CATEGORIES": true,
	"COMMENT": true, "CONTACT": true, "RESOURCES": true, "ATTACH": true,
	"RELATED-TO": true, "REQUEST-STATUS": true, "IMAGE": true, "CONFERENCE": true,
}

// icalVolatile are carried in Doc.Volatile, never merged.
var icalVolatile = map[string]bool{"DTSTAMP": true, "CREATED": true, "SEQUENCE": true}

const calPrefix = "VCALENDAR/"

func kindOfComp(name string) (Kind, bool) {
	switch name {
	case ical.CompEvent:
		return KindEvent, true
	case ical.CompToDo:
		return KindTodo, true
	case ical.CompJournal:
		return KindJournal, true
	}
	return "", false
}

func compOfKind(k Kind) string {
	switch k {
	case KindTodo:
		return ical.CompToDo
	case KindJournal:
		return ical.CompJournal
	}
	return ical.CompEvent
}

// FromCalendar converts a calendar holding one item (a VEVENT, VTODO or
// VJOURNAL master and its RECURRENCE-ID overrides, as pst/cal produces
// them) to a Doc. VTIMEZONEs go to Doc.Zones; other VCALENDAR properties
// (except PRODID and VERSION) and components become "VCALENDAR/" fields.
func FromCalendar(cal *ical.Calendar) (*Doc, error) {
	if cal == nil || cal.Component == nil {
		return nil, ErrNoComponent
	}
	// The fields: about one per property of the components (a larger
	// hint costs every item kept in memory its room).
	hint := len(cal.Props)
	for _, ch := range cal.Children {
		if ch != nil {
			hint += len(ch.Props) + len(ch.Children)
		}
	}
	d := &Doc{Fields: make(map[string]Field, hint)}
	var master *ical.Component
	var overrides []*ical.Component
	for _, ch := range cal.Children {
		if ch == nil {
			continue
		}
		name := strings.ToUpper(ch.Name)
		if name == ical.CompTimezone {
			tzid := propValue(ch.Props, ical.PropTimezoneID)
			text, err := compText(ch)
			if err != nil {
				return nil, err
			}
			if d.Zones == nil {
				d.Zones = map[string]string{}
			}
			if _, dup := d.Zones[tzid]; !dup {
				d.Zones[tzid] = text
			}
			continue
		}
		k, ok := kindOfComp(name)
		if !ok {
			text, err := compText(ch)
			if err != nil {
				return nil, err
			}
			addField(d.Fields, calPrefix+name, Field{Name: name, Value: text, Comp: true})
			continue
		}
		if d.Kind == "" {
			d.Kind = k
		} else if d.Kind != k {
			return nil, fmt.Errorf("%w: %s and %s", ErrMixedItems, d.Kind, k)
		}
		if len(ch.Props[ical.PropUID]) == 0 {
			return nil, ErrNoUID
		}
		uid := unescapeICSText(icalField(ical.PropUID, ch.Props[ical.PropUID][0]).Value)
		if strings.TrimSpace(uid) == "" {
			return nil, ErrNoUID
		}
		if d.UID == "" {
			d.UID = uid
		} else if d.UID != uid {
			return nil, fmt.Errorf("%w: UIDs %q and %q", ErrMixedItems, d.UID, uid)
		}
		if len(ch.Props[ical.PropRecurrenceID]) > 0 {
			overrides = append(overrides, ch)
			continue
		}
		if master != nil {
			return nil, fmt.Errorf("%w: two %s without RECURRENCE-ID", ErrMixedItems, name)
		}
		master = ch
	}
	if d.Kind == "" {
		return nil, ErrNoComponent
	}
	for _, name := range sortedKeys(cal.Props) {
		if name == ical.PropProductID || name == ical.PropVersion {
			continue
		}
		for _, p := range cal.Props[name] {
			addField(d.Fields, calPrefix+name, icalField(name, p))
		}
	}
	if master != nil {
		if err := addCompFields(d, master, ""); err != nil {
			return nil, err
		}
	}
	for _, o := range overrides {
		rid := strings.TrimSpace(valueText(overrideRID(o).Value))
		prefix := ridPrefix(rid)
		if _, dup := d.Fields[prefix+ical.PropRecurrenceID]; dup {
			continue // a second override of the same instance: first wins
		}
		if err := addCompFields(d, o, prefix); err != nil {
			return nil, err
		}
	}
	// Make sure the canonical encoding exists (odd input could hold
	// something sink's encoder refuses), and keep it: it is the item's
	// snapshot object.
	data, err := calendarCanonical(d)
	if err != nil {
		return nil, fmt.Errorf("merge: calendar cannot be re-encoded: %w", err)
	}
	d.keepCanonical(data)
	return d, nil
}

// overrideRID is the RECURRENCE-ID an override is keyed by. Of several
// (damaged input) it is the one the field key RECURRENCE-ID holds: fields
// of one key are numbered in content order (addField), and the canonical
// encoding writes that one first, so that it reads back under the same
// key (the first in the file would not: found by FuzzReadICSFile).
func overrideRID(o *ical.Component) ical.Prop {
	ps := o.Props[ical.PropRecurrenceID]
	best, bestKey := ps[0], icalField(ical.PropRecurrenceID, ps[0]).String()
	for _, p := range ps[1:] {
		if k := icalField(ical.PropRecurrenceID, p).String(); k < bestKey {
			best, bestKey = p, k
		}
	}
	return best
}

func propValue(props ical.Props, name string) string {
	if ps := props[name]; len(ps) > 0 {
		return ps[0].Value
	}
	return ""
}

func icalField(name string, p ical.Prop) Field {
	f := Field{Name: name, Value: valueText(p.Value)}
	if len(p.Params) > 0 {
		f.Params = make(map[string][]string, len(p.Params))
		for k, vs := range p.Params {
			if len(vs) == 0 {
				continue
			}
			out := make([]string, len(vs))
			for i, v := range vs {
				out[i] = paramText(decodeCarets(v))
			}
			f.Params[strings.ToUpper(k)] = out
		}
		if len(f.Params) == 0 {
			f.Params = nil
		}
	}
	return f
}

func addCompFields(d *Doc, c *ical.Component, prefix string) error {
	for _, name := range sortedKeys(c.Props) {
		switch {
		case name == ical.PropUID:
			continue
		case name == ical.PropLastModified:
			if prefix == "" {
				d.Modified = parseStamp(c.Props[name][0].Value)
			} else {
				setVolatile(d, prefix+name, icalField(name, c.Props[name][0]))
			}
			continue
		case icalVolatile[name]:
			setVolatile(d, prefix+name, icalField(name, c.Props[name][0]))
			continue
		}
		for _, p := range c.Props[name] {
			f := icalField(name, p)
			switch {
			case name == ical.PropExceptionDates || name == ical.PropRecurrenceDates || name == ical.PropCategories:
				for _, v := range splitUnescaped(f.Value, ',') {
					if v = strings.TrimSpace(v); v == "" {
						continue
					}
					g := f.clone()
					g.Value = v
					id := v
					if name == ical.PropCategories {
						id = strings.ToLower(v)
					}
					addField(d.Fields, prefix+name+"="+id, g)
				}
			case name == ical.PropAttendee:
				addField(d.Fields, prefix+name+"="+strings.ToLower(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(f.Value)), "mailto:")), f)
			case icalMulti[name]:
				addField(d.Fields, prefix+name+"="+strings.TrimSpace(f.Value), f)
			default:
				addField(d.Fields, prefix+name, f)
			}
		}
	}
	// Child components (VALARM, ...): all of one name form one key.
	var texts map[string]*strings.Builder
	var names []string
	for _, ch := range c.Children {
		if ch == nil {
			continue
		}
		t, err := compText(ch)
		if err != nil {
			return err
		}
		n := strings.ToUpper(ch.Name)
		if texts == nil {
			texts = map[string]*strings.Builder{}
		}
		if texts[n] == nil {
			texts[n] = &strings.Builder{}
			names = append(names, n)
		}
		texts[n].WriteString(t)
	}
	for _, n := range names {
		d.Fields[prefix+n] = Field{Name: n, Value: texts[n].String(), Comp: true}
	}
	return nil
}

func setVolatile(d *Doc, key string, f Field) {
	if d.Volatile == nil {
		d.Volatile = map[string]Field{}
	}
	d.Volatile[key] = f
}

// compText is the canonical text of a component (sink's encoding, with
// RFC 6868 parameter escapes decoded first so that text read back from a
// file encodes the same).
func compText(c *ical.Component) (string, error) {
	var buf bytes.Buffer
	if err := sink.EncodeICS(&buf, &ical.Calendar{Component: decodeCompCarets(c, 0)}); err != nil {
		return "", fmt.Errorf("merge: component %s: %w", c.Name, err)
	}
	return buf.String(), nil
}

func decodeCompCarets(c *ical.Component, depth int) *ical.Component {
	out := &ical.Component{Name: strings.ToUpper(c.Name), Props: make(ical.Props, len(c.Props))}
	for name, ps := range c.Props {
		cp := make([]ical.Prop, len(ps))
		for i, p := range ps {
			f := icalField(p.Name, p)
			cp[i] = ical.Prop{Name: p.Name, Value: p.Value, Params: ical.Params(f.Params)}
			if cp[i].Params == nil {
				cp[i].Params = ical.Params{}
			}
		}
		out.Props[name] = cp
	}
	if depth < 32 {
		for _, ch := range c.Children {
			if ch != nil {
				out.Children = append(out.Children, decodeCompCarets(ch, depth+1))
			}
		}
	}
	return out
}

// parseComps decodes component text stored in a Field or Zones.
func parseComps(text string) ([]*ical.Component, error) {
	cal, err := decodeICSCalendar([]byte("BEGIN:VCALENDAR\r\n" + text + "END:VCALENDAR\r\n"))
	if err != nil {
		return nil, fmt.Errorf("merge: component text: %w", err)
	}
	for _, c := range cal.Children {
		fillParams(c, 0)
	}
	return cal.Children, nil
}

// fillParams gives every property of c (and of its children) a Params map,
// as go-ical's decoder does, for callers that set parameters.
func fillParams(c *ical.Component, depth int) {
	for _, ps := range c.Props {
		for i := range ps {
			if ps[i].Params == nil {
				ps[i].Params = ical.Params{}
			}
		}
	}
	if depth < maxICSDepth {
		for _, ch := range c.Children {
			fillParams(ch, depth+1)
		}
	}
}

// ToCalendar converts a calendar Doc back to an iCalendar model: PRODID
// and VERSION, the VCALENDAR fields, the VTIMEZONEs that some TZID
// parameter refers to (by TZID), the master component and the overrides
// ordered by RECURRENCE-ID. DTSTAMP and LAST-MODIFIED are Doc.Modified
// when it is set. (calendarCanonical writes the same calendar's encoding
// directly: both walk it with walkCalendar.)
func ToCalendar(d *Doc) (*ical.Calendar, error) {
	b := calBuilder{cal: ical.NewCalendar()}
	if err := walkCalendar(d, &b); err != nil {
		return nil, err
	}
	return b.cal, nil
}

// calendarVisitor receives a calendar Doc's VCALENDAR in order from
// walkCalendar. A props slice is reused after the call returns.
type calendarVisitor interface {
	calendarProps(props []sink.ICSProp)                                 // the VCALENDAR's properties, first
	component(c *ical.Component)                                        // a VTIMEZONE or other VCALENDAR component
	item(name string, props []sink.ICSProp, children []*ical.Component) // a component of the item
}

// walkCalendar gives v the VCALENDAR of a calendar Doc: its properties,
// the VTIMEZONEs some TZID refers to, the item's components (the master
// first, then the overrides by RECURRENCE-ID) and the Doc's other
// VCALENDAR components.
func walkCalendar(d *Doc, v calendarVisitor) error {
	if d == nil || !d.Kind.IsCalendar() {
		return fmt.Errorf("merge: ToCalendar: not a calendar item")
	}
	parts, err := splitCalendar(d)
	if err != nil {
		return err
	}
	v.calendarProps(parts.calendarProps())
	for _, tzid := range parts.zones {
		comps, err := parseComps(d.Zones[tzid])
		if err != nil {
			return err
		}
		for _, c := range comps {
			v.component(c)
		}
	}
	compName := compOfKind(d.Kind)
	var props []sink.ICSProp
	for _, prefix := range parts.prefixes {
		var children []*ical.Component
		props, children, err = itemComponent(d, prefix, parts.groups[prefix], props[:0])
		if err != nil {
			return err
		}
		v.item(compName, props, children)
	}
	for _, kf := range parts.extra {
		comps, err := parseComps(kf.f.Value)
		if err != nil {
			return err
		}
		for _, c := range comps {
			v.component(c)
		}
	}
	return nil
}

// calBuilder builds the go-ical calendar of a walk (ToCalendar).
type calBuilder struct{ cal *ical.Calendar }

func (b *calBuilder) calendarProps(props []sink.ICSProp) { addProps(b.cal.Props, props) }

func (b *calBuilder) component(c *ical.Component) { b.cal.Children = append(b.cal.Children, c) }

func (b *calBuilder) item(name string, props []sink.ICSProp, children []*ical.Component) {
	c := &ical.Component{Name: name, Props: make(ical.Props, len(props)), Children: children}
	addProps(c.Props, props)
	b.cal.Children = append(b.cal.Children, c)
}

// calParts are a calendar Doc's fields as ToCalendar places them.
type calParts struct {
	cal      []keyedField            // VCALENDAR properties
	extra    []keyedField            // VCALENDAR components (after the item's)
	groups   map[string][]keyedField // "" the master, "RID=x/" an override
	prefixes []string                // the item's components in order: the master first
	zones    []string                // the VTIMEZONEs some TZID refers to, by TZID
}

func splitCalendar(d *Doc) (*calParts, error) {
	p := &calParts{groups: map[string][]keyedField{}}
	var tzids map[string]bool
	addTZIDs := func(f Field) {
		for _, t := range f.Params["TZID"] {
			if tzids == nil {
				tzids = map[string]bool{}
			}
			tzids[t] = true
		}
	}
	for _, f := range d.Volatile { // DTSTAMP or CREATED may name a zone too
		addTZIDs(f)
	}
	fields := orderedFields(d.Fields, "")
	for _, kf := range fields {
		addTZIDs(kf.f)
		switch {
		case strings.HasPrefix(kf.key, calPrefix):
			if kf.f.Comp {
				p.extra = append(p.extra, kf)
			} else {
				p.cal = append(p.cal, kf)
			}
		case strings.HasPrefix(kf.key, "RID="):
			i := strings.Index(kf.key, "/")
			if i < 0 {
				return nil, fmt.Errorf("merge: bad override key %q", kf.key)
			}
			p.groups[kf.key[:i+1]] = append(p.groups[kf.key[:i+1]], kf)
		default:
			if p.groups[""] == nil {
				p.groups[""] = make([]keyedField, 0, len(fields))
			}
			p.groups[""] = append(p.groups[""], kf)
		}
	}
	for _, tzid := range sortedKeys(d.Zones) {
		if tzids[tzid] {
			p.zones = append(p.zones, tzid)
		}
	}
	p.prefixes = sortedKeys(p.groups) // "" (the master) sorts first
	if len(p.groups) == 0 {
		p.prefixes = []string{""} // a master with no fields but its UID
	}
	return p, nil
}

// escapeText is the value ical.Prop.SetText gives text: a backslash
// before each backslash, semicolon and comma, "\\n" for a line feed, and
// each byte of invalid UTF-8 as U+FFFD (SetText writes it rune by rune).
func escapeText(text string) string {
	if !strings.ContainsAny(text, "\\;,\n") && utf8.ValidString(text) {
		return text
	}
	var sb strings.Builder
	sb.Grow(len(text) + 8)
	for _, r := range text {
		switch r {
		case '\\', ';', ',':
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case '\n':
			sb.WriteString("\\n")
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// sortedKeys is slices.Sorted(maps.Keys(m)), without the work for the
// maps of zero or one key most items have.
func sortedKeys[V any](m map[string]V) []string {
	switch len(m) {
	case 0:
		return nil
	case 1:
		for k := range m {
			return []string{k}
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// calendarProps are the VCALENDAR's properties: PRODID, VERSION and the
// Doc's calendar fields.
func (p *calParts) calendarProps() []sink.ICSProp {
	props := make([]sink.ICSProp, 0, 2+len(p.cal))
	props = append(props, sink.ICSProp{Name: ical.PropProductID, Value: escapeText(ProdID)}, sink.ICSProp{Name: ical.PropVersion, Value: "2.0"})
	for _, kf := range p.cal {
		props = append(props, sink.ICSProp{Name: kf.f.Name, Params: ical.Params(kf.f.Params), Value: kf.f.Value})
	}
	return props
}

// itemComponent appends to props the properties of one component of the
// item (the master, prefix "", or an override) in the order they are set,
// one replacing those of its name as ical.Props.Set does, and returns
// them with its child components. The parameters are the Doc's own.
func itemComponent(d *Doc, prefix string, group []keyedField, props []sink.ICSProp) ([]sink.ICSProp, []*ical.Component, error) {
	set := func(p sink.ICSProp) {
		props = slices.DeleteFunc(props, func(q sink.ICSProp) bool { return q.Name == p.Name })
		props = append(props, p)
	}
	set(sink.ICSProp{Name: ical.PropUID, Value: escapeText(d.UID)})
	if prefix != "" {
		if _, ok := d.Fields[prefix+ical.PropRecurrenceID]; !ok {
			p := synthRID(d, prefix)
			set(sink.ICSProp{Name: p.Name, Params: p.Params, Value: p.Value})
		}
	}
	for _, name := range []string{ical.PropDateTimeStamp, ical.PropCreated, ical.PropSequence, ical.PropLastModified} {
		if f, ok := d.Volatile[prefix+name]; ok {
			set(sink.ICSProp{Name: f.Name, Params: ical.Params(f.Params), Value: f.Value})
		}
	}
	if prefix == "" && !d.Modified.IsZero() {
		stamp := d.Modified.UTC().Format("20060102T150405Z")
		set(sink.ICSProp{Name: ical.PropDateTimeStamp, Value: stamp})
		set(sink.ICSProp{Name: ical.PropLastModified, Value: stamp})
	}
	var children []*ical.Component
	for _, kf := range group {
		f := kf.f
		if f.Comp {
			comps, err := parseComps(f.Value)
			if err != nil {
				return nil, nil, err
			}
			children = append(children, comps...)
			continue
		}
		if f.Name == ical.PropCategories || f.Name == ical.PropExceptionDates || f.Name == ical.PropRecurrenceDates {
			// one property of several values for the same parameters
			if i := slices.IndexFunc(props, func(q sink.ICSProp) bool {
				return q.Name == f.Name && (Field{Params: q.Params}).Equal(Field{Params: f.Params})
			}); i >= 0 {
				props[i].Value += "," + f.Value
				continue
			}
		}
		props = append(props, sink.ICSProp{Name: f.Name, Params: ical.Params(f.Params), Value: f.Value})
	}
	return props, children, nil
}

// addProps adds props to m, each with its own copy of the parameters (a
// map, empty when there are none, as go-ical gives them).
func addProps(m ical.Props, props []sink.ICSProp) {
	for _, p := range props {
		params := make(ical.Params, len(p.Params))
		for k, v := range p.Params {
			params[k] = slices.Clone(v)
		}
		m[p.Name] = append(m[p.Name], ical.Prop{Name: p.Name, Params: params, Value: p.Value})
	}
}

// synthRID rebuilds the RECURRENCE-ID of an override whose own
// RECURRENCE-ID field was dropped by a merge, from its key and the
// master's DTSTART parameters.
func synthRID(d *Doc, prefix string) *ical.Prop {
	v := ridOf(prefix)
	p := &ical.Prop{Name: ical.PropRecurrenceID, Value: v, Params: ical.Params{}}
	if st, ok := d.Fields[ical.PropDateTimeStart]; ok {
		for _, k := range []string{"TZID", "VALUE"} {
			if x := st.param(k); x != "" {
				p.Params.Set(k, x)
			}
		}
	}
	return p
}

// ridEscaper keeps "/" out of the RECURRENCE-ID part of an override key
// ("RID=<value>/<field>"): a value is a date-time and never holds one, but
// damaged input can, and the key must still split where it was joined.
var (
	ridEscaper   = strings.NewReplacer("%", "%25", "/", "%2F")
	ridUnescaper = strings.NewReplacer("%25", "%", "%2F", "/")
)

// ridPrefix is the key prefix of the override with RECURRENCE-ID rid.
func ridPrefix(rid string) string { return "RID=" + ridEscaper.Replace(rid) + "/" }

// ridOf returns the RECURRENCE-ID value of an override key prefix.
func ridOf(prefix string) string {
	return ridUnescaper.Replace(strings.TrimSuffix(strings.TrimPrefix(prefix, "RID="), "/"))
}

// EventParts splits a calendar's VEVENTs into the master (the first one
// without RECURRENCE-ID; nil when there is none, as for an item that holds
// only overrides) and its overrides.
func EventParts(c *ical.Calendar) (master *ical.Component, overrides []*ical.Component) {
	for _, ch := range c.Children {
		if ch.Name != ical.CompEvent {
			continue
		}
		if ch.Props.Get(ical.PropRecurrenceID) != nil {
			overrides = append(overrides, ch)
		} else if master == nil {
			master = ch
		}
	}
	return master, overrides
}
