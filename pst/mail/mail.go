// Package mail converts PST items to RFC 5322 Internet messages (MIME,
// CRLF line ends), following the mapping of [MS-OXCMAIL].
//
// The header comes from PidTagTransportMessageHeaders when the item has
// them (minus the MIME structure fields, since the body is rebuilt), else
// it is synthesized from the item's properties and recipient table. The
// body is text/plain and/or text/html (multipart/alternative), inline
// images go with the HTML into multipart/related, other attachments into
// multipart/mixed; embedded messages become message/rfc822 parts built
// recursively. Output is deterministic: boundaries and synthesized
// Message-IDs are derived from hashes of the content.
package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pstsync/pstsync/internal/bufpool"
	"github.com/pstsync/pstsync/pst"
)

// Options control Build.
type Options struct {
	// Now gives the Date of items that carry no time property at all;
	// time.Now when nil.
	Now func() time.Time
	// Hostname is the domain part of synthesized Message-IDs;
	// "pstsync.invalid" when empty.
	Hostname string
}

// maxDepth bounds the nesting of embedded messages.
const maxDepth = 64

// ErrTooDeep is returned when embedded messages nest deeper than 64 levels
// (which only a damaged or cyclic structure does).
var ErrTooDeep = errors.New("mail: embedded messages nested too deeply")

// Build converts m to an RFC 5322 message with CRLF line ends.
func Build(m *pst.Message, opts Options) ([]byte, error) {
	return build(m, opts, 0)
}

// Prepared is a message converted but not yet rendered: a caller can learn
// its size first and render it into a buffer that fits.
type Prepared struct {
	h    header
	body *part
}

// Prepare converts m; RenderTo then writes what Build would return.
func Prepare(m *pst.Message, opts Options) (*Prepared, error) {
	return prepare(m, opts, 0)
}

func prepare(m *pst.Message, opts Options, depth int) (*Prepared, error) {
	if m == nil {
		return nil, errors.New("mail: nil message")
	}
	if depth > maxDepth {
		return nil, ErrTooDeep
	}
	body, err := buildBody(m, opts, depth)
	if err != nil {
		return nil, err
	}
	return &Prepared{h: buildHeader(m, opts), body: body}, nil
}

// Size is an estimate of the rendered size, from above for all but
// unusual text (quoted-printable of mostly non-ASCII text, very long
// header lines): enough for a buffer that rarely needs to grow.
func (p *Prepared) Size() int { return p.h.size() + p.body.size(0) }

// RenderTo appends the message to b.
func (p *Prepared) RenderTo(b *bytes.Buffer) { renderMessage(b, p.h, p.body, nil) }

// SizeLeavingOut is Size for RenderLeavingOut(b, min).
func (p *Prepared) SizeLeavingOut(min int) int { return p.h.size() + p.body.size(min) }

// RenderLeavingOut appends the message to b except for its base64 bodies
// of min bytes or more, and returns the Rendered whose WriteTo writes
// what RenderTo would have appended, encoding those bodies as it goes:
// a message with large attachments needs memory for its small parts
// only. b must hold the bytes until WriteTo is done.
func (p *Prepared) RenderLeavingOut(b *bytes.Buffer, min int) *Rendered {
	start := b.Len()
	hs := &holes{min: max(min, 1)}
	renderMessage(b, p.h, p.body, hs)
	return &Rendered{head: b.Bytes()[start:], holes: hs.list}
}

// Rendered is a message rendered with its large base64 bodies left out.
type Rendered struct {
	head  []byte
	holes []hole
}

// WriteTo writes the message, encoding the bodies left out in pieces of
// 57 KiB (a whole number of 76-character lines).
func (r *Rendered) WriteTo(w io.Writer) (int64, error) {
	const piece = 57 << 10
	var n int64
	write := func(b []byte) error {
		m, err := w.Write(b)
		n += int64(m)
		return err
	}
	buf := bufpool.Get(base64Size(piece) + 2)
	defer bufpool.Put(buf)
	prev := 0
	for _, h := range r.holes {
		if err := write(r.head[prev:h.at]); err != nil {
			return n, err
		}
		for data := h.data; len(data) > 0; {
			k := min(len(data), piece)
			out := appendBase64Lines(buf[:0], data[:k])
			if data = data[k:]; len(data) > 0 {
				out = append(out, '\r', '\n') // the line break between pieces
			}
			if err := write(out); err != nil {
				return n, err
			}
		}
		prev = h.at
	}
	return n, write(r.head[prev:])
}

func build(m *pst.Message, opts Options, depth int) ([]byte, error) {
	p, err := prepare(m, opts, depth)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	p.RenderTo(&b)
	return b.Bytes(), nil
}

// renderMessage appends header, MIME-Version and body to b and returns how
// many renderings it took: when a boundary turns out to occur in the
// content, the message is rendered again with new boundaries.
func renderMessage(b *bytes.Buffer, h header, body *part, hs *holes) int {
	start := b.Len()
	skip := 0
	if hs != nil {
		skip = hs.min
	}
	b.Grow(h.size() + body.size(skip))
	for salt := uint32(1); ; salt++ {
		h.writeTo(b)
		b.WriteString("MIME-Version: 1.0\r\n")
		body.render(b, hs)
		// A message ends with CRLF; a body left out at the very end ends
		// without one (base64's last line).
		endHole := hs != nil && len(hs.list) > 0 && hs.list[len(hs.list)-1].at == b.Len()
		if endHole || !bytes.HasSuffix(b.Bytes()[start:], []byte("\r\n")) {
			b.WriteString("\r\n")
		}
		if body.checkBoundaries(b.Bytes()[start:], salt) || salt > 16 {
			return int(salt)
		}
		b.Truncate(start)
		if hs != nil {
			hs.list = hs.list[:0]
		}
	}
}

// Date returns the item's date: PidTagClientSubmitTime, else
// PidTagMessageDeliveryTime, else PidTagCreationTime, else
// PidTagLastModificationTime; the zero time when it has none.
func Date(m *pst.Message) time.Time {
	if m == nil {
		return time.Time{}
	}
	for _, id := range []uint16{pst.TagClientSubmitTime, pst.TagMessageDeliveryTime, pst.TagCreationTime, pst.TagLastModificationTime} {
		if t, ok := m.Props.Time(id); ok && !t.IsZero() && t.Year() > 1601 && t.Year() < 9999 {
			return t.UTC()
		}
	}
	return time.Time{}
}

// Message flags ([MS-OXCMSG] 2.2.1.6 PidTagMessageFlags).
const (
	msgFlagRead   = 0x0001
	msgFlagUnsent = 0x0008
)

// Flags derives IMAP/Maildir-style flags: seen from MSGFLAG_READ, draft
// from MSGFLAG_UNSENT, flagged from PidTagFlagStatus = followupFlagged (2),
// answered from PidTagLastVerbExecuted (reply to sender/all) or
// PidTagIconIndex "replied mail".
func Flags(m *pst.Message) (seen, flagged, answered, draft bool) {
	if m == nil {
		return
	}
	p := m.Props
	if f, ok := p.Int(pst.TagMessageFlags); ok {
		seen = f&msgFlagRead != 0
		draft = f&msgFlagUnsent != 0
	}
	if s, ok := p.Int(pst.TagFlagStatus); ok {
		flagged = s == 2
	}
	if v, ok := p.Int(tagLastVerbExecuted); ok && (v == 102 || v == 103) {
		answered = true
	}
	if v, ok := p.Int(pst.TagIconIndex); ok && (v == 0x105 || v == 0x113 || v == 0x114) {
		answered = true
	}
	return
}

// dropTransport lists header fields of the original transport headers
// that describe the MIME structure and are replaced.
var dropTransport = map[string]bool{
	"content-type":              true,
	"content-transfer-encoding": true,
	"mime-version":              true,
	"content-length":            true,
	"content-disposition":       true,
	"content-id":                true,
	"content-description":       true,
	"content-location":          true,
	"content-md5":               true,
	"content-base":              true,
	"lines":                     true,
}

// parseTransport parses PidTagTransportMessageHeaders into fields, keeping
// each field's original folding unless a line is too long. Lines that are
// not header fields (e.g. "Microsoft Mail Internet Headers Version 2.0")
// are dropped, as are the MIME structure fields.
func parseTransport(s string) header {
	var h header
	var cur []string // the current field's lines
	var name string
	open := false
	flush := func() {
		if !open {
			return
		}
		open = false
		if droppedField(name) {
			return
		}
		long := false
		for _, l := range cur {
			if len(l) > hardLimit {
				long = true
			}
		}
		if !long {
			h = append(h, field{name: name, raw: strings.Join(cur, "\r\n")})
			return
		}
		v := cur[0][strings.IndexByte(cur[0], ':')+1:]
		for _, l := range cur[1:] {
			v += " " + strings.TrimLeft(l, " \t")
		}
		h = append(h, field{name: name, value: cleanText(v)})
	}
	started := false
	for rest := s; rest != ""; {
		ln := rest
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			ln, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		ln = cleanHeaderLine(ln)
		if strings.TrimSpace(ln) == "" {
			if ln == "" && started {
				break
			}
			continue
		}
		if isWSP(ln[0]) {
			if open {
				cur = append(cur, trimWSP(ln))
			}
			continue
		}
		flush()
		i := strings.IndexByte(ln, ':')
		if i <= 0 {
			continue
		}
		n := trimWSP(ln[:i])
		if !validFieldName(n) {
			continue
		}
		// flush copied the previous field's lines into h: cur is free.
		name, cur, open, started = n, append(cur[:0], trimWSP(ln)), true, true
	}
	flush()
	return h
}

// trimWSP removes trailing blanks (space and tab); strings.TrimRight with
// a cut set builds the set on every call.
func trimWSP(s string) string {
	for len(s) > 0 && isWSP(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// cleanHeaderLine drops control characters (tab excepted) and replaces
// invalid UTF-8; a line of printable ASCII, the usual case, is returned
// as is.
func cleanHeaderLine(ln string) string {
	ln = strings.TrimSuffix(ln, "\r") // CRLF line ends
	for i := 0; i < len(ln); i++ {
		if c := ln[i]; (c < 0x20 && c != '\t') || c >= 0x7f {
			return strings.Map(func(r rune) rune {
				if r == '\t' || r >= 0x20 && r != 0x7f {
					return r
				}
				return -1
			}, strings.ToValidUTF8(ln, "\uFFFD"))
		}
	}
	return ln
}

// droppedField reports whether a transport header field describes the
// MIME structure, which is rebuilt (see dropTransport).
func droppedField(name string) bool {
	if len(name) < 5 || len(name) > 25 {
		return false
	}
	var low [25]byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	return dropTransport[string(low[:len(name)])]
}

func validFieldName(n string) bool {
	if n == "" || len(n) > 200 {
		return false
	}
	// RFC 5322 allows any printable ASCII but ':'; readers such as
	// net/textproto only accept RFC 7230 token characters, so keep to those.
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func buildHeader(m *pst.Message, opts Options) header {
	p := m.Props
	if th := p.String(pst.TagTransportMessageHeaders); strings.TrimSpace(th) != "" {
		if h := parseTransport(th); len(h) > 0 && (h.has("From") || h.has("Received") || h.has("Date") || h.has("Message-ID")) {
			if !h.has("Date") {
				h.add("Date", dateOf(m, opts).Format(time.RFC1123Z))
			}
			var r *resolver // built only when an address must be resolved
			if !h.has("From") {
				r = newResolver(m)
				from, _, _, _ := senders(m, r)
				if from.addr == "" {
					from = mailbox{addr: "unknown@unknown.invalid"}
				}
				h.add("From", from.String())
				r.note(from)
			}
			if !h.has("Subject") {
				if s := encodeText(p.String(pst.TagSubject)); s != "" {
					h.add("Subject", s)
				}
			}
			if !h.has("Message-ID") {
				h.add("Message-ID", messageID(m, opts))
			}
			if r != nil {
				addUnresolved(&h, r)
			}
			return h
		}
	}
	r := newResolver(m)
	var h header
	h.add("Date", dateOf(m, opts).Format(time.RFC1123Z))
	from, sender, ok, hasSender := senders(m, r)
	if !ok {
		from = mailbox{addr: "unknown@unknown.invalid"}
	}
	h.add("From", from.String())
	r.note(from)
	if hasSender {
		h.add("Sender", sender.String())
		r.note(sender)
	}
	var reply []mailbox
	for _, e := range replyToEntries(p.Binary(tagReplyRecipientEntries), p.String(pst.TagReplyRecipientNames)) {
		if mb, ok := r.resolve(e.name, e.addrType, e.email, ""); ok {
			reply = append(reply, mb)
		}
	}
	if len(reply) > 0 {
		h.add("Reply-To", addrList(reply))
		r.note(reply...)
	}
	to, cc, bcc := recipients(m, r)
	for _, l := range []struct {
		name string
		list []mailbox
		disp uint16
	}{{"To", to, pst.TagDisplayTo}, {"Cc", cc, pst.TagDisplayCc}, {"Bcc", bcc, pst.TagDisplayBcc}} {
		if len(l.list) > 0 {
			h.add(l.name, addrList(l.list))
			r.note(l.list...)
		} else if s := displayList(p.String(l.disp)); s != "" {
			h.add(l.name, s)
		}
	}
	if s := encodeText(p.String(pst.TagSubject)); s != "" {
		h.add("Subject", s)
	}
	h.add("Message-ID", messageID(m, opts))
	if s := msgIDs(p.String(pst.TagInReplyToID)); s != "" {
		h.add("In-Reply-To", s)
	}
	if s := msgIDs(p.String(pst.TagInternetReferences)); s != "" {
		h.add("References", s)
	}
	if imp, ok := p.Int(pst.TagImportance); ok {
		switch imp {
		case 0:
			h.add("Importance", "low")
			h.add("X-Priority", "5 (Lowest)")
		case 2:
			h.add("Importance", "high")
			h.add("X-Priority", "1 (Highest)")
		}
	}
	if s, ok := p.Int(pst.TagSensitivity); ok {
		switch s {
		case 1:
			h.add("Sensitivity", "Personal")
		case 2:
			h.add("Sensitivity", "Private")
		case 3:
			h.add("Sensitivity", "Company-Confidential")
		}
	}
	addUnresolved(&h, r)
	return h
}

// addUnresolved records what placeholder addresses stand for.
func addUnresolved(h *header, r *resolver) {
	for _, u := range r.unresolved {
		h.add("X-Pstsync-Original-Address", encodeText(u))
	}
}

func dateOf(m *pst.Message, opts Options) time.Time {
	if t := Date(m); !t.IsZero() {
		return t
	}
	if opts.Now != nil {
		return opts.Now().UTC()
	}
	return time.Now().UTC()
}

// msgIDs cleans a list of message identifiers (In-Reply-To, References),
// adding angle brackets to bare ids.
func msgIDs(s string) string {
	s = cleanText(s)
	if s == "" {
		return ""
	}
	if !strings.Contains(s, "<") {
		var ids []string
		for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
			ids = append(ids, "<"+strings.Trim(f, "<>")+">")
		}
		return strings.Join(ids, " ")
	}
	return s
}

// messageID returns PidTagInternetMessageId in angle brackets, or an id
// synthesized from a hash of the item's stable properties and its node id.
func messageID(m *pst.Message, opts Options) string {
	id := cleanText(m.Props.String(pst.TagInternetMessageID))
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	if id != "" && !strings.ContainsAny(id, " <>") {
		return "<" + id + ">"
	}
	host := sanitizeLabel(opts.Hostname)
	if host == "" {
		host = "pstsync.invalid"
	}
	// The node id keeps distinct items distinct even when their content is
	// identical (a PST can hold many copies of one draft); it is stable
	// for the same file, so re-exports give the same id.
	sum := contentHash(m, 0)
	if m.NID != 0 {
		h := sha256.New()
		h.Write(sum)
		var n [4]byte
		binary.LittleEndian.PutUint32(n[:], m.NID)
		h.Write(n[:])
		sum = h.Sum(nil)
	}
	return "<" + hex.EncodeToString(sum[:16]) + "@" + host + ">"
}

// contentHash hashes the properties that identify an item independently
// of where it is stored.
func contentHash(m *pst.Message, depth int) []byte {
	h := sha256.New()
	put := func(b []byte) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	putProp := func(p *pst.Props, id uint16) {
		x, ok := p.Get(id)
		if !ok {
			put(nil)
			return
		}
		put([]byte(fmt.Sprintf("%04x:%T:%v", id, x.Value, x.Value)))
	}
	p := m.Props
	for _, id := range []uint16{
		pst.TagMessageClass, pst.TagSubject, pst.TagClientSubmitTime, pst.TagMessageDeliveryTime,
		pst.TagCreationTime, pst.TagSenderName, pst.TagSenderEmailAddress, pst.TagSentRepresentingName,
		pst.TagSentRepresentingEmailAddress, pst.TagSearchKey, pst.TagConversationIndex,
		pst.TagDisplayTo, pst.TagDisplayCc, pst.TagDisplayBcc, pst.TagBody, pst.TagHTML, pst.TagRTFCompressed,
		pst.TagInReplyToID, pst.TagInternetReferences,
	} {
		putProp(p, id)
	}
	for _, rp := range m.Recipients {
		for _, id := range []uint16{pst.TagRecipientType, pst.TagDisplayName, pst.TagEmailAddress, pst.TagSMTPAddress} {
			putProp(rp, id)
		}
	}
	for _, a := range m.Attachments {
		if a == nil {
			put(nil)
			continue
		}
		put([]byte(a.Filename()))
		s := sha256.Sum256(a.Data)
		put(s[:])
		if a.Embedded != nil && depth < maxDepth {
			put(contentHash(a.Embedded, depth+1))
		}
	}
	return h.Sum(nil)
}

// buildBody builds the MIME structure:
// mixed(related(alternative(plain, html), inline...), attachments...),
// leaving out the levels that are not needed.
func buildBody(m *pst.Message, opts Options, depth int) (*part, error) {
	plain, html := bodies(m.Props)
	refs := cidRefs(html)
	var inline, attach []*part
	for i, a := range m.Attachments {
		if a == nil {
			continue
		}
		method := a.Method()
		if a.Embedded != nil {
			sub, err := build(a.Embedded, opts, depth+1)
			if err != nil {
				return nil, fmt.Errorf("embedded message in attachment %d: %w", i, err)
			}
			attach = append(attach, embeddedPart(a, i, sub))
			continue
		}
		if a.Data == nil && method != pst.AttachByValue && method != pst.AttachOLE {
			continue // by reference, or an embedded message that was not read
		}
		name := safeFilename(a.Filename())
		if name == "" {
			name = fmt.Sprintf("attachment-%d", i+1)
			if ext := sanitizeLabel(a.Props.String(pst.TagAttachExtension)); ext != "" {
				name += "." + ext
			}
		}
		cid := contentID(a)
		loc := cleanText(a.Props.String(pst.TagAttachContentLocation))
		hidden, _ := a.Props.Bool(pst.TagAttachmentHidden)
		flags, _ := a.Props.Int(pst.TagAttachFlags)
		isInline := html != "" && method != pst.AttachOLE &&
			(cid != "" && refs[strings.ToLower(cid)] || (hidden || flags&4 != 0) && (cid != "" || loc != ""))
		var h header
		h.add("Content-Type", attachType(a, name)+fileParam("name", name))
		h.add("Content-Transfer-Encoding", "base64")
		if cid != "" {
			h.add("Content-ID", "<"+cid+">")
		}
		if loc != "" && isInline {
			h.add("Content-Location", encodeText(loc))
		}
		disp := "attachment"
		if isInline {
			disp = "inline"
		}
		h.add("Content-Disposition", disp+fileParam("filename", name))
		p := leaf(h, encBase64, "", a.Data)
		if isInline {
			inline = append(inline, p)
		} else {
			attach = append(attach, p)
		}
	}
	var text *part
	relatedType := "text/plain"
	switch {
	case html != "" && strings.TrimSpace(plain) != "":
		text = multipartOf("alternative", []*part{textPart("plain", plain), textPart("html", html)})
		relatedType = "multipart/alternative"
	case html != "":
		text = textPart("html", html)
		relatedType = "text/html"
	default:
		text = textPart("plain", plain)
	}
	if len(inline) > 0 {
		text = multipartOf("related", append([]*part{text}, inline...), "type", relatedType)
	}
	if len(attach) > 0 {
		text = multipartOf("mixed", append([]*part{text}, attach...))
	}
	return text, nil
}

// embeddedPart wraps a built embedded message as message/rfc822.
func embeddedPart(a *pst.Attachment, i int, msg []byte) *part {
	name := safeFilename(a.Filename())
	if name == "" {
		name = safeFilename(a.Embedded.Subject())
	}
	if name == "" {
		name = fmt.Sprintf("message-%d", i+1)
	}
	low := strings.ToLower(name)
	switch {
	case strings.HasSuffix(low, ".eml"):
	case strings.HasSuffix(low, ".msg"):
		name = name[:len(name)-4] + ".eml"
	default:
		name += ".eml"
	}
	var h header
	h.add("Content-Type", "message/rfc822"+fileParam("name", name))
	if isASCII(string(msg)) {
		h.add("Content-Transfer-Encoding", "7bit")
	} else {
		h.add("Content-Transfer-Encoding", "8bit")
	}
	h.add("Content-Disposition", "attachment"+fileParam("filename", name))
	return leaf(h, encRaw, "", msg)
}
