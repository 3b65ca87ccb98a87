package sink

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strconv"
	"sync"
)

// emlNameBytes bounds the part of an EML file name taken from MailItem.Name.
const emlNameBytes = 60

// EMLWriter writes one .eml file per message.
type EMLWriter struct {
	batch  *Batch // nil: every file is fsynced as it is written
	dir    string
	mu     sync.Mutex
	counts map[string]int // per folder key: messages added so far
	rels   folderPaths
	closed bool
}

// NewEMLWriter returns a MailWriter that writes each message as
// dir/<folder path>/<NNNNNN>-<name>.eml, where the folder path components
// and the name went through SafeName, <NNNNNN> is the 1-based position of
// the message among those added to that folder (zero-padded to six digits)
// and <name> is MailItem.Name cut to 60 bytes ("message" when empty). The
// index keeps names unique and, for the same input order, stable, so a
// re-run overwrites the same files. Raw is written unchanged (CRLF). The
// file modification time is set to MailItem.Date.
func NewEMLWriter(dir string) (*EMLWriter, error) {
	if dir == "" {
		return nil, errors.New("sink: EML writer: empty directory")
	}
	return &EMLWriter{dir: dir, counts: make(map[string]int)}, nil
}

// Add writes m as a new .eml file.
func (w *EMLWriter) Add(ctx context.Context, folder []string, m MailItem) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rel := w.rels.get(folder)
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return errors.New("sink: EML writer: add after close")
	}
	key := folderKey(rel)
	w.counts[key]++
	n := w.counts[key]
	w.mu.Unlock()
	if m.Seq > 0 {
		n = m.Seq
	}

	name := m.Name
	if name == "" {
		name = "message"
	}
	base := seqPrefix(n) + SafeName(truncateUTF8(SafeName(name), emlNameBytes)) + ".eml"
	path := filepath.Join(w.dir, rel, base)
	return writeAtomic(w.batch, path, m.Date, func(f io.Writer) error {
		if m.Write != nil && m.Raw == nil {
			return m.Write(f)
		}
		_, err := f.Write(m.Raw)
		return err
	})
}

// Close marks the writer closed; every message is already on disk.
func (w *EMLWriter) Close() error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	return nil
}

// Abort is Close: EML files are committed one by one.
func (w *EMLWriter) Abort() error { return w.Close() }

// UseBatch defers durability to b.Sync (see Batch). Call it before Add.
func (w *EMLWriter) UseBatch(b *Batch) { w.batch = b }

// seqPrefix is fmt.Sprintf("%06d-", n) for n >= 0, without fmt's
// formatting machinery (it names every message file).
func seqPrefix(n int) string {
	d := strconv.Itoa(n)
	if len(d) < 6 {
		d = "000000"[len(d):] + d
	}
	return d + "-"
}
