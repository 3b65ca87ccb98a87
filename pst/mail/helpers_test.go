package mail

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"

	gomessage "github.com/emersion/go-message"

	"github.com/pstsync/pstsync/pst"
)

// Property constructors for synthetic messages.

func pstr(id uint16, s string) pst.Property {
	return pst.Property{ID: id, Type: pst.TypeString, Value: s}
}

func pint(id uint16, n int32) pst.Property {
	return pst.Property{ID: id, Type: pst.TypeInt32, Value: n}
}

func pbool(id uint16, b bool) pst.Property {
	return pst.Property{ID: id, Type: pst.TypeBool, Value: b}
}

func pbin(id uint16, b []byte) pst.Property {
	return pst.Property{ID: id, Type: pst.TypeBinary, Value: b}
}

func ptime(id uint16, t time.Time) pst.Property {
	return pst.Property{ID: id, Type: pst.TypeTime, Value: t}
}

func props(ps ...pst.Property) *pst.Props { return pst.NewProps(nil, ps...) }

func recip(typ int32, name, addrType, email, smtp string) *pst.Props {
	ps := []pst.Property{pint(pst.TagRecipientType, typ), pstr(pst.TagDisplayName, name)}
	if addrType != "" {
		ps = append(ps, pstr(pst.TagAddrType, addrType))
	}
	if email != "" {
		ps = append(ps, pstr(pst.TagEmailAddress, email))
	}
	if smtp != "" {
		ps = append(ps, pstr(pst.TagSMTPAddress, smtp))
	}
	return props(ps...)
}

func fileAttach(name string, data []byte, extra ...pst.Property) *pst.Attachment {
	ps := append([]pst.Property{pint(pst.TagAttachMethod, pst.AttachByValue), pstr(pst.TagAttachLongFilename, name)}, extra...)
	return &pst.Attachment{Props: props(ps...), Data: data}
}

var testDate = time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)

// simpleMessage is a plain-text mail from alice to bob.
func simpleMessage(extra ...pst.Property) *pst.Message {
	ps := []pst.Property{
		pstr(pst.TagMessageClass, "IPM.Note"),
		pstr(pst.TagSubject, "Hello"),
		ptime(pst.TagClientSubmitTime, testDate),
		pstr(pst.TagSenderName, "Alice Example"),
		pstr(pst.TagSenderAddrType, "SMTP"),
		pstr(pst.TagSenderEmailAddress, "alice@example.com"),
		pstr(pst.TagBody, "Hi Bob,\r\nhow are you?\r\n"),
	}
	ps = append(ps, extra...)
	return &pst.Message{
		Props:      props(ps...),
		Recipients: []*pst.Props{recip(1, "Bob Example", "SMTP", "bob@example.com", "")},
	}
}

func mustBuild(t testing.TB, m *pst.Message) []byte {
	t.Helper()
	raw, err := Build(m, Options{Now: func() time.Time { return testDate }, Hostname: "test.example"})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	checkWire(t, raw)
	return raw
}

// checkWire asserts the wire-format invariants: CRLF line ends only, no
// line longer than 998 characters, header lines within 78 unless a single
// word forces more, no NUL.
func checkWire(t testing.TB, raw []byte) {
	t.Helper()
	if bytes.IndexByte(raw, 0) >= 0 {
		t.Errorf("message contains NUL")
	}
	lines := bytes.Split(raw, []byte("\r\n"))
	for i, l := range lines {
		if bytes.IndexByte(l, '\r') >= 0 || bytes.IndexByte(l, '\n') >= 0 {
			t.Fatalf("line %d has a bare CR or LF: %q", i+1, l)
		}
		if len(l) > 998 {
			t.Fatalf("line %d is %d characters long", i+1, len(l))
		}
	}
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		t.Errorf("message does not end with CRLF")
	}
}

// node is one entity of a parsed message tree.
type node struct {
	mediaType string
	params    map[string]string
	header    textproto.MIMEHeader
	body      []byte // decoded leaf body
	children  []*node
	embedded  *node // message/rfc822 content
}

func (n *node) shape() string {
	switch {
	case n.embedded != nil:
		return "message/rfc822[" + n.embedded.shape() + "]"
	case len(n.children) > 0:
		var s []string
		for _, c := range n.children {
			s = append(s, c.shape())
		}
		return strings.TrimPrefix(n.mediaType, "multipart/") + "(" + strings.Join(s, ",") + ")"
	}
	return n.mediaType
}

// leaves returns the leaf entities in depth-first order (not descending
// into embedded messages).
func (n *node) leaves() []*node {
	if len(n.children) == 0 {
		return []*node{n}
	}
	var out []*node
	for _, c := range n.children {
		out = append(out, c.leaves()...)
	}
	return out
}

func (n *node) find(mediaType string) *node {
	for _, l := range n.leaves() {
		if l.mediaType == mediaType {
			return l
		}
	}
	return nil
}

func (n *node) filename() string {
	if _, p, err := mime.ParseMediaType(n.header.Get("Content-Disposition")); err == nil {
		if f := p["filename"]; f != "" {
			return f
		}
	}
	return n.params["name"]
}

// parseStd parses raw with net/mail and mime/multipart only.
func parseStd(t testing.TB, raw []byte) (*netmail.Message, *node) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("net/mail: %v", err)
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return msg, parseEntity(t, textproto.MIMEHeader(msg.Header), body, 0)
}

func parseEntity(t testing.TB, h textproto.MIMEHeader, body []byte, depth int) *node {
	t.Helper()
	if depth > 100 {
		t.Fatalf("too deep")
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
	}
	n := &node{mediaType: mt, params: params, header: h}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		if params["boundary"] == "" {
			t.Fatalf("multipart without boundary")
		}
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("multipart %s: %v", mt, err)
			}
			b, err := io.ReadAll(p)
			if err != nil {
				t.Fatalf("read part: %v", err)
			}
			n.children = append(n.children, parseEntity(t, p.Header, b, depth+1))
		}
		if len(n.children) == 0 {
			t.Fatalf("empty multipart")
		}
	case mt == "message/rfc822":
		msg, err := netmail.ReadMessage(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("embedded net/mail: %v", err)
		}
		b, _ := io.ReadAll(msg.Body)
		n.embedded = parseEntity(t, textproto.MIMEHeader(msg.Header), b, depth+1)
		n.embedded.header = textproto.MIMEHeader(msg.Header)
		n.body = body
	default:
		switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
		case "base64":
			d, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(body)))
			if err != nil {
				t.Fatalf("base64: %v", err)
			}
			n.body = d
		case "quoted-printable":
			d, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
			if err != nil {
				t.Fatalf("quoted-printable: %v", err)
			}
			n.body = d
		default:
			n.body = body
		}
	}
	return n
}

// parseGo parses raw with github.com/emersion/go-message.
func parseGo(t testing.TB, raw []byte) *node {
	t.Helper()
	e, err := gomessage.Read(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("go-message: %v", err)
	}
	return goEntity(t, e, 0)
}

func goEntity(t testing.TB, e *gomessage.Entity, depth int) *node {
	t.Helper()
	mt, params, err := e.Header.ContentType()
	if err != nil {
		t.Fatalf("go-message Content-Type: %v", err)
	}
	n := &node{mediaType: mt, params: params, header: textproto.MIMEHeader{}}
	fs := e.Header.Fields()
	for fs.Next() {
		n.header.Add(fs.Key(), fs.Value())
	}
	if mr := e.MultipartReader(); mr != nil {
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("go-message part: %v", err)
			}
			n.children = append(n.children, goEntity(t, p, depth+1))
		}
		return n
	}
	b, err := io.ReadAll(e.Body)
	if err != nil {
		t.Fatalf("go-message body: %v", err)
	}
	n.body = b
	if mt == "message/rfc822" {
		sub, err := gomessage.Read(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("go-message embedded: %v", err)
		}
		n.embedded = goEntity(t, sub, depth+1)
	}
	return n
}

// goFilename returns the attachment file name as go-message decodes it.
func goFilename(n *node) string {
	h := gomessage.Header{}
	for k, vs := range n.header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	_, p, err := h.ContentDisposition()
	if err == nil && p["filename"] != "" {
		return p["filename"]
	}
	return n.params["name"]
}

func decodeWord(t testing.TB, s string) string {
	t.Helper()
	d, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return d
}

// headerOf rebuilds a go-message header from a parsed node.
func headerOf(n *node) gomessage.Header {
	h := gomessage.Header{}
	for k, vs := range n.header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	return h
}
