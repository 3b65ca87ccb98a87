package sink

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// MailFlags are IMAP-style message flags.
type MailFlags uint8

// Message flags. They map to Maildir info letters (D F P R S T) and to
// mbox Status/X-Status headers.
const (
	FlagSeen      MailFlags = 1 << iota // read: Maildir S, mbox Status R
	FlagAnswered                        // replied: Maildir R, mbox X-Status A
	FlagFlagged                         // flagged/starred: Maildir F, mbox X-Status F
	FlagDraft                           // draft: Maildir D, mbox X-Status T
	FlagForwarded                       // passed/forwarded: Maildir P
	FlagDeleted                         // trashed: Maildir T, mbox X-Status D
)

// Maildir returns the flag letters of the Maildir "2," info section, in
// ASCII order as the Maildir specification requires.
func (f MailFlags) Maildir() string {
	var b strings.Builder
	for _, x := range []struct {
		flag MailFlags
		c    byte
	}{{FlagDraft, 'D'}, {FlagFlagged, 'F'}, {FlagForwarded, 'P'}, {FlagAnswered, 'R'}, {FlagSeen, 'S'}, {FlagDeleted, 'T'}} {
		if f&x.flag != 0 {
			b.WriteByte(x.c)
		}
	}
	return b.String()
}

// MailItem is one message to write.
type MailItem struct {
	// Raw is the complete RFC 5322 message (header and body) with CRLF line
	// endings.
	Raw []byte
	// Date is the delivery or sent time. It sets the file modification time
	// (EML, Maildir), the mbox From_ line date and the Maildir name's time
	// part. The zero time means unknown.
	Date time.Time
	// Flags are the message flags.
	Flags MailFlags
	// Name is a suggested base name for the file (e.g. the subject); the
	// EML writer sanitises and shortens it. Optional.
	Name string
	// Seq is the message's 1-based position in its folder. When set, the
	// EML writer uses it for the file name instead of the order of Add
	// calls, so concurrent Adds still give deterministic names. Optional.
	Seq int
	// Key identifies the message stably across runs and uniquely within
	// its folder (e.g. the PST node id, or the PST path plus node id). The
	// Maildir writer derives the file name from it so that a re-run replaces
	// the message instead of adding a duplicate. When empty, a hash of Raw
	// plus its occurrence count in the folder is used.
	Key string
	// Write, when set, writes the message in place of Raw (which is then
	// nil), so that a message with large attachments is encoded as it is
	// written instead of held whole in memory. The EML writer streams it;
	// mbox and Maildir, which rewrite line ends, write it into memory
	// first.
	Write func(io.Writer) error
}

// whole returns m with Raw set, calling Write when Raw is not.
func (m MailItem) whole() (MailItem, error) {
	if m.Raw != nil || m.Write == nil {
		return m, nil
	}
	var b bytes.Buffer
	if err := m.Write(&b); err != nil {
		return m, err
	}
	m.Raw, m.Write = b.Bytes(), nil
	return m, nil
}

// MailWriter writes messages into a folder tree under one directory.
//
// Add writes one message into the folder whose path is given one element per
// level (e.g. {"Inbox", "Projects"}); an empty path is the top level. Close
// finishes pending files (mbox) and must be called once when done; Abort
// discards pending, not yet committed files instead (messages already
// committed by EML and Maildir writers stay). After Close or Abort the
// writer must not be used. Implementations are safe for concurrent use.
type MailWriter interface {
	Add(ctx context.Context, folder []string, m MailItem) error
	Close() error
	Abort() error
}

// Mail output formats accepted by NewMailWriter.
const (
	FormatEML     = "eml"
	FormatMbox    = "mbox"
	FormatMaildir = "maildir"
)

// NewMailWriter returns the writer for format ("eml", "mbox" or "maildir")
// writing under dir.
func NewMailWriter(format, dir string) (MailWriter, error) {
	switch strings.ToLower(format) {
	case FormatEML:
		return NewEMLWriter(dir)
	case FormatMbox:
		return NewMboxWriter(dir)
	case FormatMaildir:
		return NewMaildirWriter(dir)
	}
	return nil, fmt.Errorf("sink: unknown mail format %q (want eml, mbox or maildir)", format)
}

// toLF converts CRLF line endings to LF (lone CRs are kept).
func toLF(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
}
