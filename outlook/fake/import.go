package fake

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/emersion/go-ical"

	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/outlook"
	"github.com/pstsync/pstsync/pst"
)

// Importing an iCalendar file into the default Calendar, as Outlook does
// when the user opens a .ics file or imports it (File > Open & Export >
// Import/Export > Import an iCalendar file), following [MS-OXCICAL]:
//
//   - The UID becomes the appointment's PidLidGlobalObjectId: a UID in
//     Outlook's own encoded form ("040000008200E00074C5B7101A82E008…",
//     EncodedGlobalId) is that id itself; any other UID
//     (ThirdPartyGlobalId) is wrapped in an id whose data is "vCal-Uid",
//     a version 1 and the UID's bytes with a NUL (2.1.3.1.1.20.26).
//   - METHOD:REQUEST is an iTIP request (RFC 5546 3.2.2): it is
//     correlated with the appointment whose PidLidCleanGlobalObjectId (the
//     id with its instance date zeroed) is the request's. Such an
//     appointment is updated in place (same EntryID), the whole series
//     with its exceptions replaced by the request's, unless the request's
//     SEQUENCE is lower than the appointment's (an out-of-date request
//     changes nothing). Without one, a new appointment is created.
//   - METHOD:PUBLISH, or no METHOD, imports each event as a new
//     appointment every time: no correlation.
//
// The content goes through the same member-setting as Write (so Outlook's
// own rewriting applies); no pstsync user property is set, as Outlook's
// import knows none.

// ImportResult counts what an import did.
type ImportResult struct {
	Created, Updated, Ignored int
	// IDs are the EntryIDs of the appointments created or updated.
	IDs []string
}

// ImportICS imports one iCalendar file into the default Calendar.
func (o *Outlook) ImportICS(ctx context.Context, data []byte) (ImportResult, error) {
	var res ImportResult
	c, err := ical.NewDecoder(bytes.NewReader(data)).Decode()
	if err != nil {
		return res, fmt.Errorf("outlook: import: %w: %w", err, outlook.ErrRefused)
	}
	method := ""
	if p := c.Props.Get(ical.PropMethod); p != nil {
		method = strings.ToUpper(p.Value)
	}
	d, err := merge.DecodeCalendar(data)
	if err != nil {
		return res, fmt.Errorf("outlook: import: %w: %w", err, outlook.ErrRefused)
	}
	seq := 0
	for _, ch := range c.Children {
		if ch.Name == ical.CompEvent && ch.Props.Get(ical.PropRecurrenceID) == nil {
			if p := ch.Props.Get(ical.PropSequence); p != nil {
				seq, _ = strconv.Atoi(p.Value)
			}
		}
	}
	w, err := outlook.FromDoc(d)
	if err != nil {
		return res, err
	}
	w.UID, w.UserProps = "", nil
	goid := GlobalObjectIDForUID(d.UID)
	cal := outlook.FolderRef{Kind: outlook.Calendar}
	id := ""
	if method == "REQUEST" {
		var cur int32
		id, cur = o.findByGlobalObjectID(goid)
		if id != "" && int32(seq) < cur {
			res.Ignored++
			return res, nil
		}
	}
	e, err := o.write(ctx, cal, id, w, &importing{goid: goid, seq: int32(seq)})
	if err != nil {
		return res, err
	}
	if id == "" {
		res.Created++
	} else {
		res.Updated++
	}
	res.IDs = append(res.IDs, e.ID)
	return res, nil
}

// importing is what an import sets beyond the members: the global object
// id made from the UID and the SEQUENCE.
type importing struct {
	goid []byte
	seq  int32
}

// findByGlobalObjectID returns the appointment of the default Calendar
// whose clean global object id is goid's, with its sequence number.
func (o *Outlook) findByGlobalObjectID(goid []byte) (string, int32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	want := cleanGOID(goid)
	for id, it := range o.stores[0].folders["Calendar"].items {
		p := it.msg.Props
		if bytes.Equal(cleanGOID(p.Binary(p.NamedID(pst.PSETIDMeeting, 0x0023))), want) {
			seq, _ := p.Int(p.NamedID(pst.PSETIDAppointment, 0x8201))
			return id, int32(seq)
		}
	}
	return "", 0
}

// cleanGOID is a global object id with its instance date zeroed
// (PidLidCleanGlobalObjectId).
func cleanGOID(b []byte) []byte {
	c := append([]byte(nil), b...)
	if len(c) >= 20 {
		c[16], c[17], c[18], c[19] = 0, 0, 0, 0
	}
	return c
}

// GlobalObjectIDForUID is the PidLidGlobalObjectId Outlook gives an
// imported event with this UID ([MS-OXCICAL] 2.1.3.1.1.20.26): Outlook's
// encoded form decoded, any other UID wrapped after "vCal-Uid".
func GlobalObjectIDForUID(uid string) []byte {
	if b, err := hex.DecodeString(uid); err == nil && len(b) >= 40 && bytes.Equal(b[:16], goidClass) &&
		int(binary.LittleEndian.Uint32(b[36:40])) == len(b)-40 {
		return b
	}
	data := append([]byte("vCal-Uid"), 1, 0, 0, 0)
	data = append(data, uid...)
	data = append(data, 0)
	b := append([]byte(nil), goidClass...)
	b = append(b, make([]byte, 4+8+8)...) // instance date, creation time, reserved
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

var goidClass = []byte{0x04, 0x00, 0x00, 0x00, 0x82, 0x00, 0xE0, 0x00, 0x74, 0xC5, 0xB7, 0x10, 0x1A, 0x82, 0xE0, 0x08}
