package mail

import (
	"bytes"
	"context"
	"fmt"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/pst"
)

// sampleItem is one built item of a sample file.
type sampleItem struct {
	folder string
	msg    *pst.Message
	raw    []byte
}

// buildSample builds every item of every (non-search) folder of a sample,
// checking the wire format and that both parsers accept each message.
func buildSample(t *testing.T, name string) []sampleItem {
	t.Helper()
	f, err := pst.Open(testutil.Sample(t, name))
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer f.Close()
	var out []sampleItem
	err = f.Walk(context.Background(), func(fo *pst.Folder) error {
		if fo.IsSearchFolder() {
			return nil
		}
		refs, err := fo.Items()
		if err != nil {
			t.Errorf("%s: items: %v", fo.PathString(), err)
			return nil
		}
		for _, r := range refs {
			m, err := f.Message(r.NID)
			if err != nil {
				t.Errorf("%s: message %#x: %v", fo.PathString(), r.NID, err)
				continue
			}
			raw := mustBuild(t, m)
			_, std := parseStd(t, raw)
			if g := parseGo(t, raw); g.shape() != std.shape() {
				t.Errorf("%s %#x: parsers disagree: %s vs %s", fo.PathString(), r.NID, std.shape(), g.shape())
			}
			out = append(out, sampleItem{folder: fo.PathString(), msg: m, raw: raw})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	return out
}

// only returns the single item of a one-message sample.
func only(t *testing.T, name string) (sampleItem, *node) {
	t.Helper()
	items := buildSample(t, name)
	if len(items) != 1 {
		t.Fatalf("%s: %d items, want 1", name, len(items))
	}
	_, tree := parseStd(t, items[0].raw)
	return items[0], tree
}

func TestSampleMsgInMsg(t *testing.T) {
	it, tree := only(t, "ruby-msg__msgInMsg.pst")
	want := "mixed(alternative(text/plain,text/html),message/rfc822[alternative(text/plain,text/html)],image/png)"
	if tree.shape() != want {
		t.Fatalf("shape\n got %s\nwant %s", tree.shape(), want)
	}
	emb := tree.children[1]
	const subj = "Microsoft Outlook テスト メッセージ"
	if got := decodeWord(t, emb.embedded.header.Get("Subject")); got != subj {
		t.Errorf("embedded Subject = %q", got)
	}
	if f := emb.filename(); f != subj+".eml" {
		t.Errorf("embedded file name %q", f)
	}
	if f := goFilename(parseGo(t, it.raw).children[1]); f != subj+".eml" {
		t.Errorf("go-message embedded file name %q", f)
	}
	from, err := netmail.ParseAddress(emb.embedded.header.Get("From"))
	if err != nil || from.Address != "xmailuser@xmailserver.test" {
		t.Errorf("embedded From %v, %v", from, err)
	}
	// The embedded message's HTML comes from its \fromhtml1 RTF body.
	if h := emb.embedded.find("text/html"); h == nil || !strings.Contains(string(h.body), "Microsoft Outlook") {
		t.Errorf("embedded HTML missing")
	}
	png := tree.children[2]
	if png.filename() != "green.png" || !bytes.Equal(png.body, it.msg.Attachments[1].Data) || !bytes.HasPrefix(png.body, []byte("\x89PNG")) {
		t.Errorf("green.png: name %q, %d bytes", png.filename(), len(png.body))
	}
}

func TestSampleSubmessage(t *testing.T) {
	it, tree := only(t, "pstsdk__submessage.pst")
	want := "mixed(alternative(text/plain,text/html),message/rfc822[alternative(text/plain,text/html)])"
	if tree.shape() != want {
		t.Fatalf("shape\n got %s\nwant %s", tree.shape(), want)
	}
	emb := tree.children[1].embedded
	if got := emb.header.Get("Subject"); got != "This is an embedded message" || got != it.msg.Attachments[0].Embedded.Subject() {
		t.Errorf("embedded Subject %q", got)
	}
	if p := emb.find("text/plain"); p == nil || len(bytes.TrimSpace(p.body)) == 0 {
		t.Errorf("embedded plain body empty")
	}
}

func TestSampleFourNestingLevels(t *testing.T) {
	_, tree := only(t, "process-pst__four_nesting_levels.pst")
	subjects := []string{"Outermost message", "Middle message", "Innermost message"}
	n := tree
	for level, s := range subjects {
		if level > 0 {
			var next *node
			for _, c := range n.children {
				if c.embedded != nil {
					next = c.embedded
				}
			}
			if next == nil {
				t.Fatalf("level %d: no embedded message in %s", level, n.shape())
			}
			n = next
		}
		if n.header.Get("Subject") != s {
			t.Errorf("level %d Subject %q, want %q", level, n.header.Get("Subject"), s)
		}
		if p := n.find("text/plain"); p == nil {
			t.Errorf("level %d: no text", level)
		}
	}
	// The innermost message carries a text file attachment.
	if n.shape() != "mixed(alternative(text/plain,text/html),text/plain)" {
		t.Errorf("innermost shape %s", n.shape())
	}
}

func TestSample200Recipients(t *testing.T) {
	it, _ := only(t, "ruby-msg__200-recipients.pst")
	msg, _ := parseStd(t, it.raw)
	to, err := msg.Header.AddressList("To")
	if err != nil {
		t.Fatal(err)
	}
	if len(to) != 200 {
		t.Fatalf("%d recipients", len(to))
	}
	for i, a := range to {
		if want := fmt.Sprintf("xmailuser%d@xmailserver.test", i+1); a.Address != want {
			t.Errorf("recipient %d = %s, want %s", i, a.Address, want)
		}
	}
	hdr := it.raw[:bytes.Index(it.raw, []byte("\r\n\r\n"))]
	for _, l := range strings.Split(string(hdr), "\r\n") {
		if len(l) > 78 {
			t.Errorf("header line of %d characters", len(l))
		}
	}
}

func TestSampleAttachAndInline(t *testing.T) {
	it, tree := only(t, "ruby-msg__attachAndInline.pst")
	want := "mixed(related(text/html,image/png),image/png)"
	if tree.shape() != want {
		t.Fatalf("shape\n got %s\nwant %s", tree.shape(), want)
	}
	rel := tree.children[0]
	html, img := rel.children[0], rel.children[1]
	cid := strings.Trim(img.header.Get("Content-Id"), "<>")
	if cid == "" || !strings.Contains(string(html.body), "cid:"+cid) {
		t.Errorf("inline image Content-ID %q not referenced from the HTML", cid)
	}
	if !strings.HasPrefix(img.header.Get("Content-Disposition"), "inline") {
		t.Errorf("inline image disposition %q", img.header.Get("Content-Disposition"))
	}
	att := tree.children[1]
	if att.filename() != "attach.png" || !strings.HasPrefix(att.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("attachment %q %q", att.filename(), att.header.Get("Content-Disposition"))
	}
	var data [][]byte
	for _, a := range it.msg.Attachments {
		data = append(data, a.Data)
	}
	for _, l := range []*node{img, att} {
		found := false
		for _, d := range data {
			found = found || bytes.Equal(d, l.body)
		}
		if !found {
			t.Errorf("%s: bytes differ from the PST attachment", l.filename())
		}
	}
}

func TestSampleVariousBodyTypes(t *testing.T) {
	items := buildSample(t, "tika__testPST_variousBodyTypes.pst")
	if len(items) != 4 {
		t.Fatalf("%d items", len(items))
	}
	for _, it := range items {
		msg, tree := parseStd(t, it.raw)
		// Transport headers are kept: the Exchange Message-ID and Thread-Index.
		if id := msg.Header.Get("Message-Id"); !strings.HasSuffix(id, "@MWHPR09MB1391.namprd09.prod.outlook.com>") {
			t.Errorf("%q: Message-ID %q", it.msg.Subject(), id)
		}
		if msg.Header.Get("Thread-Index") == "" || len(msg.Header["Content-Type"]) != 1 {
			t.Errorf("%q: transport headers not kept as expected", it.msg.Subject())
		}
		p := tree.find("text/plain")
		if p == nil || !strings.Contains(string(p.body), "original email") && !strings.Contains(string(p.body), "This is") {
			t.Errorf("%q: plain body missing: %s", it.msg.Subject(), tree.shape())
		}
		if h := tree.find("text/html"); h != nil && !strings.Contains(strings.ToLower(string(h.body)), "<html") {
			t.Errorf("%q: html body is not HTML", it.msg.Subject())
		}
	}
}

// TestAllSamplesBuild builds every item of every readable sample (any
// class, exported as mail) and checks that both parsers accept it.
func TestAllSamplesBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	total := 0
	for _, path := range testutil.AllSamples(t) {
		f, err := pst.Open(path)
		if err != nil {
			continue // the damaged samples are the reader's concern
		}
		_ = f.Walk(context.Background(), func(fo *pst.Folder) error {
			refs, err := fo.Items()
			if err != nil {
				return nil
			}
			for _, r := range refs {
				m, err := f.Message(r.NID)
				if err != nil {
					continue
				}
				raw, err := Build(m, Options{Now: func() time.Time { return testDate }})
				if err != nil {
					t.Errorf("%s %#x: %v", path, r.NID, err)
					continue
				}
				checkWire(t, raw)
				_, std := parseStd(t, raw)
				if g := parseGo(t, raw); g.shape() != std.shape() {
					t.Errorf("%s %#x: parsers disagree", path, r.NID)
				}
				total++
			}
			return nil
		})
		f.Close()
	}
	t.Logf("built %d items", total)
	if total < 100 {
		t.Errorf("only %d items built", total)
	}
}
