package sink

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// maxOpenMbox bounds the temporary mbox files kept open at once; older ones
// are closed and reopened for appending when needed, so a PST with
// thousands of folders does not exhaust file descriptors.
const maxOpenMbox = 32

// MboxWriter writes one mboxrd file per folder.
type MboxWriter struct {
	dir    string
	mu     sync.Mutex
	boxes  map[string]*mboxFile
	order  []*mboxFile
	open   int
	tick   uint64
	closed bool
	batch  *Batch // nil: each mbox file is fsynced as it is committed
}

// UseBatch defers durability to b.Sync (see Batch): the mbox files are
// not fsynced one by one at Close. Call it before Add.
func (w *MboxWriter) UseBatch(b *Batch) { w.batch = b }

type mboxFile struct {
	final, tmp string
	f          *os.File
	bw         *bufio.Writer
	last       uint64
	err        error
}

// NewMboxWriter returns a MailWriter that writes each folder as one file in
// mboxrd format: folder {"Inbox", "Sub"} becomes dir/Inbox/Sub.mbox (path
// components through SafeName) and the empty folder path dir/root.mbox.
//
// Each file is built in a temporary file next to it and renamed over the
// final name at Close, so re-running an export replaces the mbox instead
// of appending duplicates, and a crash leaves the previous file intact.
// Folders whose mapped paths differ only in case share one file.
//
// Format: each message starts with "From <sender> <asctime date in UTC>"
// (sender from Return-Path or From, else MAILER-DAEMON) and ends with an
// empty line. Line endings are converted from CRLF to LF, the convention of
// Unix mbox readers (mutt, notmuch, Thunderbird). Every line matching
// ^>*From  gets one more '>' (mboxrd), so readers that strip one '>' get
// the original back. Flags are written as "Status: RO" (seen) and
// "X-Status:" with A (answered), F (flagged), T (draft), D (deleted), which
// mutt and Thunderbird read; existing Status/X-Status headers are replaced.
func NewMboxWriter(dir string) (*MboxWriter, error) {
	if dir == "" {
		return nil, errors.New("sink: mbox writer: empty directory")
	}
	return &MboxWriter{dir: dir, boxes: make(map[string]*mboxFile)}, nil
}

func (w *MboxWriter) mboxPath(folder []string) string {
	if len(folder) == 0 {
		return filepath.Join(w.dir, "root.mbox")
	}
	rel := FolderPath(folder)
	return filepath.Join(w.dir, rel+".mbox")
}

// Add appends m to the folder's temporary mbox file. After a write error
// the folder's file is broken: later Adds to it fail and Close drops it.
func (w *MboxWriter) Add(ctx context.Context, folder []string, m MailItem) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m, err := m.whole()
	if err != nil {
		return err
	}
	data := formatMboxMessage(m)
	path := w.mboxPath(folder)

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errors.New("sink: mbox writer: add after close")
	}
	key := folderKey(path)
	b := w.boxes[key]
	if b == nil {
		b = &mboxFile{final: path}
		if err := os.MkdirAll(filepath.Dir(path), DirMode); err != nil {
			return fmt.Errorf("sink: write %s: %w", path, err)
		}
		w.makeRoom()
		f, err := createTemp(filepath.Dir(path), filepath.Base(path))
		if err != nil {
			return fmt.Errorf("sink: write %s: %w", path, err)
		}
		b.tmp = f.Name()
		w.boxes[key] = b
		w.order = append(w.order, b)
		w.attach(b, f)
	}
	if b.err != nil {
		return b.err
	}
	if err := w.ensureOpen(b); err != nil {
		b.err = fmt.Errorf("sink: write %s: %w", b.final, err)
		return b.err
	}
	w.tick++
	b.last = w.tick
	if _, err := b.bw.Write(data); err != nil {
		b.err = fmt.Errorf("sink: write %s: %w", b.final, err)
		return b.err
	}
	return nil
}

func (w *MboxWriter) attach(b *mboxFile, f *os.File) {
	b.f = f
	b.bw = bufio.NewWriterSize(f, 64<<10)
	w.open++
	w.tick++
	b.last = w.tick
}

// ensureOpen reopens b's temporary file if it was closed to save
// descriptors, closing the least recently used open file when at the limit.
func (w *MboxWriter) ensureOpen(b *mboxFile) error {
	if b.f != nil {
		return nil
	}
	w.makeRoom()
	f, err := os.OpenFile(b.tmp, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	w.attach(b, f)
	return nil
}

// makeRoom closes the least recently used open file when maxOpenMbox
// files are open.
func (w *MboxWriter) makeRoom() {
	if w.open < maxOpenMbox {
		return
	}
	var lru *mboxFile
	for _, o := range w.order {
		if o.f != nil && (lru == nil || o.last < lru.last) {
			lru = o
		}
	}
	if lru != nil {
		if err := w.detach(lru); err != nil && lru.err == nil {
			lru.err = fmt.Errorf("sink: write %s: %w", lru.final, err)
		}
	}
}

// detach flushes and closes b's file (without fsync).
func (w *MboxWriter) detach(b *mboxFile) error {
	if b.f == nil {
		return nil
	}
	err := b.bw.Flush()
	if cerr := b.f.Close(); err == nil {
		err = cerr
	}
	b.f, b.bw = nil, nil
	w.open--
	return err
}

// Close flushes, fsyncs and renames every temporary mbox file over its
// final name. Folders that had a write error are not committed; their
// errors are returned (joined) and their temporary files removed.
func (w *MboxWriter) Close() error { return w.finish(w.commit) }

// finish closes the writer once, applying end to every folder's file, and
// joins the errors.
func (w *MboxWriter) finish(end func(*mboxFile) error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	var errs []error
	for _, b := range w.order {
		if err := end(b); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (w *MboxWriter) commit(b *mboxFile) error {
	fail := func(err error) error {
		_ = w.detach(b)
		_ = os.Remove(b.tmp)
		if b.err != nil {
			return b.err
		}
		return fmt.Errorf("sink: write %s: %w", b.final, err)
	}
	if b.err != nil {
		return fail(nil)
	}
	if err := w.ensureOpen(b); err != nil {
		return fail(err)
	}
	if err := b.bw.Flush(); err != nil {
		return fail(err)
	}
	if w.batch == nil {
		if err := b.f.Sync(); err != nil {
			return fail(err)
		}
	}
	if err := w.detach(b); err != nil {
		return fail(err)
	}
	if err := renameFile(b.tmp, b.final); err != nil {
		return fail(err)
	}
	if w.batch != nil {
		w.batch.written(b.final)
		return nil
	}
	if err := SyncDir(filepath.Dir(b.final)); err != nil {
		return fail(err)
	}
	return nil
}

// Abort removes all temporary mbox files; existing mbox files stay as they
// were.
func (w *MboxWriter) Abort() error {
	return w.finish(func(b *mboxFile) error {
		_ = w.detach(b)
		if err := os.Remove(b.tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("sink: remove %s: %w", b.tmp, err)
		}
		return nil
	})
}

// formatMboxMessage returns the mboxrd entry for m: From_ line, message with
// LF line endings, flags headers and From-quoting, and a trailing empty
// line.
func formatMboxMessage(m MailItem) []byte {
	body := toLF(m.Raw)
	header, rest, hasBody := splitHeader(body)
	var out bytes.Buffer
	out.Grow(len(body) + 128)
	date := m.Date
	if date.IsZero() {
		date = time.Unix(0, 0)
	}
	fmt.Fprintf(&out, "From %s %s\n", envelopeSender(m.Raw), date.UTC().Format("Mon Jan _2 15:04:05 2006"))

	var msg bytes.Buffer
	msg.Grow(len(body) + 64)
	writeHeaderWithout(&msg, header, "status", "x-status")
	if m.Flags&FlagSeen != 0 {
		msg.WriteString("Status: RO\n")
	}
	var xs strings.Builder
	for _, x := range []struct {
		f MailFlags
		c byte
	}{{FlagAnswered, 'A'}, {FlagFlagged, 'F'}, {FlagDraft, 'T'}, {FlagDeleted, 'D'}} {
		if m.Flags&x.f != 0 {
			xs.WriteByte(x.c)
		}
	}
	if xs.Len() > 0 {
		msg.WriteString("X-Status: " + xs.String() + "\n")
	}
	if hasBody {
		msg.WriteByte('\n')
		msg.Write(rest)
	}
	quoteFromLines(&out, msg.Bytes())
	if b := out.Bytes(); len(b) == 0 || b[len(b)-1] != '\n' {
		out.WriteByte('\n')
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// splitHeader splits an LF message into its header (including the final
// LF of the last header line) and the body after the empty line.
func splitHeader(b []byte) (header, body []byte, hasBody bool) {
	if bytes.HasPrefix(b, []byte("\n")) {
		return nil, b[1:], true
	}
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		return b[:i+1], b[i+2:], true
	}
	return b, nil, false
}

// writeHeaderWithout copies header fields except those named in drop
// (lower case), with their continuation lines.
func writeHeaderWithout(out *bytes.Buffer, header []byte, drop ...string) {
	skipping := false
	for len(header) > 0 {
		line := header
		if i := bytes.IndexByte(header, '\n'); i >= 0 {
			line, header = header[:i+1], header[i+1:]
		} else {
			header = nil
		}
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			if !skipping {
				out.Write(line)
			}
			continue
		}
		skipping = false
		if name, _, ok := bytes.Cut(line, []byte(":")); ok {
			n := strings.ToLower(strings.TrimSpace(string(name)))
			for _, d := range drop {
				if n == d {
					skipping = true
				}
			}
		}
		if !skipping {
			out.Write(line)
		}
	}
	if b := out.Bytes(); len(b) > 0 && b[len(b)-1] != '\n' {
		out.WriteByte('\n')
	}
}

// quoteFromLines copies msg to out, adding '>' before every line matching
// ^>*From  (mboxrd).
func quoteFromLines(out *bytes.Buffer, msg []byte) {
	for len(msg) > 0 {
		line := msg
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line, msg = msg[:i+1], msg[i+1:]
		} else {
			msg = nil
		}
		if isFromLine(line) {
			out.WriteByte('>')
		}
		out.Write(line)
	}
}

func isFromLine(line []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(line, ">"), []byte("From "))
}

// envelopeSender returns the address for the From_ line: Return-Path, else
// the first From address, else MAILER-DAEMON. It never contains spaces.
func envelopeSender(raw []byte) string {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "MAILER-DAEMON"
	}
	if rp := strings.Trim(strings.TrimSpace(msg.Header.Get("Return-Path")), "<>"); validEnvelope(rp) {
		return rp
	}
	if as, err := msg.Header.AddressList("From"); err == nil && len(as) > 0 && validEnvelope(as[0].Address) {
		return as[0].Address
	}
	return "MAILER-DAEMON"
}

func validEnvelope(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
