// Package merge is the pure three-way merge of calendar items, contacts and
// message state for pstsync's shared snapshots. It does no I/O and reads no
// clock: every time it needs is passed in.
//
// Items are converted to a neutral record model, Doc: a UID, a Kind and a
// map of fields keyed so that a single-valued property is one key ("FN",
// "SUMMARY") and a multi-valued one is one key per value identity
// ("EMAIL=ann@example.com", "TEL=15551234", "ATTENDEE=bob@example.com",
// "EXDATE=20240102T100000", "CATEGORIES=work"). Per-occurrence overrides of
// a recurring event are keyed "RID=<RECURRENCE-ID value, with % and / escaped>/<key>". A field
// map merges key by key with the usual three-way rule, so edits to
// different properties or different values combine and only the same key
// changed differently on both sides is a conflict.
//
// Volatile properties (DTSTAMP, LAST-MODIFIED, REV, PRODID, VERSION,
// CREATED, SEQUENCE) are not fields: LAST-MODIFIED/REV become
// Doc.Modified, the others are carried in Doc.Volatile and never compared.
//
// Docs are treated as immutable values: Merge and MergeCollection may return
// one of their inputs unchanged instead of a copy.
package merge

import (
	"errors"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// Kind is the kind of item a Doc holds.
type Kind string

// Kinds of Doc.
const (
	KindContact Kind = "contact" // vCard (contact or group)
	KindEvent   Kind = "event"   // iCalendar VEVENT with its overrides
	KindTodo    Kind = "todo"    // iCalendar VTODO
	KindJournal Kind = "journal" // iCalendar VJOURNAL
	KindMessage Kind = "message" // e-mail message: flags and folder only
)

// IsCalendar reports whether k is an iCalendar kind.
func (k Kind) IsCalendar() bool { return k == KindEvent || k == KindTodo || k == KindJournal }

// ProdID is the PRODID written into canonical calendars and cards.
const ProdID = "-//pstsync//pstsync//EN"

// Errors returned by the conversions.
var (
	ErrNoUID       = errors.New("merge: item has no UID")
	ErrNoComponent = errors.New("merge: calendar has no VEVENT, VTODO or VJOURNAL")
	ErrMixedItems  = errors.New("merge: calendar holds more than one item")
)

// Field is one property value (or, with Comp set, the canonical text of
// one or more child components such as VALARM).
type Field struct {
	Name   string              `json:"name"`             // property name, upper case
	Group  string              `json:"group,omitempty"`  // vCard group ("item1")
	Params map[string][]string `json:"params,omitempty"` // parameter names upper case
	// Value is, for vCards, the value in the convention of
	// sink.EncodeVCard (what sink.DecodeVCardValue returns: unescaped
	// text; structured components separated by ';' and their values by
	// ',', with "\;", "\," and "\\" for literal characters; list items
	// separated by ','); for iCalendar the encoded form (as
	// ical.Prop.Value).
	Value string `json:"value"`
	Comp  bool   `json:"comp,omitempty"` // Value is component text (VALARM, VTIMEZONE...)
}

// Equal reports whether f and g are the same value with the same
// parameters.
func (f Field) Equal(g Field) bool {
	if f.Name != g.Name || f.Value != g.Value || f.Group != g.Group || f.Comp != g.Comp || len(f.Params) != len(g.Params) {
		return false
	}
	for k, v := range f.Params {
		w, ok := g.Params[k]
		if !ok || len(v) != len(w) {
			return false
		}
		for i := range v {
			if v[i] != w[i] {
				return false
			}
		}
	}
	return true
}

// String renders the field as one unfolded content line (parameters
// sorted), for reports.
func (f Field) String() string {
	if f.Comp {
		return f.Value
	}
	var sb strings.Builder
	if f.Group != "" {
		sb.WriteString(f.Group)
		sb.WriteByte('.')
	}
	sb.WriteString(f.Name)
	for _, k := range slices.Sorted(maps.Keys(f.Params)) {
		sb.WriteByte(';')
		sb.WriteString(k)
		sb.WriteByte('=')
		sb.WriteString(strings.Join(f.Params[k], ","))
	}
	sb.WriteByte(':')
	sb.WriteString(f.Value)
	return sb.String()
}

// Doc is the neutral record model of one item.
type Doc struct {
	UID  string `json:"uid"`
	Kind Kind   `json:"kind"`
	// Modified is LAST-MODIFIED (iCalendar master) or REV (vCard); used by
	// the "newest" conflict rule and written back, never merged.
	Modified time.Time `json:"modified,omitempty"`
	// Fields are the mergeable values by key (see the package comment).
	Fields map[string]Field `json:"fields"`
	// Volatile holds values carried but never compared or merged: DTSTAMP,
	// CREATED and SEQUENCE of the master ("DTSTAMP") and of overrides
	// ("RID=x/SEQUENCE"), LAST-MODIFIED of overrides.
	Volatile map[string]Field `json:"volatile,omitempty"`
	// Zones are the VTIMEZONE components (canonical text) by TZID. They are
	// carried through and unioned, not merged field by field; only zones a
	// TZID parameter refers to are written.
	Zones map[string]string `json:"zones,omitempty"`

	// canon is Canonical's encoding of the Doc, kept by the conversions
	// that encode it anyway (FromCalendar and FromVCard check that the
	// item encodes), so that each item read is encoded once. Docs are
	// immutable values: only a Doc's UID is ever set after it was made
	// (an item without one is named by where it was found), so the
	// encoding counts only while the Doc still has its UID, kind,
	// modification time and number of fields; Clone drops it.
	canon *canonCache
}

// canonCache is a Doc's canonical encoding with what it was made of.
type canonCache struct {
	data     []byte
	uid      string
	kind     Kind
	modified time.Time
	fields   int
	volatile int
	zones    int
}

// keepCanonical records data as d's canonical encoding.
func (d *Doc) keepCanonical(data []byte) {
	d.canon = &canonCache{data: data, uid: d.UID, kind: d.Kind, modified: d.Modified,
		fields: len(d.Fields), volatile: len(d.Volatile), zones: len(d.Zones)}
}

// cachedCanonical returns the encoding keepCanonical recorded, or nil when
// there is none or the Doc has changed since.
func (d *Doc) cachedCanonical() []byte {
	c := d.canon
	if c == nil || c.uid != d.UID || c.kind != d.Kind || !c.modified.Equal(d.Modified) ||
		c.fields != len(d.Fields) || c.volatile != len(d.Volatile) || c.zones != len(d.Zones) {
		return nil
	}
	return c.data
}

// Title is the human name of the item: FN of a contact, SUMMARY of an
// event (decoded), the UID otherwise.
func (d *Doc) Title() string {
	if d == nil {
		return ""
	}
	switch {
	case d.Kind == KindContact:
		if f, ok := d.Fields["FN"]; ok && f.Value != "" {
			return f.Value
		}
	case d.Kind.IsCalendar():
		if f, ok := d.Fields["SUMMARY"]; ok && f.Value != "" {
			return unescapeICSText(f.Value)
		}
	}
	return d.UID
}

// Clone returns a deep copy of d.
func (d *Doc) Clone() *Doc {
	if d == nil {
		return nil
	}
	c := *d
	c.canon = nil // the copy is made to be changed
	c.Fields = cloneFields(d.Fields)
	c.Volatile = cloneFields(d.Volatile)
	if d.Zones != nil {
		c.Zones = make(map[string]string, len(d.Zones))
		for k, v := range d.Zones {
			c.Zones[k] = v
		}
	}
	return &c
}

func cloneFields(m map[string]Field) map[string]Field {
	if m == nil {
		return nil
	}
	out := make(map[string]Field, len(m))
	for k, f := range m {
		out[k] = f.clone()
	}
	return out
}

func (f Field) clone() Field {
	if f.Params != nil {
		p := make(map[string][]string, len(f.Params))
		for k, v := range f.Params {
			p[k] = append([]string(nil), v...)
		}
		f.Params = p
	}
	return f
}

// SameFields reports whether a and b have the same mergeable content
// (fields only; UID, Modified, Volatile and Zones are not compared). Two
// nil docs are the same; a nil and a non-nil doc are not.
func SameFields(a, b *Doc) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a == b {
		return true
	}
	if len(a.Fields) != len(b.Fields) {
		return false
	}
	for k, f := range a.Fields {
		g, ok := b.Fields[k]
		if !ok || !f.Equal(g) {
			return false
		}
	}
	return true
}

// ChangedKeys returns the sorted keys whose field differs between a and b
// (present in one only, or different).
func ChangedKeys(a, b *Doc) []string {
	var fa, fb map[string]Field
	if a != nil {
		fa = a.Fields
	}
	if b != nil {
		fb = b.Fields
	}
	var out []string
	for k, f := range fa {
		if g, ok := fb[k]; !ok || !f.Equal(g) {
			out = append(out, k)
		}
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// ChangedFields returns the sorted property names (Field.Name: "SUMMARY",
// "DTSTART", "TEL", "VALARM"), each once, of the fields that differ between
// a and b: what an audit record says an edit touched. Names only, never a
// value or a key (a multi-valued field's key holds its value).
func ChangedFields(a, b *Doc) []string {
	var out []string
	for _, k := range ChangedKeys(a, b) {
		f, ok := a.field(k)
		if !ok {
			f, _ = b.field(k)
		}
		out = append(out, f.Name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// field is the field with key k of d (nil: none).
func (d *Doc) field(k string) (Field, bool) {
	if d == nil {
		return Field{}, false
	}
	f, ok := d.Fields[k]
	return f, ok
}

// addField stores f under key, or under key#2, key#3... when key is taken
// (a repeated single-valued property or two values with the same
// identity).
func addField(m map[string]Field, key string, f Field) {
	if _, ok := m[key]; !ok {
		m[key] = f
		return
	}
	// Fields that share an identity key ("a" and "A" in CATEGORIES) are
	// numbered key, key#2, ... in content order, not arrival order, so the
	// same fields get the same keys whatever order an encoding wrote them in.
	fs := []Field{m[key]}
	for i := 2; ; i++ {
		g, ok := m[key+"#"+itoa(i)]
		if !ok {
			break
		}
		fs = append(fs, g)
	}
	fs = append(fs, f)
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].String() < fs[j].String() })
	m[key] = fs[0]
	for i := 1; i < len(fs); i++ {
		m[key+"#"+itoa(i+1)] = fs[i]
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// decodeCarets undoes RFC 6868 parameter value encoding (^n, ^^, ^'), which
// sink's encoders apply and merge's readers keep.
func decodeCarets(s string) string {
	if !strings.Contains(s, "^") {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '^' && i+1 < len(s) {
			switch s[i+1] {
			case 'n', 'N':
				sb.WriteByte('\n')
				i++
				continue
			case '^':
				sb.WriteByte('^')
				i++
				continue
			case '\'':
				sb.WriteByte('"')
				i++
				continue
			}
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

// splitUnescaped splits s on sep characters not preceded by a backslash;
// the escapes are kept. Each part is trimmed of spaces and of a dangling
// escape at its end (a backslash escaping nothing), which would otherwise
// escape the separator when the parts are joined again.
func splitUnescaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, cleanPart(s[start:i]))
			start = i + 1
		}
	}
	return append(out, cleanPart(s[start:]))
}

func cleanPart(p string) string {
	for {
		p = strings.TrimSpace(p)
		n := 0
		for n < len(p) && p[len(p)-1-n] == '\\' {
			n++
		}
		if n%2 == 0 {
			return p
		}
		p = p[:len(p)-1]
	}
}

// unescapeICSText decodes an iCalendar TEXT value.
func unescapeICSText(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n', 'N':
				sb.WriteByte('\n')
			default:
				sb.WriteByte(s[i])
			}
			continue
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

// paramText reduces a (caret-decoded) parameter value to what sink's
// parameter encoder writes: CRLF and CR become LF (written "^n"), other
// control characters except TAB are dropped. A Doc holds only such values,
// so its canonical bytes parse back to the same Doc.
// valueText is an iCalendar property value as the canonical encoding can
// hold it: valid UTF-8 (invalid bytes become U+FFFD), without line breaks
// (a bare CR the decoder kept) or other control characters except TAB. The
// field and the override keys built from it then survive a round trip.
func valueText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func paramText(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				continue // the LF is written next
			}
			sb.WriteByte('\n')
		case c < 0x20 && c != '\t' && c != '\n' || c == 0x7f:
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// vcardParamText is paramText for a (caret-decoded) vCard parameter
// value, made valid UTF-8 (merge's reader has already decoded legacy
// charsets, so this replaces nothing in text that was read from a file).
// Backslashes are kept: merge's reader does not take them for escapes.
func vcardParamText(s string) string {
	return strings.ToValidUTF8(paramText(s), "\uFFFD")
}
