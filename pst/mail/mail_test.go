package mail

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"

	"github.com/pstsync/pstsync/pst"
)

func TestBuildPlain(t *testing.T) {
	m := simpleMessage(
		pstr(pst.TagInternetMessageID, "<abc@example.com>"),
		pstr(pst.TagInReplyToID, "<parent@example.com>"),
		pstr(pst.TagInternetReferences, "<root@example.com> <parent@example.com>"),
		pint(pst.TagImportance, 2),
		pint(pst.TagSensitivity, 2),
	)
	m.Recipients = append(m.Recipients,
		recip(2, "Carol", "SMTP", "carol@example.com", ""),
		recip(3, "", "SMTP", "dave@example.com", ""))
	raw := mustBuild(t, m)
	msg, tree := parseStd(t, raw)
	h := msg.Header
	want := map[string]string{
		"From":         `"Alice Example" <alice@example.com>`,
		"To":           `"Bob Example" <bob@example.com>`,
		"Cc":           `"Carol" <carol@example.com>`,
		"Bcc":          `<dave@example.com>`,
		"Subject":      "Hello",
		"Date":         "Thu, 04 Mar 2021 05:06:07 +0000",
		"Message-Id":   "<abc@example.com>",
		"In-Reply-To":  "<parent@example.com>",
		"References":   "<root@example.com> <parent@example.com>",
		"Importance":   "high",
		"X-Priority":   "1 (Highest)",
		"Sensitivity":  "Private",
		"Mime-Version": "1.0",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if tree.shape() != "text/plain" {
		t.Errorf("shape = %s", tree.shape())
	}
	if got := string(tree.body); got != "Hi Bob,\r\nhow are you?\r\n" {
		t.Errorf("body = %q", got)
	}
	if d, err := h.Date(); err != nil || !d.Equal(testDate) {
		t.Errorf("Date() = %v, %v", d, err)
	}
	// go-message agrees.
	g := parseGo(t, raw)
	gh := gomail.Header{Header: headerOf(g)}
	if s, _ := gh.Subject(); s != "Hello" {
		t.Errorf("go-message subject %q", s)
	}
	if l, err := gh.AddressList("Cc"); err != nil || len(l) != 1 || l[0].Address != "carol@example.com" {
		t.Errorf("go-message Cc = %v, %v", l, err)
	}
}

func TestSenderResolution(t *testing.T) {
	const dn = "/o=Org/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=jsmith"
	tests := []struct {
		name       string
		props      []pst.Property
		recips     []*pst.Props
		wantFrom   string // addr-spec
		wantName   string
		wantSender string
		wantXOrig  bool
	}{
		{
			name: "sender smtp property wins",
			props: []pst.Property{pstr(pst.TagSenderName, "J Smith"), pstr(pst.TagSenderAddrType, "EX"),
				pstr(pst.TagSenderEmailAddress, dn), pstr(pst.TagSenderSMTPAddress, "j.smith@org.example")},
			wantFrom: "j.smith@org.example", wantName: "J Smith",
		},
		{
			name:     "smtp address type",
			props:    []pst.Property{pstr(pst.TagSenderName, "x@example.org"), pstr(pst.TagSenderAddrType, "SMTP"), pstr(pst.TagSenderEmailAddress, "x@example.org")},
			wantFrom: "x@example.org", wantName: "",
		},
		{
			name: "representing only",
			props: []pst.Property{pstr(pst.TagSentRepresentingName, "Rep"), pstr(pst.TagSentRepresentingAddrType, "SMTP"),
				pstr(pst.TagSentRepresentingEmailAddress, "rep@example.org")},
			wantFrom: "rep@example.org", wantName: "Rep",
		},
		{
			name: "on behalf of",
			props: []pst.Property{pstr(pst.TagSenderName, "Assistant"), pstr(pst.TagSenderAddrType, "SMTP"),
				pstr(pst.TagSenderEmailAddress, "assistant@example.org"),
				pstr(pst.TagSentRepresentingName, "Boss"), pstr(pst.TagSentRepresentingAddrType, "SMTP"),
				pstr(pst.TagSentRepresentingEmailAddress, "boss@example.org")},
			wantFrom: "boss@example.org", wantName: "Boss", wantSender: "assistant@example.org",
		},
		{
			name:     "EX resolved through recipient table",
			props:    []pst.Property{pstr(pst.TagSenderName, "J Smith"), pstr(pst.TagSenderAddrType, "EX"), pstr(pst.TagSenderEmailAddress, dn)},
			recips:   []*pst.Props{recip(2, "J Smith", "EX", strings.ToUpper(dn), "jsmith@org.example")},
			wantFrom: "jsmith@org.example", wantName: "J Smith",
		},
		{
			name:     "EX unresolved gives placeholder",
			props:    []pst.Property{pstr(pst.TagSenderName, "J Smith"), pstr(pst.TagSenderAddrType, "EX"), pstr(pst.TagSenderEmailAddress, dn)},
			wantFrom: "jsmith@ex.invalid", wantName: "J Smith", wantXOrig: true,
		},
		{
			name:     "local part needing quotes",
			props:    []pst.Property{pstr(pst.TagSenderAddrType, "SMTP"), pstr(pst.TagSenderEmailAddress, "john smith@example.org")},
			wantFrom: "john smith@example.org",
		},
		{
			name:     "nothing at all",
			wantFrom: "unknown@unknown.invalid",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps := append([]pst.Property{pstr(pst.TagSubject, "s"), ptime(pst.TagClientSubmitTime, testDate)}, tc.props...)
			m := &pst.Message{Props: props(ps...), Recipients: tc.recips}
			raw := mustBuild(t, m)
			msg, _ := parseStd(t, raw)
			from, err := netmail.ParseAddress(msg.Header.Get("From"))
			if err != nil {
				t.Fatalf("From %q: %v", msg.Header.Get("From"), err)
			}
			if from.Address != tc.wantFrom || from.Name != tc.wantName {
				t.Errorf("From = %q <%s>, want %q <%s>", from.Name, from.Address, tc.wantName, tc.wantFrom)
			}
			if got := msg.Header.Get("Sender"); tc.wantSender == "" && got != "" {
				t.Errorf("unexpected Sender %q", got)
			} else if tc.wantSender != "" {
				s, err := netmail.ParseAddress(got)
				if err != nil || s.Address != tc.wantSender {
					t.Errorf("Sender = %q (%v), want %s", got, err, tc.wantSender)
				}
			}
			x := msg.Header.Get("X-Pstsync-Original-Address")
			if tc.wantXOrig != (x != "") {
				t.Errorf("X-Pstsync-Original-Address = %q", x)
			}
			if tc.wantXOrig && !strings.Contains(x, "EX:"+dn) {
				t.Errorf("X header lacks the DN: %q", x)
			}
		})
	}
}

func TestNonASCIIHeaders(t *testing.T) {
	subj := "Grüße — 日本語の件名です、とても長い件名が折り返されるかどうかを確かめるためのテキスト"
	m := simpleMessage(pstr(pst.TagSubject, subj), pstr(pst.TagSenderName, "José Müller, Jr."))
	m.Recipients = []*pst.Props{recip(1, "山田 太郎", "SMTP", "taro@example.jp", ""), recip(1, `He said "hi"`, "SMTP", "q@example.com", "")}
	raw := mustBuild(t, m)
	for _, l := range strings.Split(string(raw[:bytes.Index(raw, []byte("\r\n\r\n"))]), "\r\n") {
		if len(l) > 78 {
			t.Errorf("header line longer than 78: %q", l)
		}
		for i := 0; i < len(l); i++ {
			if l[i] >= 0x80 {
				t.Fatalf("raw 8-bit in synthesized header: %q", l)
			}
		}
	}
	msg, _ := parseStd(t, raw)
	if got := decodeWord(t, msg.Header.Get("Subject")); got != subj {
		t.Errorf("Subject = %q", got)
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || from[0].Name != "José Müller, Jr." {
		t.Errorf("From = %v, %v", from, err)
	}
	to, err := msg.Header.AddressList("To")
	if err != nil || len(to) != 2 || to[0].Name != "山田 太郎" || to[1].Name != `He said "hi"` {
		t.Errorf("To = %v, %v", to, err)
	}
	gh := gomail.Header{Header: headerOf(parseGo(t, raw))}
	if s, err := gh.Subject(); err != nil || s != subj {
		t.Errorf("go-message Subject = %q, %v", s, err)
	}
	if l, err := gh.AddressList("To"); err != nil || len(l) != 2 || l[0].Name != "山田 太郎" {
		t.Errorf("go-message To = %v, %v", l, err)
	}
}

func TestManyRecipients(t *testing.T) {
	m := simpleMessage()
	m.Recipients = nil
	for i := 0; i < 200; i++ {
		m.Recipients = append(m.Recipients, recip(1, fmt.Sprintf("Recipient Number %d", i), "SMTP", fmt.Sprintf("r%03d@example.com", i), ""))
	}
	raw := mustBuild(t, m)
	hdr := string(raw[:bytes.Index(raw, []byte("\r\n\r\n"))])
	for _, l := range strings.Split(hdr, "\r\n") {
		if len(l) > 78 {
			t.Errorf("header line of %d characters: %q", len(l), l)
		}
	}
	msg, _ := parseStd(t, raw)
	to, err := msg.Header.AddressList("To")
	if err != nil {
		t.Fatal(err)
	}
	if len(to) != 200 {
		t.Fatalf("got %d recipients", len(to))
	}
	for i, a := range to {
		if a.Address != fmt.Sprintf("r%03d@example.com", i) || a.Name != fmt.Sprintf("Recipient Number %d", i) {
			t.Errorf("recipient %d = %v", i, a)
		}
	}
	gh := gomail.Header{Header: headerOf(parseGo(t, raw))}
	if l, err := gh.AddressList("To"); err != nil || len(l) != 200 {
		t.Errorf("go-message: %d, %v", len(l), err)
	}
}

func TestLongHeaderWithoutSpaces(t *testing.T) {
	long := strings.Repeat("x", 3000)
	m := simpleMessage(pstr(pst.TagSubject, long), pstr(pst.TagInternetReferences, "<"+long+"@example.com>"))
	raw := mustBuild(t, m) // checkWire asserts lines ≤ 998
	msg, _ := parseStd(t, raw)
	if got := strings.ReplaceAll(msg.Header.Get("Subject"), " ", ""); got != long {
		t.Errorf("subject not preserved modulo folding: %d chars", len(got))
	}
}

func TestHTMLBodies(t *testing.T) {
	cp1252, _ := charmap.Windows1252.NewEncoder().String(`<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252"></head><body>Café “quoted” €5</body></html>`)
	sjis, _ := japanese.ShiftJIS.NewEncoder().String("<html><body>日本語のメールです</body></html>")
	tests := []struct {
		name      string
		props     []pst.Property
		wantShape string
		wantHTML  string // substring of decoded HTML
		notHTML   string
	}{
		{
			name:      "string html with plain",
			props:     []pst.Property{pstr(pst.TagHTML, "<p>Hi <b>Bob</b></p>")},
			wantShape: "alternative(text/plain,text/html)",
			wantHTML:  "<p>Hi <b>Bob</b></p>",
		},
		{
			name:      "binary cp1252",
			props:     []pst.Property{pbin(pst.TagHTML, []byte(cp1252)), pint(pst.TagInternetCodepage, 1252)},
			wantShape: "alternative(text/plain,text/html)",
			wantHTML:  "Café “quoted” €5",
			notHTML:   "windows-1252",
		},
		{
			name:      "binary cp932",
			props:     []pst.Property{pbin(pst.TagHTML, []byte(sjis)), pint(pst.TagInternetCodepage, 932)},
			wantShape: "alternative(text/plain,text/html)",
			wantHTML:  "日本語のメールです",
		},
		{
			name:      "binary html without code page but meta charset",
			props:     []pst.Property{pbin(pst.TagHTML, []byte(cp1252))},
			wantShape: "alternative(text/plain,text/html)",
			wantHTML:  "Café “quoted” €5",
		},
		{
			name:      "html only",
			props:     []pst.Property{pstr(pst.TagBody, ""), pstr(pst.TagHTML, "<p>only</p>")},
			wantShape: "text/html",
			wantHTML:  "<p>only</p>",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := mustBuild(t, simpleMessage(tc.props...))
			_, tree := parseStd(t, raw)
			if tree.shape() != tc.wantShape {
				t.Fatalf("shape = %s, want %s", tree.shape(), tc.wantShape)
			}
			h := tree.find("text/html")
			if h == nil || h.params["charset"] != "utf-8" {
				t.Fatalf("no utf-8 html part")
			}
			if !strings.Contains(string(h.body), tc.wantHTML) {
				t.Errorf("html = %q, want it to contain %q", h.body, tc.wantHTML)
			}
			if tc.notHTML != "" && strings.Contains(string(h.body), tc.notHTML) {
				t.Errorf("html still contains %q", tc.notHTML)
			}
			g := parseGo(t, raw)
			if g.shape() != tc.wantShape {
				t.Errorf("go-message shape = %s", g.shape())
			}
			if gh := g.find("text/html"); gh == nil || !bytes.Equal(gh.body, h.body) {
				t.Errorf("go-message html differs")
			}
		})
	}
}

func TestTextEncodings(t *testing.T) {
	tests := []struct {
		name, text, cte string
	}{
		{"ascii", "short\nlines\n", "7bit"},
		{"long ascii line", strings.Repeat("word ", 400), "quoted-printable"},
		{"latin", "Grüße aus Köln\n", "quoted-printable"},
		{"japanese", "日本語のテキストです。\n", "base64"},
		{"control", "a\x01b", "base64"},
		{"trailing space", "a \nb", "quoted-printable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := mustBuild(t, simpleMessage(pstr(pst.TagBody, tc.text)))
			_, tree := parseStd(t, raw)
			if got := tree.header.Get("Content-Transfer-Encoding"); got != tc.cte {
				t.Errorf("CTE = %s, want %s", got, tc.cte)
			}
			want := strings.ReplaceAll(tc.text, "\n", "\r\n")
			if got := strings.TrimSuffix(string(tree.body), "\r\n"); got != strings.TrimSuffix(want, "\r\n") {
				t.Errorf("body round trip:\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestAttachments(t *testing.T) {
	pdf := bytes.Repeat([]byte("%PDF-1.4 binary \x00\xff\x10"), 100)
	img := []byte("\x89PNG\r\n\x1a\nfake image data")
	names := []string{"report.pdf", "résumé.docx", "日本語のファイル名.txt", "noext", strings.Repeat("長い名前", 40) + ".bin"}
	m := simpleMessage(pstr(pst.TagHTML, `<p>see <img src="cid:img1@x"></p>`))
	m.Attachments = []*pst.Attachment{
		fileAttach(names[0], pdf, pstr(pst.TagAttachMimeTag, "application/pdf")),
		fileAttach(names[1], []byte("docx bytes")),
		fileAttach(names[2], []byte("テキスト")),
		fileAttach(names[3], []byte{1, 2, 3}),
		fileAttach(names[4], []byte("long")),
		fileAttach("image001.png", img, pstr(pst.TagAttachContentID, "img1@x"), pstr(pst.TagAttachMimeTag, "image/png")),
		fileAttach("hidden.gif", []byte("GIF89a"), pstr(pst.TagAttachContentID, "<other@x>"), pbool(pst.TagAttachmentHidden, true)),
		{Props: props(pint(pst.TagAttachMethod, pst.AttachOLE), pstr(pst.TagDisplayName, "Picture (Device Independent Bitmap)")), Data: []byte("OLE")},
		{Props: props(pint(pst.TagAttachMethod, pst.AttachByReference), pstr(pst.TagAttachLongFilename, `\\server\share\x.doc`))},
		nil,
	}
	raw := mustBuild(t, m)
	_, tree := parseStd(t, raw)
	wantShape := "mixed(related(alternative(text/plain,text/html),image/png,image/gif),application/pdf," +
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document,text/plain,application/octet-stream," +
		"application/octet-stream,application/octet-stream)"
	if tree.shape() != wantShape {
		t.Fatalf("shape\n got %s\nwant %s", tree.shape(), wantShape)
	}
	g := parseGo(t, raw)
	if g.shape() != wantShape {
		t.Errorf("go-message shape %s", g.shape())
	}
	if rel := tree.children[0]; rel.params["type"] != "multipart/alternative" {
		t.Errorf("related type = %q", rel.params["type"])
	}
	leaves, gleaves := tree.leaves(), g.leaves()
	wantData := [][]byte{pdf, []byte("docx bytes"), []byte("テキスト"), {1, 2, 3}, []byte("long"), []byte("OLE")}
	atts := leaves[4:]
	for i, l := range atts {
		if !bytes.Equal(l.body, wantData[i]) {
			t.Errorf("attachment %d data differs", i)
		}
		if !bytes.Equal(gleaves[4+i].body, wantData[i]) {
			t.Errorf("go-message attachment %d data differs", i)
		}
		if i < len(names) {
			if got := l.filename(); got != names[i] {
				t.Errorf("attachment %d filename = %q, want %q", i, got, names[i])
			}
			if got := goFilename(gleaves[4+i]); got != names[i] {
				t.Errorf("go-message attachment %d filename = %q, want %q", i, got, names[i])
			}
			if d := l.header.Get("Content-Disposition"); !strings.HasPrefix(d, "attachment") {
				t.Errorf("disposition %q", d)
			}
		}
	}
	if got := atts[5].filename(); got != "Picture (Device Independent Bitmap)" {
		t.Errorf("OLE name %q", got)
	}
	png := leaves[2]
	if png.header.Get("Content-Id") != "<img1@x>" || !strings.HasPrefix(png.header.Get("Content-Disposition"), "inline") || !bytes.Equal(png.body, img) {
		t.Errorf("inline image: %v", png.header)
	}
	if gif := leaves[3]; gif.header.Get("Content-Id") != "<other@x>" {
		t.Errorf("hidden image Content-ID %q", gif.header.Get("Content-Id"))
	}
	// base64 lines are 76 characters.
	for _, l := range strings.Split(string(raw), "\r\n") {
		if len(l) > 76 && !strings.Contains(l, ":") && !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "\t") && !strings.HasPrefix(l, "--") {
			t.Errorf("body line of %d characters", len(l))
			break
		}
	}
}

func TestInlineWithoutHTMLIsAttachment(t *testing.T) {
	m := simpleMessage()
	m.Attachments = []*pst.Attachment{fileAttach("a.png", []byte("x"), pstr(pst.TagAttachContentID, "a@b"), pbool(pst.TagAttachmentHidden, true))}
	_, tree := parseStd(t, mustBuild(t, m))
	if tree.shape() != "mixed(text/plain,image/png)" {
		t.Errorf("shape = %s", tree.shape())
	}
}

func embeddedChain(depth int) *pst.Message {
	m := simpleMessage(pstr(pst.TagSubject, fmt.Sprintf("level %d", depth)))
	if depth > 0 {
		m.Attachments = []*pst.Attachment{
			{Props: props(pint(pst.TagAttachMethod, pst.AttachEmbeddedMsg), pstr(pst.TagDisplayName, fmt.Sprintf("Fwd level %d", depth-1))), Embedded: embeddedChain(depth - 1)},
			fileAttach(fmt.Sprintf("file%d.txt", depth), []byte(fmt.Sprintf("data %d", depth))),
		}
	}
	return m
}

func TestEmbeddedDepth(t *testing.T) {
	raw := mustBuild(t, embeddedChain(3))
	for name, tree := range map[string]*node{"std": func() *node { _, n := parseStd(t, raw); return n }(), "go-message": parseGo(t, raw)} {
		want := "mixed(text/plain,message/rfc822[mixed(text/plain,message/rfc822[mixed(text/plain,message/rfc822[text/plain],text/plain)],text/plain)],text/plain)"
		if tree.shape() != want {
			t.Errorf("%s shape\n got %s\nwant %s", name, tree.shape(), want)
			continue
		}
		n := tree
		for level := 3; level > 0; level-- {
			emb := n.children[1]
			if f := emb.filename(); f != fmt.Sprintf("Fwd level %d.eml", level-1) {
				t.Errorf("%s level %d filename %q", name, level, f)
			}
			if d := string(n.children[2].body); d != fmt.Sprintf("data %d", level) {
				t.Errorf("%s level %d attachment %q", name, level, d)
			}
			n = emb.embedded
			if s := n.header.Get("Subject"); s != fmt.Sprintf("level %d", level-1) {
				t.Errorf("%s embedded subject %q", name, s)
			}
		}
	}
}

func TestCycleIsError(t *testing.T) {
	m := simpleMessage()
	m.Attachments = []*pst.Attachment{{Props: props(pint(pst.TagAttachMethod, pst.AttachEmbeddedMsg)), Embedded: m}}
	if _, err := Build(m, Options{}); err == nil {
		t.Fatal("no error for a cyclic message")
	}
}

func TestDeterministic(t *testing.T) {
	a := embeddedChain(2)
	a.Props.Set(pstr(pst.TagHTML, "<p>x</p>"))
	r1, r2 := mustBuild(t, a), mustBuild(t, embeddedChain(2))
	if bytes.Equal(r1, r2) {
		t.Fatal("different messages gave the same output")
	}
	a2 := embeddedChain(2)
	a2.Props.Set(pstr(pst.TagHTML, "<p>x</p>"))
	if !bytes.Equal(r1, mustBuild(t, a2)) {
		t.Fatal("same input, different output")
	}
	msg, _ := parseStd(t, r1)
	id := msg.Header.Get("Message-Id")
	if !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@test.example>") {
		t.Errorf("synthesized Message-ID %q", id)
	}
	msg2, _ := parseStd(t, r2)
	if msg2.Header.Get("Message-Id") == id {
		t.Errorf("different messages share Message-ID %s", id)
	}
	if _, err := (&gomail.Header{Header: headerOf(parseGo(t, r1))}).MessageID(); err != nil {
		t.Errorf("go-message cannot parse Message-ID: %v", err)
	}
}

func TestTransportHeaders(t *testing.T) {
	th := "Microsoft Mail Internet Headers Version 2.0\r\n" +
		"Received: from mx.example.com (mx.example.com [192.0.2.1])\r\n\tby mail.example.org; Thu, 4 Mar 2021 05:06:07 +0000\r\n" +
		"From: =?utf-8?q?Andr=C3=A9?= <andre@example.com>\r\n" +
		"To: bob@example.org\r\n" +
		"Subject: Original subject\r\n" +
		"Date: Thu, 4 Mar 2021 05:06:00 +0000\r\n" +
		"Message-ID: <orig@example.com>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed;\r\n\tboundary=\"old-boundary\"\r\n" +
		"Content-Transfer-Encoding: 7bit\r\n" +
		"X-Custom: kept\r\n\r\n"
	m := simpleMessage(pstr(pst.TagTransportMessageHeaders, th), pstr(pst.TagHTML, "<p>x</p>"))
	raw := mustBuild(t, m)
	msg, tree := parseStd(t, raw)
	h := msg.Header
	if got := h.Get("Received"); got != "from mx.example.com (mx.example.com [192.0.2.1]) by mail.example.org; Thu, 4 Mar 2021 05:06:07 +0000" {
		t.Errorf("Received = %q", got)
	}
	for k, v := range map[string]string{"Subject": "Original subject", "Message-Id": "<orig@example.com>", "X-Custom": "kept", "Date": "Thu, 4 Mar 2021 05:06:00 +0000"} {
		if h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
	if len(h["Content-Type"]) != 1 || len(h["Mime-Version"]) != 1 || len(h["Content-Transfer-Encoding"]) != 0 {
		t.Errorf("MIME structure headers not replaced: %v", h)
	}
	if strings.Contains(string(raw), "old-boundary") || strings.Contains(string(raw), "Microsoft Mail Internet Headers") {
		t.Errorf("stale header text kept")
	}
	if tree.shape() != "alternative(text/plain,text/html)" {
		t.Errorf("shape %s", tree.shape())
	}
	if from, err := h.AddressList("From"); err != nil || from[0].Name != "André" {
		t.Errorf("From = %v, %v", from, err)
	}
	// Partial transport headers get the missing required fields.
	m2 := simpleMessage(pstr(pst.TagTransportMessageHeaders, "Received: by x\nX-A: b\n"))
	msg2, _ := parseStd(t, mustBuild(t, m2))
	if msg2.Header.Get("From") == "" || msg2.Header.Get("Date") == "" || msg2.Header.Get("Message-Id") == "" || msg2.Header.Get("Subject") != "Hello" {
		t.Errorf("missing fields not filled: %v", msg2.Header)
	}
	// Garbage transport headers fall back to synthesis.
	m3 := simpleMessage(pstr(pst.TagTransportMessageHeaders, "not headers at all"))
	msg3, _ := parseStd(t, mustBuild(t, m3))
	if msg3.Header.Get("To") == "" {
		t.Errorf("no synthesized To with garbage transport headers")
	}
}

func TestReplyTo(t *testing.T) {
	oneOff := func(name, typ, addr string) []byte {
		b := append([]byte{0, 0, 0, 0}, oneOffUID...)
		b = append(b, 0, 0, 0x01, 0x80) // version 0, flags unicode
		for _, s := range []string{name, typ, addr} {
			for _, r := range s {
				b = append(b, byte(r), byte(r>>8))
			}
			b = append(b, 0, 0)
		}
		return b
	}
	var list []byte
	e1, e2 := oneOff("Replies", "SMTP", "replies@example.com"), oneOff("", "SMTP", "second@example.com")
	list = append(list, 2, 0, 0, 0, 0, 0, 0, 0)
	for _, e := range [][]byte{e1, e2} {
		list = append(list, byte(len(e)), 0, 0, 0)
		list = append(list, e...)
		for len(list)%4 != 0 {
			list = append(list, 0)
		}
	}
	m := simpleMessage(pbin(tagReplyRecipientEntries, list), pstr(pst.TagReplyRecipientNames, "Replies; Second One"))
	msg, _ := parseStd(t, mustBuild(t, m))
	l, err := msg.Header.AddressList("Reply-To")
	if err != nil || len(l) != 2 || l[0].Address != "replies@example.com" || l[0].Name != "Replies" ||
		l[1].Address != "second@example.com" || l[1].Name != "Second One" {
		t.Errorf("Reply-To = %v, %v", l, err)
	}
}

func TestDate(t *testing.T) {
	d1, d2, d3 := testDate, testDate.Add(time.Hour), testDate.Add(2*time.Hour)
	tests := []struct {
		name  string
		props []pst.Property
		want  time.Time
	}{
		{"submit", []pst.Property{ptime(pst.TagClientSubmitTime, d1), ptime(pst.TagMessageDeliveryTime, d2), ptime(pst.TagCreationTime, d3)}, d1},
		{"delivery", []pst.Property{ptime(pst.TagMessageDeliveryTime, d2), ptime(pst.TagCreationTime, d3)}, d2},
		{"creation", []pst.Property{ptime(pst.TagCreationTime, d3)}, d3},
		{"none", nil, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Date(&pst.Message{Props: props(tc.props...)}); !got.Equal(tc.want) {
				t.Errorf("Date = %v, want %v", got, tc.want)
			}
		})
	}
	// No time at all: Options.Now.
	raw := mustBuild(t, &pst.Message{Props: props(pstr(pst.TagSubject, "x"))})
	msg, _ := parseStd(t, raw)
	if d, _ := msg.Header.Date(); !d.Equal(testDate) {
		t.Errorf("Date header %v, want Now()", d)
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name                           string
		props                          []pst.Property
		seen, flagged, answered, draft bool
	}{
		{"none", nil, false, false, false, false},
		{"read", []pst.Property{pint(pst.TagMessageFlags, 0x1)}, true, false, false, false},
		{"unsent", []pst.Property{pint(pst.TagMessageFlags, 0x8)}, false, false, false, true},
		{"flagged", []pst.Property{pint(pst.TagFlagStatus, 2)}, false, true, false, false},
		{"completed flag", []pst.Property{pint(pst.TagFlagStatus, 1)}, false, false, false, false},
		{"replied verb", []pst.Property{pint(tagLastVerbExecuted, 102), pint(pst.TagMessageFlags, 0x21)}, true, false, true, false},
		{"reply all verb", []pst.Property{pint(tagLastVerbExecuted, 103)}, false, false, true, false},
		{"forward verb", []pst.Property{pint(tagLastVerbExecuted, 104)}, false, false, false, false},
		{"replied icon", []pst.Property{pint(pst.TagIconIndex, 0x105)}, false, false, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, f, a, d := Flags(&pst.Message{Props: props(tc.props...)})
			if s != tc.seen || f != tc.flagged || a != tc.answered || d != tc.draft {
				t.Errorf("Flags = %v %v %v %v, want %v %v %v %v", s, f, a, d, tc.seen, tc.flagged, tc.answered, tc.draft)
			}
		})
	}
}

func TestEmptyMessage(t *testing.T) {
	for _, m := range []*pst.Message{{}, {Props: props()}, {Recipients: []*pst.Props{nil}, Attachments: []*pst.Attachment{nil, {}}}} {
		raw := mustBuild(t, m)
		parseStd(t, raw)
		parseGo(t, raw)
	}
	if _, err := Build(nil, Options{}); err == nil {
		t.Error("Build(nil) succeeded")
	}
}

func TestDisplayToFallback(t *testing.T) {
	m := simpleMessage(pstr(pst.TagDisplayTo, "nobody@example.com; John Smith; Zoë"), pstr(pst.TagDisplayCc, "Only Names"))
	m.Recipients = nil
	raw := mustBuild(t, m)
	msg, _ := parseStd(t, raw)
	to, err := msg.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != "nobody@example.com" {
		t.Errorf("To = %v, %v (raw %q)", to, err, msg.Header.Get("To"))
	}
	if !strings.Contains(decodeWord(t, msg.Header.Get("To")), "John Smith, Zoë: ;") {
		t.Errorf("names not kept: %q", msg.Header.Get("To"))
	}
	if cc, err := msg.Header.AddressList("Cc"); err != nil || len(cc) != 0 {
		t.Errorf("Cc = %v, %v", cc, err)
	}
	if l, err := (&gomail.Header{Header: headerOf(parseGo(t, raw))}).AddressList("To"); err != nil || len(l) != 1 {
		t.Errorf("go-message To = %v, %v", l, err)
	}
}

// mela wraps raw RTF in the uncompressed ("MELA") PidTagRtfCompressed form
// ([MS-OXRTFCP] 2.1.3.1).
func mela(rtf string) []byte {
	b := make([]byte, 16, 16+len(rtf))
	le := func(off int, v uint32) {
		b[off], b[off+1], b[off+2], b[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	le(0, uint32(len(rtf)+12))
	le(4, uint32(len(rtf)))
	le(8, 0x414C454D)
	return append(b, rtf...)
}

func TestRTFBodies(t *testing.T) {
	fromHTML := `{\rtf1\ansi\ansicpg1252\fromhtml1 \deff0{\fonttbl{\f0\fswiss Arial;}}` +
		`{\*\htmltag19 <html>}{\*\htmltag50 <body>}\htmlrtf x\htmlrtf0 {\*\htmltag64 <p>}Hello RTF{\*\htmltag72 </p>}{\*\htmltag58 </body>}{\*\htmltag27 </html>}}`
	plainRTF := `{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}Hello \b bold\b0  text\par}`
	tests := []struct {
		name      string
		props     []pst.Property
		wantShape string
		wantText  string
	}{
		{"fromhtml rtf only", []pst.Property{pstr(pst.TagBody, ""), pbin(pst.TagRTFCompressed, mela(fromHTML))}, "text/html", "<p>Hello RTF</p>"},
		{"fromhtml rtf and body", []pst.Property{pbin(pst.TagRTFCompressed, mela(fromHTML))}, "alternative(text/plain,text/html)", "<p>Hello RTF</p>"},
		{"plain rtf only", []pst.Property{pstr(pst.TagBody, ""), pbin(pst.TagRTFCompressed, mela(plainRTF))}, "text/plain", "Hello bold text"},
		{"plain rtf and body keeps body", []pst.Property{pbin(pst.TagRTFCompressed, mela(plainRTF))}, "text/plain", "how are you?"},
		{"html property wins", []pst.Property{pstr(pst.TagHTML, "<i>prop</i>"), pbin(pst.TagRTFCompressed, mela(fromHTML))}, "alternative(text/plain,text/html)", "<i>prop</i>"},
		{"broken rtf ignored", []pst.Property{pbin(pst.TagRTFCompressed, []byte("garbage"))}, "text/plain", "how are you?"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := mustBuild(t, simpleMessage(tc.props...))
			_, tree := parseStd(t, raw)
			if tree.shape() != tc.wantShape {
				t.Fatalf("shape = %s, want %s", tree.shape(), tc.wantShape)
			}
			var all string
			for _, l := range tree.leaves() {
				all += string(l.body)
			}
			if !strings.Contains(all, tc.wantText) {
				t.Errorf("body %q lacks %q", all, tc.wantText)
			}
		})
	}
}

// TestBoundaryClash makes the content of a part contain its multipart's
// boundary (as a crafted or unlucky message would): the message is
// rendered again with other boundaries, and a MIME parser finds every
// part intact.
func TestBoundaryClash(t *testing.T) {
	var h1, h2 header
	h1.add("Content-Type", "text/plain; charset=utf-8")
	h2.add("Content-Type", "application/octet-stream")
	h2.add("Content-Transfer-Encoding", "base64")
	a := leaf(h1, encRaw, "", []byte("first"))
	b := leaf(h2, encBase64, "", []byte("second part"))
	inner := multipartOf("alternative", []*part{a, b})
	c := leaf(h1, encRaw, "", nil)
	outer := multipartOf("mixed", []*part{inner, c})
	// Both boundaries now occur in content.
	a.data = []byte("x\r\n--" + inner.boundary + "\r\ny")
	c.data = []byte("--" + outer.boundary + "--")
	first := outer.boundary
	var buf bytes.Buffer
	if n := renderMessage(&buf, nil, outer, nil); n < 2 || n > 4 {
		t.Fatalf("%d renderings, want a second (and at most 4)", n)
	}
	if outer.boundary == first {
		t.Fatal("clashing boundary kept")
	}
	msg, err := gomail.CreateReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for {
		p, err := msg.NextPart()
		if err != nil {
			break
		}
		body := new(bytes.Buffer)
		body.ReadFrom(p.Body)
		bodies = append(bodies, body.String())
	}
	want := []string{string(a.data), "second part", string(c.data)}
	if fmt.Sprint(bodies) != fmt.Sprint(want) {
		t.Errorf("parts = %q, want %q", bodies, want)
	}
}

// TestAppendQP checks the quoted-printable encoder against
// mime/quotedprintable on lines that hit every rule: long runs, blanks at
// line ends and at soft breaks, '=', control bytes, UTF-8, empty lines.
func TestAppendQP(t *testing.T) {
	inputs := []string{
		"", "a", " ", "a \n", "tab\t\nx", "=", "caf\u00e9 =3D",
		strings.Repeat("x", 75) + " \n" + strings.Repeat("y", 76) + "\n\n",
		strings.Repeat("é", 40) + "\n" + strings.Repeat("ab ", 60),
		strings.Repeat("a", 73) + "é" + strings.Repeat("b", 80) + "\t",
		"ctl\x01\x7f\x00end\n \n\t\n",
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab =\t\n\x01é")
	for n := 0; n < 300; n++ {
		var b []byte
		for k := r.IntN(400); k > 0; k-- {
			b = append(b, alphabet[r.IntN(len(alphabet))])
		}
		inputs = append(inputs, string(b))
	}
	for _, in := range inputs {
		var want bytes.Buffer
		w := quotedprintable.NewWriter(&want)
		w.Write([]byte(in))
		w.Close()
		if got := appendQP(nil, in); string(got) != want.String() {
			t.Fatalf("appendQP(%q)\n got %q\nwant %q", in, got, want.String())
		}
	}
}

// TestAppendBase64Lines checks the table-driven base64 encoder against
// encoding/base64, line by line, for every length around the 57-byte line
// and on random bytes, appended to a non-empty prefix.
func TestAppendBase64Lines(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 700; n++ {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		var want []byte
		rest := data
		for len(rest) > 57 {
			want = base64.StdEncoding.AppendEncode(want, rest[:57])
			want = append(want, '\r', '\n')
			rest = rest[57:]
		}
		want = base64.StdEncoding.AppendEncode(want, rest)
		got := appendBase64Lines([]byte("prefix"), data)
		if string(got) != "prefix"+string(want) {
			t.Fatalf("%d bytes:\n got %q\nwant %q", n, got, want)
		}
		var b bytes.Buffer
		b.WriteString("x")
		writeBase64Lines(&b, data)
		if b.String() != "x"+string(want) {
			t.Fatalf("writeBase64Lines, %d bytes: differs", n)
		}
	}
}

// TestNormalizeNewlines: CRLF and lone CR become LF, as two replacements
// in turn would make them, on edge cases and random text.
func TestNormalizeNewlines(t *testing.T) {
	want := func(s string) string {
		return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	}
	inputs := []string{"", "a", "\r", "\n", "\r\n", "a\rb", "a\r\nb\r", "\r\r\n", "x\n\r", "\r\n\r\n", "ab\r\r\rcd"}
	r := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 500; n++ {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = "ab\r\n"[r.IntN(4)]
		}
		inputs = append(inputs, string(b))
	}
	for _, in := range inputs {
		if got := normalizeNewlines(in); got != want(in) {
			t.Fatalf("normalizeNewlines(%q) = %q, want %q", in, got, want(in))
		}
	}
}

// TestRenderLeavingOut: a message rendered with its large base64 bodies
// left out and written with WriteTo is byte for byte the message RenderTo
// renders, for bodies around the piece size and the thresholds, a body
// that is the whole message, and a boundary clash that forces a second
// rendering.
func TestRenderLeavingOut(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	data := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	var hText, hBin header
	hText.add("Content-Type", "text/plain; charset=utf-8")
	hBin.add("Content-Type", "application/octet-stream")
	hBin.add("Content-Transfer-Encoding", "base64")
	var top header
	top.add("Subject", "attachments")
	const piece = 57 << 10
	sizes := []int{1, 56, 57, 58, 1000, piece - 1, piece, piece + 1, 2*piece + 57, 3*piece - 5}
	for _, n := range sizes {
		d1, d2 := data(n), data(n/2+1)
		for _, min := range []int{1, 1000, piece} {
			cases := map[string]func() *part{
				"mixed": func() *part {
					text := leaf(hText, encRaw, "", []byte("hello\r\n--almost a boundary\r\n"))
					return multipartOf("mixed", []*part{text, leaf(hBin, encBase64, "", d1), leaf(hBin, encBase64, "", d2)})
				},
				"alone": func() *part { return leaf(hBin, encBase64, "", d1) },
				"clash": func() *part {
					text := leaf(hText, encRaw, "", nil)
					mp := multipartOf("mixed", []*part{text, leaf(hBin, encBase64, "", d1)})
					text.data = []byte("--" + mp.boundary + "\r\n")
					return mp
				},
			}
			for name, mk := range cases {
				var want bytes.Buffer
				(&Prepared{h: top, body: mk()}).RenderTo(&want)
				body2 := mk() // the same structure, rendered afresh
				var head, got bytes.Buffer
				rd := (&Prepared{h: top, body: body2}).RenderLeavingOut(&head, min)
				if _, err := rd.WriteTo(&got); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Fatalf("%s, %d bytes, min %d: WriteTo differs from RenderTo (%d vs %d bytes)", name, n, min, got.Len(), want.Len())
				}
				if n >= min && head.Len() >= want.Len() {
					t.Errorf("%s, %d bytes, min %d: nothing left out", name, n, min)
				}
			}
		}
	}
}
