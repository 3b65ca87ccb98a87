package migrate

import (
	"bytes"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/pstsync/pstsync/pst"
	"github.com/pstsync/pstsync/pst/cal"
	"github.com/pstsync/pstsync/pst/contact"
	"github.com/pstsync/pstsync/pst/mail"
	"github.com/pstsync/pstsync/sink"
)

// converter turns items of one file into output objects.
type converter struct {
	f      *pst.File
	opts   Options
	dlOpts contact.DistListOptions
}

func newConverter(f *pst.File, opts Options) *converter {
	return &converter{f: f, opts: opts, dlOpts: contact.FileOptions(f)}
}

// convert reads and converts one item. A panic in a converter becomes this
// item's failure.
func (c *converter) convert(j job) (r result) {
	r.class = j.ref.Class
	defer func() {
		if p := recover(); p != nil {
			r.stage, r.err = "convert", fmt.Errorf("internal error: %v\n%s", p, debug.Stack())
		}
	}()
	m, err := c.f.Message(j.ref.NID)
	if err != nil {
		r.stage, r.err = "read", err
		return r
	}
	// Everything below renders the item into r's own buffers; then the
	// buffers it was read into go back for the next items.
	defer m.Release()
	r.class = m.Class()
	if j.ref.Class != "" {
		r.class = j.ref.Class // count by the class the folder lists
	}
	r.subject = m.Subject()
	r.kind = pst.KindOf(m.Class())
	r.stage = "convert"
	base := fmt.Sprintf("%s_%x", nameFor(m), j.ref.NID)
	buf := getBuffer()
	r.buf = buf
	switch r.kind {
	case pst.KindContact:
		card, err := contact.ToVCard(m)
		if err == nil {
			err = sink.EncodeVCard(buf, card, c.opts.VCard)
		}
		r.file, r.err = sink.SafeName(base)+".vcf", err
	case pst.KindDistList:
		card, err := contact.DistListToVCard(m, c.dlOpts)
		if err == nil {
			err = sink.EncodeVCard(buf, card, c.opts.VCard)
		}
		r.file, r.err = sink.SafeName(base)+".vcf", err
	case pst.KindAppointment, pst.KindTask, pst.KindJournal:
		conv := cal.Event
		switch r.kind {
		case pst.KindTask:
			conv = cal.Todo
		case pst.KindJournal:
			conv = cal.Journal
		}
		ics, err := conv(m, cal.Options{})
		if err == nil {
			err = sink.EncodeICS(buf, ics)
		}
		r.file, r.err = sink.SafeName(base)+".ics", err
	case pst.KindNote:
		buf.WriteString(cal.NoteText(m))
		r.file = sink.SafeName(base) + ".txt"
	default: // mail and every other class travel as messages
		if err := mail.BuildTo(buf, m, mail.Options{}); err != nil {
			r.err = err
			return r
		}
		raw := buf.Bytes()
		seen, flagged, answered, draft := mail.Flags(m)
		var fl sink.MailFlags
		if seen {
			fl |= sink.FlagSeen
		}
		if flagged {
			fl |= sink.FlagFlagged
		}
		if answered {
			fl |= sink.FlagAnswered
		}
		if draft {
			fl |= sink.FlagDraft
		}
		r.mail = &sink.MailItem{Raw: raw, Date: mail.Date(m), Flags: fl, Name: r.subject, Key: fmt.Sprintf("%x", j.ref.NID)}
		if cal.IsMeetingMessage(m.Class()) {
			// A second rendering of the same item, not a second item.
			r.extraFile, r.extraData, r.err = meetingICS(m, base)
		}
		return r
	}
	r.data = buf.Bytes()
	return r
}

// bufferPool recycles the buffers items are rendered into: fresh memory
// for every message costs page faults, which cost more than the rendering.
var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer {
	b := bufferPool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

// release returns r's buffer to the pool once its content is written (or
// dropped); r must not be used afterwards. Buffers of huge items are left
// to the garbage collector rather than kept.
func (r *result) release() {
	if r.buf != nil && r.buf.Cap() <= maxPooledBuffer {
		bufferPool.Put(r.buf)
	}
	r.buf, r.mail, r.data, r.extraData = nil, nil, nil, nil
}

const maxPooledBuffer = 1 << 20

// meetingICS renders a meeting request, response or cancellation as the
// METHOD:REQUEST, REPLY or CANCEL calendar written beside its message.
func meetingICS(m *pst.Message, base string) (string, []byte, error) {
	ics, err := cal.Event(m, cal.Options{})
	if err != nil {
		return "", nil, fmt.Errorf("meeting message as iCalendar: %w", err)
	}
	var buf bytes.Buffer
	if err := sink.EncodeICS(&buf, ics); err != nil {
		return "", nil, fmt.Errorf("meeting message as iCalendar: %w", err)
	}
	return sink.SafeName(base) + ".ics", buf.Bytes(), nil
}

// nameFor is the human part of an output file name.
func nameFor(m *pst.Message) string {
	for _, id := range []uint16{pst.TagDisplayName, pst.TagSubject} {
		if s := m.Props.String(id); s != "" {
			if len([]rune(s)) > 60 {
				s = string([]rune(s)[:60])
			}
			return s
		}
	}
	return "item"
}
