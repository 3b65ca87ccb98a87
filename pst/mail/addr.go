package mail

import (
	netmail "net/mail"
	"strings"

	"github.com/pstsync/pstsync/pst"
)

// Property ids not in package pst.
const (
	tagReplyRecipientEntries            uint16 = 0x004F
	tagReceivedRepresentingEmailAddress uint16 = 0x0078
	tagReceivedBySMTPAddress            uint16 = 0x5D07
	tagReceivedRepresentingSMTPAddress  uint16 = 0x5D08
	tagLastVerbExecuted                 uint16 = 0x1081
	tagAttachLongPathname               uint16 = 0x370D
)

// mailbox is a resolved address. orig is set ("TYPE:address") when addr is
// a placeholder standing for a non-SMTP address.
type mailbox struct {
	name, addr, orig string
}

// String formats the mailbox as name-addr: an ASCII display name as a
// quoted-string, any other as RFC 2047 encoded-words.
func (mb mailbox) String() string {
	a := (&netmail.Address{Address: mb.addr}).String()
	switch {
	case mb.name == "":
		return a
	case isPrintableASCII(mb.name):
		return quoteString(mb.name) + " " + a
	}
	return encodeWords(mb.name, true) + " " + a
}

// quoteString makes an RFC 5322 quoted-string.
func quoteString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// resolver turns MAPI (name, address type, address, SMTP address) tuples
// into RFC 5322 mailboxes.
type resolver struct {
	// exSMTP maps lower-cased non-SMTP addresses (Exchange DNs) to an
	// SMTP address found elsewhere in the message.
	exSMTP map[string]string
	// unresolved lists placeholders with what they stand for.
	unresolved []string
}

func newResolver(m *pst.Message) *resolver {
	r := &resolver{exSMTP: make(map[string]string)}
	learn := func(p *pst.Props, emailTag, smtpTag uint16) {
		email := strings.ToLower(strings.TrimSpace(p.String(emailTag)))
		smtp := strings.TrimSpace(p.String(smtpTag))
		if email == "" || smtp == "" {
			return
		}
		if a, ok := validAddr(smtp); ok {
			if _, dup := r.exSMTP[email]; !dup {
				r.exSMTP[email] = a
			}
		}
	}
	learn(m.Props, pst.TagSenderEmailAddress, pst.TagSenderSMTPAddress)
	learn(m.Props, pst.TagSentRepresentingEmailAddress, pst.TagSentRepresentingSMTPAddress)
	learn(m.Props, pst.TagReceivedByEmailAddress, tagReceivedBySMTPAddress)
	learn(m.Props, tagReceivedRepresentingEmailAddress, tagReceivedRepresentingSMTPAddress)
	for _, rp := range m.Recipients {
		if rp != nil {
			learn(rp, pst.TagEmailAddress, pst.TagSMTPAddress)
		}
	}
	return r
}

// validAddr normalizes s to an addr-spec that net/mail accepts, quoting
// the local part when needed.
func validAddr(s string) (string, bool) {
	s = strings.TrimSpace(s)
	s = strings.Trim(s, `'"`)
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
		s = s[1 : len(s)-1]
	}
	if len(s) > 5 && strings.EqualFold(s[:5], "smtp:") {
		s = s[5:]
	}
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 900 || !strings.Contains(s, "@") {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return "", false
		}
	}
	if a, err := netmail.ParseAddress(s); err == nil && a.Name == "" && a.Address != "" {
		return a.Address, true
	}
	// Retry with the local part quoted ("john smith"@example.com).
	q := (&netmail.Address{Address: s}).String()
	if a, err := netmail.ParseAddress(q); err == nil && a.Address != "" {
		if _, err := netmail.ParseAddress((&netmail.Address{Address: a.Address}).String()); err == nil {
			return a.Address, true
		}
	}
	return "", false
}

// resolve maps one MAPI address to a mailbox. ok is false when there is
// nothing at all (no name, no address).
func (r *resolver) resolve(name, addrType, email, smtp string) (mailbox, bool) {
	name = cleanText(name)
	addrType = strings.TrimSpace(addrType)
	email = strings.TrimSpace(email)
	isEX := strings.EqualFold(addrType, "EX")
	cands := []string{smtp}
	if addrType == "" || strings.EqualFold(addrType, "SMTP") {
		cands = append(cands, email)
	}
	if email != "" {
		if s, ok := r.exSMTP[strings.ToLower(email)]; ok {
			cands = append(cands, s)
		}
		if !isEX {
			cands = append(cands, email)
		}
	}
	for _, c := range cands {
		if a, ok := validAddr(c); ok {
			return mailbox{name: displayName(name, a), addr: a}, true
		}
	}
	if name == "" && email == "" {
		return mailbox{}, false
	}
	// The display name is sometimes the address itself.
	if a, ok := validAddr(name); ok && (email == "" || !isEX) {
		return mailbox{addr: a}, true
	}
	local := placeholderLocal(email, name, isEX)
	domain := "unknown.invalid"
	if t := sanitizeLabel(addrType); t != "" {
		domain = strings.ToLower(t) + ".invalid"
	}
	mb := mailbox{name: name, addr: local + "@" + domain}
	if email != "" && addrType != "" && !strings.EqualFold(addrType, "UNKNOWN") {
		mb.orig = addrType + ":" + cleanText(email)
	}
	return mb, true
}

// note records the placeholders among l for an X- header.
func (r *resolver) note(l ...mailbox) {
	for _, mb := range l {
		if mb.orig == "" {
			continue
		}
		s := mb.addr + " " + mb.orig
		dup := false
		for _, x := range r.unresolved {
			if x == s {
				dup = true
				break
			}
		}
		if !dup {
			r.unresolved = append(r.unresolved, s)
		}
	}
}

// displayName drops a display name that merely repeats the address.
func displayName(name, addr string) string {
	n := strings.Trim(name, `'" <>`)
	if strings.EqualFold(n, addr) {
		return ""
	}
	return name
}

// placeholderLocal derives a dot-atom local part for a placeholder
// address: the last cn= of an Exchange DN, else the address, else the name.
func placeholderLocal(email, name string, isEX bool) string {
	src := email
	if isEX {
		low := strings.ToLower(email)
		if i := strings.LastIndex(low, "cn="); i >= 0 {
			src = email[i+3:]
			if j := strings.IndexAny(src, "/"); j >= 0 {
				src = src[:j]
			}
		}
	}
	if src == "" {
		src = name
	}
	l := sanitizeLabel(src)
	if len(l) > 64 {
		l = strings.Trim(l[:64], ".-")
	}
	if l == "" {
		l = "unknown"
	}
	return l
}

// sanitizeLabel keeps [A-Za-z0-9.-_], mapping other runs to '_', with no
// leading, trailing or doubled dots.
func sanitizeLabel(s string) string {
	var b strings.Builder
	under := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.'
		if !ok {
			if !under {
				b.WriteByte('_')
				under = true
			}
			continue
		}
		under = false
		b.WriteByte(c)
	}
	out := b.String()
	for strings.Contains(out, "..") {
		out = strings.ReplaceAll(out, "..", ".")
	}
	return strings.Trim(out, "._")
}

// recipients returns the To, Cc and Bcc lists from the recipient table.
func recipients(m *pst.Message, r *resolver) (to, cc, bcc []mailbox) {
	for _, rp := range m.Recipients {
		if rp == nil {
			continue
		}
		typ, ok := rp.Int(pst.TagRecipientType)
		if !ok {
			typ = 1
		}
		if typ&0x10000000 != 0 { // MAPI_P1: a resend copy
			continue
		}
		name := rp.String(pst.TagDisplayName)
		if name == "" {
			name = rp.String(pst.TagRecipientDisplayName)
		}
		mb, ok := r.resolve(name, rp.String(pst.TagAddrType), rp.String(pst.TagEmailAddress), rp.String(pst.TagSMTPAddress))
		if !ok {
			continue
		}
		switch typ & 0x0FFFFFFF {
		case 2:
			cc = append(cc, mb)
		case 3:
			bcc = append(bcc, mb)
		default:
			to = append(to, mb)
		}
	}
	return to, cc, bcc
}

// senders returns From and, when the message was sent on behalf of
// someone else, Sender ([MS-OXCMAIL] 2.2.3.2.1/2.2.3.2.2).
func senders(m *pst.Message, r *resolver) (from mailbox, sender mailbox, ok, hasSender bool) {
	p := m.Props
	s, sok := r.resolve(p.String(pst.TagSenderName), p.String(pst.TagSenderAddrType),
		p.String(pst.TagSenderEmailAddress), p.String(pst.TagSenderSMTPAddress))
	rep, rok := r.resolve(p.String(pst.TagSentRepresentingName), p.String(pst.TagSentRepresentingAddrType),
		p.String(pst.TagSentRepresentingEmailAddress), p.String(pst.TagSentRepresentingSMTPAddress))
	switch {
	case sok && rok:
		sReal, rReal := s.orig == "", rep.orig == ""
		switch {
		case sReal && rReal && !strings.EqualFold(s.addr, rep.addr):
			return rep, s, true, true
		case sReal || !rReal:
			return s, mailbox{}, true, false
		default:
			return rep, mailbox{}, true, false
		}
	case sok:
		return s, mailbox{}, true, false
	case rok:
		return rep, mailbox{}, true, false
	}
	return mailbox{}, mailbox{}, false, false
}

// displayList renders PidTagDisplayTo/Cc/Bcc (";"-separated) for a
// message whose recipient table has no such recipients: entries that are
// addresses become mailboxes, bare names are kept as the display name of
// an empty group (RFC 5322 3.4) so no address is made up.
func displayList(s string) string {
	var boxes []mailbox
	var names []string
	for _, e := range strings.Split(s, ";") {
		e = cleanText(e)
		if e == "" {
			continue
		}
		if a, ok := validAddr(e); ok {
			boxes = append(boxes, mailbox{addr: a})
		} else {
			names = append(names, e)
		}
	}
	out := addrList(boxes)
	if len(names) > 0 {
		n := strings.Join(names, ", ")
		var g string
		if isPrintableASCII(n) {
			g = quoteString(n)
		} else {
			g = encodeWords(n, true)
		}
		if out != "" {
			out += ", "
		}
		out += g + ": ;"
	}
	return out
}

// addrList joins mailboxes with ", ".
func addrList(l []mailbox) string {
	parts := make([]string, len(l))
	for i, mb := range l {
		parts[i] = mb.String()
	}
	return strings.Join(parts, ", ")
}
