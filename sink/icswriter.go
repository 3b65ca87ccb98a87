package sink

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-ical"
)

// ICSProp is a property for ICSWriter: its name, parameters and value as
// ical.Prop has them (the value already escaped).
type ICSProp struct {
	Name   string
	Params ical.Params
	Value  string
}

// ICSWriter writes an iCalendar stream piece by piece, with the bytes
// EncodeICS gives the calendar those pieces make, without the calendar
// (a sync encodes thousands of small items). The first error is kept:
// later calls do nothing and Finish returns it.
type ICSWriter struct {
	e     *icsEncoder
	depth int
	err   error
}

// NewICSWriter returns a writer; Finish lets its buffers go.
func NewICSWriter() *ICSWriter {
	return &ICSWriter{e: icsEncoders.Get().(*icsEncoder)}
}

// Begin writes a component's BEGIN line.
func (w *ICSWriter) Begin(name string) {
	if w.err != nil {
		return
	}
	if w.depth++; w.depth-1 > maxICSDepth { // the outermost is at depth 0
		w.err = errors.New("components nested too deeply")
		return
	}
	name = strings.ToUpper(name)
	if !isICSName(name) {
		w.err = fmt.Errorf("invalid component name %q", name)
		return
	}
	w.e.line = append(append(w.e.line[:0], "BEGIN:"...), name...)
	writeFolded(&w.e.buf, w.e.line)
}

// End writes a component's END line.
func (w *ICSWriter) End(name string) {
	if w.err != nil {
		return
	}
	w.depth--
	w.e.line = append(append(w.e.line[:0], "END:"...), strings.ToUpper(name)...)
	writeFolded(&w.e.buf, w.e.line)
}

// Props writes a component's properties, in EncodeICS's order: props is
// sorted in place, stably, so that properties of one name keep the order
// given.
func (w *ICSWriter) Props(props []ICSProp) {
	if w.err != nil {
		return
	}
	for i := range props {
		props[i].Name = strings.ToUpper(props[i].Name)
	}
	slices.SortStableFunc(props, func(a, b ICSProp) int {
		if pa, pb := icsPropRank(a.Name), icsPropRank(b.Name); pa != pb {
			return pa - pb
		}
		return strings.Compare(a.Name, b.Name)
	})
	for i := range props {
		p := &props[i]
		if err := w.e.contentLine(p.Name, p.Params, p.Value); err != nil {
			w.err = err
			return
		}
		writeFolded(&w.e.buf, w.e.line)
	}
}

// Component writes c whole, as EncodeICS writes a child component.
func (w *ICSWriter) Component(c *ical.Component) {
	if w.err != nil || c == nil {
		return
	}
	w.err = w.e.component(c, w.depth) // a child of the open component
}

// Finish returns a copy of what was written, or the first error, and lets
// the writer's buffers go; the writer is not used again.
func (w *ICSWriter) Finish() ([]byte, error) {
	defer func() {
		w.e.line = w.e.line[:0]
		w.e.release()
		w.e = nil
	}()
	if w.err != nil {
		return nil, fmt.Errorf("sink: encode iCalendar: %w", w.err)
	}
	return bytes.Clone(w.e.buf.Bytes()), nil
}
