package mail

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/pst"
)

// fuzzIDs are the property ids Build looks at.
var fuzzIDs = []uint16{
	pst.TagSubject, pst.TagBody, pst.TagHTML, pst.TagRTFCompressed, pst.TagTransportMessageHeaders,
	pst.TagInternetCodepage, pst.TagMessageCodepage, pst.TagSenderName, pst.TagSenderAddrType,
	pst.TagSenderEmailAddress, pst.TagSenderSMTPAddress, pst.TagSentRepresentingName,
	pst.TagSentRepresentingAddrType, pst.TagSentRepresentingEmailAddress, pst.TagSentRepresentingSMTPAddress,
	pst.TagDisplayTo, pst.TagRecipientType, pst.TagDisplayName, pst.TagAddrType, pst.TagEmailAddress,
	pst.TagSMTPAddress, pst.TagAttachMethod, pst.TagAttachLongFilename, pst.TagAttachFilename,
	pst.TagAttachMimeTag, pst.TagAttachContentID, pst.TagAttachContentLocation, pst.TagAttachFlags,
	pst.TagAttachmentHidden, pst.TagAttachExtension, tagReplyRecipientEntries, pst.TagReplyRecipientNames,
	pst.TagInternetMessageID, pst.TagInReplyToID, pst.TagInternetReferences, pst.TagImportance,
	pst.TagSensitivity, pst.TagClientSubmitTime, pst.TagMessageDeliveryTime, pst.TagCreationTime,
	pst.TagMessageFlags, pst.TagFlagStatus, pst.TagIconIndex, tagLastVerbExecuted, pst.TagRecipientDisplayName,
}

// fuzzReader turns fuzz bytes into a message.
type fuzzReader struct{ b []byte }

func (r *fuzzReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *fuzzReader) bytes() []byte {
	n := int(r.byte())
	if n == 255 {
		n = int(r.byte()) * 64
	}
	if n > len(r.b) {
		n = len(r.b)
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *fuzzReader) value(id uint16) pst.Property {
	switch r.byte() % 10 {
	case 0:
		return pst.Property{ID: id, Type: pst.TypeString, Value: string(r.bytes())}
	case 1:
		return pst.Property{ID: id, Type: pst.TypeInt32, Value: int32(binary.LittleEndian.Uint32(append(r.bytes(), 0, 0, 0, 0)))}
	case 2:
		return pst.Property{ID: id, Type: pst.TypeBool, Value: r.byte()&1 == 1}
	case 3:
		sec := int64(binary.LittleEndian.Uint64(append(r.bytes(), 0, 0, 0, 0, 0, 0, 0, 0)))
		return pst.Property{ID: id, Type: pst.TypeTime, Value: time.Unix(sec%(1<<40), 0).UTC()}
	case 4:
		return pst.Property{ID: id, Type: pst.TypeBinary, Value: r.bytes()}
	case 5:
		return pst.Property{ID: id, Type: pst.TypeMultiString, Value: []string{string(r.bytes()), string(r.bytes())}}
	case 6:
		return pst.Property{ID: id, Type: pst.TypeInt64, Value: int64(binary.LittleEndian.Uint64(append(r.bytes(), 0, 0, 0, 0, 0, 0, 0, 0)))}
	case 7:
		return pst.Property{ID: id, Type: pst.TypeFloat64, Value: 1.5}
	case 8:
		return pst.Property{ID: id, Type: pst.TypeString, Value: nil}
	}
	return pst.Property{ID: id, Type: pst.TypeInt16, Value: int16(r.byte())}
}

func (r *fuzzReader) message(depth int) *pst.Message {
	m := &pst.Message{Props: pst.NewProps(nil)}
	target := m.Props
	for steps := 0; len(r.b) > 0 && steps < 200; steps++ {
		op := r.byte()
		switch op % 16 {
		case 12:
			p := pst.NewProps(nil)
			m.Recipients = append(m.Recipients, p)
			target = p
		case 13:
			a := &pst.Attachment{Props: pst.NewProps(nil), Data: r.bytes()}
			m.Attachments = append(m.Attachments, a)
			target = a.Props
		case 14:
			if depth < 4 {
				a := &pst.Attachment{Props: pst.NewProps(nil, pint(pst.TagAttachMethod, 5))}
				sub := &fuzzReader{b: r.bytes()}
				a.Embedded = sub.message(depth + 1)
				m.Attachments = append(m.Attachments, a)
				target = a.Props
			}
		case 15:
			target = m.Props
		default:
			id := fuzzIDs[int(r.byte())%len(fuzzIDs)]
			target.Set(r.value(id))
		}
	}
	return m
}

func FuzzBuild(f *testing.F) {
	f.Add([]byte{0, 0, 0, 5, 'H', 'e', 'l', 'l', 'o'})
	f.Add([]byte{0, 2, 0, 12, 'h', '<', 'p', '>', 0xe9, 'x', '<', '/', 'p', '>', 0, 1})
	f.Add(append([]byte{0, 4, 0, 40}, []byte("Received: x\r\nContent-Type: text/plain\r\n\r\n")...))
	f.Add([]byte{13, 20, 'd', 'a', 't', 'a', 0, 22, 0, 9, 'r', 0xc3, 0xa9, 's', '.', 't', 'x', 't', 14, 6, 0, 0, 0, 2, 'h', 'i', 12, 0, 17, 0, 2, 'E', 'X'})
	f.Fuzz(func(t *testing.T, b []byte) {
		m := (&fuzzReader{b: b}).message(0)
		raw, err := Build(m, Options{Now: func() time.Time { return testDate }})
		if err != nil {
			return
		}
		checkWire(t, raw)
		parseStd(t, raw)
	})
}

func FuzzParseTransport(f *testing.F) {
	f.Add("Received: from x\r\n\tby y\r\nSubject: hi\r\nContent-Type: text/plain\r\n\r\nbody")
	f.Add("Microsoft Mail Internet Headers Version 2.0\nFrom: a@b\n x\n")
	f.Add(" leading continuation\nX: " + strings.Repeat("y", 2000))
	f.Fuzz(func(t *testing.T, s string) {
		h := parseTransport(s)
		var b bytes.Buffer
		h.writeTo(&b)
		b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nbody\r\n")
		checkWire(t, b.Bytes())
		for _, fld := range h {
			if dropTransport[strings.ToLower(fld.name)] {
				t.Errorf("kept %s", fld.name)
			}
		}
		parseStd(t, b.Bytes())
	})
}

func FuzzParseEntryList(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 8, 0, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4})
	e := append([]byte{0, 0, 0, 0}, oneOffUID...)
	e = append(e, 0, 0, 0, 0, 'N', 0, 'S', 'M', 'T', 'P', 0, 'a', '@', 'b', 0)
	f.Add(append([]byte{1, 0, 0, 0, 0, 0, 0, 0, byte(len(e)), 0, 0, 0}, e...))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, id := range parseFlatEntryList(b) {
			parseEntryID(id)
		}
		parseEntryID(b)
		replyToEntries(b, "a;b")
	})
}
