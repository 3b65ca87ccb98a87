package merge

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-ical"
)

// This file is merge's own lenient iCalendar reader: content lines (see
// contentline.go) built into go-ical component trees, which FromCalendar
// and sink.EncodeICS work on. Unlike go-ical's decoder it never panics,
// tolerates empty parameters ("DTSTART;;VALUE=DATE"), decodes text that is
// not UTF-8 as Windows-1252, and reports a bad line against the component
// it is in instead of failing the whole stream.

// maxICSDepth bounds component nesting (VCALENDAR > VEVENT > VALARM is 3).
const maxICSDepth = 32

// icsNode is a component as read, with the first problem found in it or
// in one of its children.
type icsNode struct {
	comp     *ical.Component
	err      error // the first problem in it or a descendant
	own      error // the first problem in one of its own lines
	complete bool  // its END line was read
}

// icsStream is what readICSStream found: the top-level components (each
// VCALENDAR) and problems outside any component.
type icsStream struct {
	top      []*icsNode
	nodes    map[*ical.Component]*icsNode
	stray    []error // lines outside any component
	complete bool    // every component that was begun was ended
}

// readICSStream reads every component of data. A component with a bad
// line keeps the error in its node (and in each enclosing node's child
// list: callers look at the child they use).
func readICSStream(data []byte) icsStream {
	st := icsStream{complete: true, nodes: map[*ical.Component]*icsNode{}}
	var stack []*icsNode
	fail := func(err error) {
		if len(stack) == 0 {
			st.stray = append(st.stray, err)
			return
		}
		if top := stack[len(stack)-1]; top.own == nil {
			top.own = err
		}
		for _, n := range stack {
			if n.err == nil {
				n.err = err
			}
		}
	}
	lines := splitContentLines(data)
	// The properties of all components, one block: each name's slice is
	// cut from it (a second property of the name copies it out).
	arena := make([]ical.Prop, 0, len(lines))
	for li := range lines {
		l := &lines[li]
		if l.Err != nil {
			fail(l.Err)
			continue
		}
		l.decodeLineText()
		switch l.Name {
		case "BEGIN":
			name := strings.ToUpper(strings.TrimSpace(l.Value))
			if !isName(name) {
				fail(fmt.Errorf("line %d: invalid component name %q", l.Num, l.Value))
				continue
			}
			if len(stack) >= maxICSDepth {
				fail(fmt.Errorf("line %d: components nested too deeply", l.Num))
				continue
			}
			n := &icsNode{comp: &ical.Component{Name: name, Props: make(ical.Props, ownProps(lines[li+1:]))}}
			st.nodes[n.comp] = n
			if len(stack) == 0 {
				st.top = append(st.top, n)
			} else {
				parent := stack[len(stack)-1].comp
				parent.Children = append(parent.Children, n.comp)
			}
			stack = append(stack, n)
		case "END":
			name := strings.ToUpper(strings.TrimSpace(l.Value))
			i := len(stack) - 1
			for i >= 0 && stack[i].comp.Name != name {
				i--
			}
			if i < 0 {
				fail(fmt.Errorf("line %d: END:%s without BEGIN", l.Num, name))
				continue
			}
			for j := len(stack) - 1; j > i; j-- {
				err := fmt.Errorf("line %d: %s not ended before END:%s", l.Num, stack[j].comp.Name, name)
				if stack[j].own == nil {
					stack[j].own = err
				}
				for _, n := range stack[:j+1] {
					if n.err == nil {
						n.err = err
					}
				}
			}
			stack[i].complete = true
			stack = stack[:i]
		default:
			if len(stack) == 0 {
				fail(fmt.Errorf("line %d: property %s outside any component", l.Num, l.Name))
				continue
			}
			c := stack[len(stack)-1].comp
			p := ical.Prop{Name: l.Name, Value: l.Value}
			for _, pr := range l.Params {
				if pr.Name == "" {
					continue // a bare parameter has no meaning in iCalendar
				}
				if p.Params == nil {
					p.Params = make(ical.Params, len(l.Params))
				}
				p.Params[pr.Name] = append(p.Params[pr.Name], pr.Values...)
			}
			// Most properties have no parameters: their Params stay nil
			// (an empty map each was the larger part of reading them);
			// every read of ical.Params takes nil. The components that
			// leave merge (ToCalendar's) get empty maps (parseComps).
			if ps, ok := c.Props[l.Name]; ok {
				c.Props[l.Name] = append(ps, p)
			} else {
				arena = append(arena, p)
				c.Props[l.Name] = arena[len(arena)-1 : len(arena) : len(arena)]
			}
		}
	}
	if len(stack) > 0 {
		st.complete = false
		for _, n := range stack {
			err := fmt.Errorf("%s not ended: the file is cut short", n.comp.Name)
			if n.err == nil {
				n.err = err
			}
			if n.own == nil {
				n.own = err
			}
		}
	}
	return st
}

// ownProps counts the property lines before the next BEGIN or END: the
// properties of a component that begins just before them, as far as they
// come before its first child (a size hint).
func ownProps(lines []contentLine) int {
	n := 0
	for _, l := range lines {
		if l.Name == "BEGIN" || l.Name == "END" {
			break
		}
		n++
	}
	return n
}

// decodeICSCalendar reads a stream that should hold one VCALENDAR and
// nothing wrong (the canonical bytes of a snapshot object, or a single
// item's file).
func decodeICSCalendar(data []byte) (*ical.Calendar, error) {
	st := readICSStream(data)
	if len(st.stray) > 0 {
		return nil, fmt.Errorf("merge: decode iCalendar: %w", st.stray[0])
	}
	if len(st.top) == 0 {
		return nil, errors.New("merge: decode iCalendar: no VCALENDAR")
	}
	if len(st.top) > 1 {
		return nil, errors.New("merge: decode iCalendar: more than one VCALENDAR")
	}
	n := st.top[0]
	if n.comp.Name != ical.CompCalendar {
		return nil, fmt.Errorf("merge: decode iCalendar: %s instead of VCALENDAR", n.comp.Name)
	}
	if n.err != nil {
		return nil, fmt.Errorf("merge: decode iCalendar: %w", n.err)
	}
	return &ical.Calendar{Component: n.comp}, nil
}
