package merge

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
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
// calendar (every item read is encoded once). Both walk the Doc with
// walkCalendar; TestCanonicalDirect and the fuzz targets compare the bytes.
func calendarCanonical(d *Doc) ([]byte, error) {
	v := icsVisitor{w: sink.NewICSWriter()}
	v.w.Begin(ical.CompCalendar)
	if err := walkCalendar(d, v); err != nil {
		_, _ = v.w.Finish()
		return nil, err
	}
	v.w.End(ical.CompCalendar)
	return v.w.Finish()
}

// icsVisitor writes a walk's calendar with an ICSWriter (calendarCanonical).
type icsVisitor struct{ w *sink.ICSWriter }

func (v icsVisitor) calendarProps(props []sink.ICSProp) { v.w.Props(props) }

func (v icsVisitor) component(c *ical.Component) { v.w.Component(c) }

func (v icsVisitor) item(name string, props []sink.ICSProp, children []*ical.Component) {
	v.w.Begin(name)
	v.w.Props(props)
	for _, c := range children {
		v.w.Component(c)
	}
	v.w.End(name)
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
