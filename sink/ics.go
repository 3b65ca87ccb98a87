package sink

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/emersion/go-ical"
)

// icsPropOrder lists properties written before the others (which follow in
// alphabetical order). The order is cosmetic; it keeps the identifying
// properties near BEGIN for people reading the files.
var icsPropOrder = map[string]int{
	"VERSION": 1, "PRODID": 2, "CALSCALE": 3, "METHOD": 4,
	"TZID": 5, "UID": 6, "RECURRENCE-ID": 7, "SEQUENCE": 8, "DTSTAMP": 9,
	"DTSTART": 10, "DTEND": 11, "DUE": 12, "DURATION": 13,
	"TZOFFSETFROM": 14, "TZOFFSETTO": 15, "TZNAME": 16,
	"RRULE": 17, "RDATE": 18, "EXDATE": 19, "SUMMARY": 20,
}

// EncodeICS writes cal as an iCalendar stream (RFC 5545): CRLF line
// endings, content lines folded at 75 octets without splitting a UTF-8
// sequence, components in the given order (children after the
// properties), properties in a fixed order (a few identifying ones first,
// then alphabetical; same-name properties keep their order) and parameters
// sorted by name, so the output is deterministic.
//
// Property values are written as they are in ical.Prop.Value, which is the
// encoded form: set TEXT values with EscapeICSText (or Prop.SetText). A
// value containing CR or LF is an error. Parameter values are quoted when
// they contain ';', ':' or ','; a double quote or line break in a parameter
// value is written with RFC 6868 caret encoding.
//
// Unlike go-ical's encoder, EncodeICS does not validate component
// cardinalities, so it writes any component tree (VTIMEZONE with STANDARD/
// DAYLIGHT children, VALARM, X- components) faithfully; the output parses
// with go-ical's decoder and ical.js.
func EncodeICS(w io.Writer, cal *ical.Calendar) error {
	if cal == nil || cal.Component == nil {
		return errors.New("sink: encode iCalendar: nil calendar")
	}
	e := icsEncoders.Get().(*icsEncoder)
	defer e.release()
	if err := e.component(cal.Component, 0); err != nil {
		return fmt.Errorf("sink: encode iCalendar: %w", err)
	}
	if _, err := w.Write(e.buf.Bytes()); err != nil {
		return fmt.Errorf("sink: write iCalendar: %w", err)
	}
	return nil
}

const maxICSDepth = 32

// icsEncoder holds the buffers of one encoding, reused from one to the
// next (a sync writes thousands of small calendars).
type icsEncoder struct {
	buf    bytes.Buffer
	line   []byte     // the content line being built
	keys   []string   // a property's parameter names
	groups []icsGroup // a component's properties by name
}

type icsGroup struct {
	key   string
	props []ical.Prop
}

var icsEncoders = sync.Pool{New: func() any { return new(icsEncoder) }}

func (e *icsEncoder) release() {
	if e.buf.Cap() > 1<<20 {
		return // a large calendar's buffer is not kept
	}
	e.buf.Reset()
	clear(e.groups[:cap(e.groups)])
	e.groups = e.groups[:0]
	icsEncoders.Put(e)
}

// icsPropRank is a property's place in the fixed order (icsPropOrder,
// then the others).
func icsPropRank(key string) int {
	if r := icsPropOrder[key]; r != 0 {
		return r
	}
	return len(icsPropOrder) + 1
}

func (e *icsEncoder) component(c *ical.Component, depth int) error {
	if depth > maxICSDepth {
		return errors.New("components nested too deeply")
	}
	name := strings.ToUpper(c.Name)
	if !isICSName(name) {
		return fmt.Errorf("invalid component name %q", c.Name)
	}
	e.line = append(append(e.line[:0], "BEGIN:"...), name...)
	writeFolded(&e.buf, e.line)

	groups := e.groups[:0]
	for k, ps := range c.Props {
		groups = append(groups, icsGroup{strings.ToUpper(k), ps})
	}
	slices.SortFunc(groups, func(a, b icsGroup) int {
		if pa, pb := icsPropRank(a.key), icsPropRank(b.key); pa != pb {
			return pa - pb
		}
		return strings.Compare(a.key, b.key)
	})
	for _, g := range groups {
		for i := range g.props {
			p := &g.props[i]
			pname := g.key
			if p.Name != "" {
				pname = strings.ToUpper(p.Name)
			}
			if err := e.contentLine(pname, p.Params, p.Value); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			writeFolded(&e.buf, e.line)
		}
	}
	clear(groups) // the children reuse the room
	e.groups = groups[:0]
	for _, child := range c.Children {
		if child == nil {
			continue
		}
		if err := e.component(child, depth+1); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	e.line = append(append(e.line[:0], "END:"...), name...)
	writeFolded(&e.buf, e.line)
	return nil
}

// contentLine builds the unfolded line of a property in e.line.
func (e *icsEncoder) contentLine(name string, params ical.Params, value string) error {
	if !isICSName(name) || name == "BEGIN" || name == "END" {
		return fmt.Errorf("invalid property name %q", name)
	}
	if strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("property %s: value contains CR or LF (use EscapeICSText)", name)
	}
	l := append(e.line[:0], name...)
	if len(params) > 0 {
		keys := e.keys[:0]
		for k := range params {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e.keys = keys
		for _, k := range keys {
			pk := strings.ToUpper(k)
			if !isICSName(pk) {
				return fmt.Errorf("property %s: invalid parameter name %q", name, k)
			}
			l = appendParam(l, pk, params[k], true)
		}
	}
	l = append(l, ':')
	e.line = append(l, value...)
	return nil
}

// isICSName reports whether s is a valid iana-token or x-name
// (ALPHA / DIGIT / "-"), which is also what vCard allows.
func isICSName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// writeParam appends ";key=v1,v2..." to sb (nothing when there are no
// values), each value as paramValue writes it.
func writeParam(sb *strings.Builder, key string, vals []string, caret bool) {
	if len(vals) == 0 {
		return
	}
	sb.WriteByte(';')
	sb.WriteString(key)
	sb.WriteByte('=')
	for i, v := range vals {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(paramValue(v, caret))
	}
}

// appendParam is writeParam for a byte slice.
func appendParam(b []byte, key string, vals []string, caret bool) []byte {
	if len(vals) == 0 {
		return b
	}
	b = append(b, ';')
	b = append(b, key...)
	b = append(b, '=')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		if plainParam(v) {
			b = append(b, v...) // what paramValue returns for it
		} else {
			b = append(b, paramValue(v, caret)...)
		}
	}
	return b
}

// plainParam reports whether paramValue leaves v as it is: no character it
// quotes, escapes or drops.
func plainParam(v string) bool {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c < 0x20 && c != '\t', c == 0x7f, c == '"', c == '^', c == ';', c == ':', c == ',':
			return false
		}
	}
	return true
}

// paramValue encodes a parameter value. Values containing ';', ':' or ','
// are quoted. With caret set (iCalendar, vCard 4.0) a double quote, a line
// break or a caret that a decoder would take for an RFC 6868 escape is
// caret-encoded; without it (vCard 3.0) a double quote becomes a single
// quote and a line break a space. Other control characters are dropped.
func paramValue(v string, caret bool) string {
	needCaret := strings.ContainsAny(v, "\"\r\n") ||
		strings.Contains(v, "^^") || strings.Contains(v, "^'") ||
		strings.Contains(v, "^n") || strings.Contains(v, "^N")
	var sb strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\r':
			if i+1 < len(v) && v[i+1] == '\n' {
				continue // the LF is written next
			}
			fallthrough
		case c == '\n':
			if caret {
				sb.WriteString("^n")
			} else {
				sb.WriteByte(' ')
			}
		case c == '"':
			if caret {
				sb.WriteString("^'")
			} else {
				sb.WriteByte('\'')
			}
		case c == '^' && caret && needCaret:
			sb.WriteString("^^")
		case c < 0x20 && c != '\t' || c == 0x7f:
			// dropped: not allowed in parameter values
		default:
			sb.WriteByte(c)
		}
	}
	s := sb.String()
	if strings.ContainsAny(s, ";:,") {
		return `"` + s + `"`
	}
	return s
}

// EscapeICSText encodes s as an iCalendar TEXT value (RFC 5545 3.3.11):
// backslash, semicolon and comma are escaped, CRLF, CR and LF become "\n",
// and other control characters except TAB are dropped (they are not
// allowed in content lines). Use it for ical.Prop.Value of SUMMARY,
// DESCRIPTION, LOCATION, COMMENT, CATEGORIES items and similar.
func EscapeICSText(s string) string { return escapeText(s, true) }

// EscapeICSTextList encodes items as a comma-separated iCalendar TEXT list
// (e.g. for CATEGORIES), each item escaped with EscapeICSText.
func EscapeICSTextList(items []string) string {
	esc := make([]string, len(items))
	for i, it := range items {
		esc[i] = EscapeICSText(it)
	}
	return strings.Join(esc, ",")
}
