package merge

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"

	"github.com/emersion/go-ical"

	"github.com/pstsync/pstsync/sink"
)

// Canonical is the deterministic encoding of d, the bytes stored as its
// snapshot object: a vCard 4.0 (sink.EncodeVCard) for contacts, an
// iCalendar stream (sink.EncodeICS) for calendar items, and for messages a
// short "UID/CONTENT/FOLDER/FLAGS" record (the message itself is stored
// separately as its EML). Properties are written in a fixed order, so the
// same content always gives the same bytes. Should the standard encoding
// fail (a doc built by hand with an invalid property name), a
// deterministic dump of the fields is returned instead.
func Canonical(d *Doc) []byte {
	if d == nil {
		return nil
	}
	if data := d.cachedCanonical(); data != nil {
		return data[:len(data):len(data)] // an append by the caller copies
	}
	var buf bytes.Buffer
	switch {
	case d.Kind == KindContact:
		c, err := ToVCard(d)
		if err == nil {
			err = sink.EncodeVCard(&buf, c, sink.VCard40)
		}
		if err == nil {
			return buf.Bytes()
		}
	case d.Kind.IsCalendar():
		if data, err := calendarCanonical(d); err == nil {
			return data
		}
	case d.Kind == KindMessage:
		return messageCanonical(d)
	}
	return dump(d)
}

// calendarCanonical is the iCalendar encoding of a calendar Doc: the
// bytes sink.EncodeICS gives ToCalendar(d), written without building the
// calendar (every item read is encoded once). Both are made of the same
// pieces (splitCalendar, calendarProps, itemComponent); TestCanonicalDirect
// and the fuzz targets compare the bytes.
func calendarCanonical(d *Doc) ([]byte, error) {
	if d == nil || !d.Kind.IsCalendar() {
		return nil, fmt.Errorf("merge: ToCalendar: not a calendar item")
	}
	parts, err := splitCalendar(d)
	if err != nil {
		return nil, err
	}
	w := sink.NewICSWriter()
	fail := func(err error) ([]byte, error) {
		_, _ = w.Finish()
		return nil, err
	}
	w.Begin(ical.CompCalendar)
	w.Props(parts.calendarProps())
	for _, tzid := range parts.zones {
		comps, err := parseComps(d.Zones[tzid])
		if err != nil {
			return fail(err)
		}
		for _, c := range comps {
			w.Component(c)
		}
	}
	compName := compOfKind(d.Kind)
	var props []sink.ICSProp
	for _, prefix := range parts.prefixes {
		var children []*ical.Component
		props, children, err = itemComponent(d, prefix, parts.groups[prefix], props[:0])
		if err != nil {
			return fail(err)
		}
		w.Begin(compName)
		w.Props(props)
		for _, c := range children {
			w.Component(c)
		}
		w.End(compName)
	}
	for _, kf := range parts.extra {
		comps, err := parseComps(kf.f.Value)
		if err != nil {
			return fail(err)
		}
		for _, c := range comps {
			w.Component(c)
		}
	}
	w.End(ical.CompCalendar)
	return w.Finish()
}

func dump(d *Doc) []byte {
	var buf bytes.Buffer
	buf.WriteString("X-PSTSYNC-DOC:" + oneLine(string(d.Kind)) + "\r\nUID:" + oneLine(d.UID) + "\r\n")
	for _, k := range slices.Sorted(maps.Keys(d.Fields)) {
		buf.WriteString(oneLine(k) + "\t" + oneLine(d.Fields[k].String()) + "\r\n")
	}
	return buf.Bytes()
}

// Hash is the lower-case hex SHA-256 of Canonical(d).
func Hash(d *Doc) string {
	sum := sha256.Sum256(Canonical(d))
	return hex.EncodeToString(sum[:])
}
