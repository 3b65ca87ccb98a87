package pst

import (
	"fmt"
	"strings"
)

// Message is one item of a folder's contents table (mail, appointment,
// contact, distribution list, task, journal entry, sticky note, ...) or an
// embedded message inside an attachment.
type Message struct {
	// NID is the node id of the item (0 for an embedded message, whose
	// identity is its parent's attachment).
	NID uint32
	// Props are the message's own properties.
	Props *Props
	// Recipients are the rows of the recipient table, in table order
	// (PidTagRecipientType, PidTagDisplayName, PidTagEmailAddress,
	// PidTagSmtpAddress, PidTagAddressType, PidTagRecipientTrackStatus, ...).
	Recipients []*Props
	// Attachments in attachment-table order.
	Attachments []*Attachment
	// Missing names the parts of the item that could not be read, each
	// with why ("property 0x1000: ...", "recipients: ...", "attachment 2:
	// ...", "attachment 0: embedded message: ..."); only Salvage leaves
	// parts out, Message fails instead.
	Missing []string

	arena *arena // the buffers the message was read into (top level only)
}

// Release gives the buffers the message was read into back for reuse by
// later reads, and empties m. After it, nothing taken from m may be used:
// binary property values, attachment data, embedded messages and the
// Props of m, its recipients and attachments (their values are decoded
// from those buffers when first read) alias them; strings already read
// do not. Calling it is optional; without it the
// garbage collector frees them. Release is for a caller that is done with
// an item, as an export is once the item is written.
func (m *Message) Release() {
	if m == nil || m.arena == nil {
		return
	}
	m.Props, m.Recipients, m.Attachments = nil, nil, nil
	m.arena.release()
	m.arena = nil
}

// Class returns PidTagMessageClass ("IPM.Note" when absent).
func (m *Message) Class() string {
	if c := m.Props.String(TagMessageClass); c != "" {
		return c
	}
	return "IPM.Note"
}

// Subject returns PidTagSubject.
func (m *Message) Subject() string { return m.Props.String(TagSubject) }

// Attachment methods ([MS-OXCMSG] 2.2.2.9 PidTagAttachMethod).
const (
	AttachNone           = 0
	AttachByValue        = 1
	AttachByReference    = 2
	AttachByRefResolve   = 3
	AttachByRefOnly      = 4
	AttachEmbeddedMsg    = 5
	AttachOLE            = 6
	AttachByWebReference = 7
)

// Attachment is one row of a message's attachment table with its object.
type Attachment struct {
	Props *Props
	// Data is PidTagAttachDataBinary (by value) or the raw OLE storage
	// (PidTagAttachDataObject) for AttachOLE; nil otherwise.
	Data []byte
	// Embedded is the attached message for AttachEmbeddedMsg.
	Embedded *Message

	missing []string // parts not read (Salvage), moved to the message's Missing
}

// Method returns PidTagAttachMethod.
func (a *Attachment) Method() int {
	n, _ := a.Props.Int(TagAttachMethod)
	return int(n)
}

// Filename returns the best file name: PidTagAttachLongFilename, then
// PidTagAttachFilename, then PidTagDisplayName.
func (a *Attachment) Filename() string {
	for _, id := range []uint16{TagAttachLongFilename, TagAttachFilename, TagDisplayName} {
		if s := strings.TrimSpace(a.Props.String(id)); s != "" {
			return s
		}
	}
	return ""
}

// ItemError is a failure confined to one item: the reader reports it and
// carries on with the next item.
type ItemError struct {
	Folder string // folder path, "/"-separated
	NID    uint32
	Err    error
}

func (e *ItemError) Error() string {
	return fmt.Sprintf("pst: item %#x in %q: %v", e.NID, e.Folder, e.Err)
}

func (e *ItemError) Unwrap() error { return e.Err }

// FormatError reports a structural problem at a file offset.
type FormatError struct {
	Offset int64
	What   string
	Err    error
}

func (e *FormatError) Error() string {
	s := "pst: " + e.What
	if e.Offset >= 0 {
		s += fmt.Sprintf(" at offset %#x", e.Offset)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *FormatError) Unwrap() error { return e.Err }
