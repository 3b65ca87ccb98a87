package migrate

import (
	"bytes"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/pstsync/pstsync/internal/bufpool"
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
	// An export keeps every part of a damaged item that can be read; the
	// report names the parts that could not.
	m, err := c.f.Salvage(j.ref.NID)
	if err != nil {
		r.stage, r.err = "read", err
		return r
	}
	r.missing = m.Missing
	// Everything below renders the item into r's own buffers; then the
	// buffers it was read into go back for the next items (but for a
	// message streamed to its file, whose attachments are encoded from
	// them as it is written: its result releases it).
	keep := false
	defer func() {
		if !keep {
			m.Release()
		}
	}()
	class := m.Class()
	if !plausibleClass(class) && j.ref.Class != "" {
		class = j.ref.Class // damaged in the item: the folder's table still says
	}
	r.class = class
	if j.ref.Class != "" {
		r.class = j.ref.Class // count by the class the folder lists
	}
	r.subject = m.Subject()
	r.kind = pst.KindOf(class)
	r.stage = "convert"
	key := strconv.FormatUint(uint64(j.ref.NID), 16)
	base := nameFor(m) + "_" + key
	if r.kind != pst.KindMail && r.kind != pst.KindOther {
		r.buf = getBuffer(otherItemSize)
		r.file, r.err = c.convertOther(m, r.kind, base, r.buf)
		r.data = r.buf.Bytes()
		return r
	}
	// Mail, and every other class, travels as a message.
	msg, err := mail.Prepare(m, mail.Options{})
	if err != nil {
		r.err = err
		return r
	}
	var write func(io.Writer) error
	if size := msg.Size(); size > streamAbove && strings.EqualFold(c.opts.Mail, sink.FormatEML) {
		r.buf = getBuffer(msg.SizeLeavingOut(streamBodies))
		rd := msg.RenderLeavingOut(r.buf, streamBodies)
		write = func(w io.Writer) error { _, err := rd.WriteTo(w); return err }
		keep, r.msg = true, m
	} else {
		r.buf = getBuffer(size)
		msg.RenderTo(r.buf)
	}
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
	r.mail = &sink.MailItem{Write: write, Date: mail.Date(m), Flags: fl, Name: r.subject, Key: key}
	if write == nil {
		r.mail.Raw = r.buf.Bytes()
	}
	if cal.IsMeetingMessage(m.Class()) {
		// A second rendering of the same item, not a second item.
		r.extraFile, r.extraData, r.err = meetingICS(m, base)
	}
	return r
}

// plausibleClass reports whether a message class looks like one (printable
// ASCII, as every class Outlook writes), rather than damaged bytes.
func plausibleClass(c string) bool {
	if c == "" {
		return false
	}
	for i := 0; i < len(c); i++ {
		if c[i] < 0x20 || c[i] > 0x7E {
			return false
		}
	}
	return true
}

// convertOther renders a contact, distribution list, calendar item or note
// into buf and returns its file name.
func (c *converter) convertOther(m *pst.Message, kind pst.Kind, base string, buf *bytes.Buffer) (string, error) {
	switch kind {
	case pst.KindContact:
		card, err := contact.ToVCard(m)
		if err == nil {
			err = sink.EncodeVCard(buf, card, c.opts.VCard)
		}
		return sink.SafeName(base) + ".vcf", err
	case pst.KindDistList:
		card, err := contact.DistListToVCard(m, c.dlOpts)
		if err == nil {
			err = sink.EncodeVCard(buf, card, c.opts.VCard)
		}
		return sink.SafeName(base) + ".vcf", err
	case pst.KindAppointment, pst.KindTask, pst.KindJournal:
		conv := cal.Event
		switch kind {
		case pst.KindTask:
			conv = cal.Todo
		case pst.KindJournal:
			conv = cal.Journal
		}
		ics, err := conv(m, cal.Options{})
		if err == nil {
			err = sink.EncodeICS(buf, ics)
		}
		return sink.SafeName(base) + ".ics", err
	case pst.KindNote:
		buf.WriteString(cal.NoteText(m))
		return sink.SafeName(base) + ".txt", nil
	}
	return "", fmt.Errorf("no conversion for %s items", kind)
}

// otherItemSize is the buffer first given to a vCard, calendar or note,
// whose size is not known before it is rendered.
const otherItemSize = 16 << 10

// getBuffer returns an empty buffer with room for n bytes. Items are
// rendered into recycled buffers: fresh memory for every message costs
// page faults and zeroing, which cost more than the rendering.
func getBuffer(n int) *bytes.Buffer {
	return bytes.NewBuffer(bufpool.Get(n)[:0])
}

// release returns r's buffer to the pool once its content is written (or
// dropped); r must not be used afterwards.
func (r *result) release() {
	if r.buf != nil {
		b := r.buf.Bytes()
		bufpool.Put(b[:0:cap(b)])
	}
	if r.msg != nil {
		r.msg.Release()
	}
	r.buf, r.mail, r.data, r.extraData, r.msg = nil, nil, nil, nil, nil
}

// A message whose rendering is estimated above streamAbove bytes is
// written to an EML file as it is encoded: its base64 bodies of
// streamBodies bytes or more never sit in memory encoded. (mbox and
// Maildir rewrite line ends and take the message whole.)
const (
	streamAbove  = 1 << 20
	streamBodies = 256 << 10
)

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
