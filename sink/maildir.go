package sink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// maildirHost is the host part of Maildir file names. A constant (rather
// than the host name) keeps names identical across machines, so re-running
// an export elsewhere still replaces files.
const maildirHost = "pstsync"

// MaildirWriter writes messages into Maildir folders.
type MaildirWriter struct {
	batch   *Batch // nil: every file is fsynced as it is written
	dir     string
	mu      sync.Mutex
	folders map[string]*maildirFolder
	closed  bool
}

type maildirFolder struct {
	path     string
	existing map[string][]string // unique part -> names in cur/ and new/ ("cur/x", "new/y")
	seen     map[string]int      // content hash -> occurrences (items without Key)
	used     map[string]bool     // unique parts written in this run
}

// NewMaildirWriter returns a MailWriter that writes folder {"Inbox", "Sub"}
// as the Maildir dir/Inbox/Sub (with cur/, new/ and tmp/; the empty folder
// path is dir itself). Path components go through SafeName, and components
// named cur, new or tmp (any case) get a '_' appended so that they never
// clash with a Maildir's own subdirectories. Nested Maildirs are read by
// mutt, neomutt and notmuch.
//
// Every message is delivered the Maildir way: written and fsynced in tmp/,
// then renamed into cur/ as "<time>.K<hash>.pstsync:2,<flags>", where
// <time> is MailItem.Date in Unix seconds (0 when unknown), <hash> is 20 hex
// digits of SHA-256 over MailItem.Key (or, without a Key, over Raw plus its
// occurrence number in the folder) and <flags> are MailItem.Flags in
// Maildir letters. All messages go to cur/ (none to new/): an exported
// message is not "new" mail; unread ones simply lack the S flag.
//
// Because the name is derived from the key, a re-run replaces each message:
// any file in cur/ or new/ with the same ".K<hash>." part but other flags or
// time is removed after the new file is in place. Message content is
// converted from CRLF to LF line endings, the Maildir convention.
func NewMaildirWriter(dir string) (*MaildirWriter, error) {
	if dir == "" {
		return nil, errors.New("sink: Maildir writer: empty directory")
	}
	return &MaildirWriter{dir: dir, folders: make(map[string]*maildirFolder)}, nil
}

// MaildirFolderPath returns the relative directory of a Maildir folder as
// NewMaildirWriter lays it out.
func MaildirFolderPath(folder []string) string {
	parts := make([]string, len(folder))
	for i, f := range folder {
		s := SafeName(f)
		switch strings.ToLower(s) {
		case "cur", "new", "tmp":
			s += "_"
		}
		parts[i] = s
	}
	if len(parts) == 0 {
		return "."
	}
	return filepath.Join(parts...)
}

// folder returns (creating on first use) the Maildir for a folder path and
// indexes the messages already in it.
func (w *MaildirWriter) folder(folder []string) (*maildirFolder, error) {
	rel := MaildirFolderPath(folder)
	key := folderKey(rel)
	if f := w.folders[key]; f != nil {
		return f, nil
	}
	path := filepath.Join(w.dir, rel)
	f := &maildirFolder{path: path, existing: make(map[string][]string), seen: make(map[string]int), used: make(map[string]bool)}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(path, sub), DirMode); err != nil {
			return nil, fmt.Errorf("sink: create Maildir %s: %w", path, err)
		}
	}
	for _, sub := range []string{"cur", "new"} {
		ents, err := os.ReadDir(filepath.Join(path, sub))
		if err != nil {
			return nil, fmt.Errorf("sink: read Maildir %s: %w", path, err)
		}
		for _, e := range ents {
			if u := maildirUnique(e.Name()); u != "" {
				f.existing[u] = append(f.existing[u], sub+"/"+e.Name())
			}
		}
	}
	w.folders[key] = f
	return f, nil
}

// maildirUnique returns the ".K<hash>" unique part of a Maildir name made by
// this writer, or "".
func maildirUnique(name string) string {
	base := name
	if i := strings.IndexAny(name, ":!"); i >= 0 {
		base = name[:i]
	}
	parts := strings.Split(base, ".")
	if len(parts) != 3 || parts[2] != maildirHost || !strings.HasPrefix(parts[1], "K") {
		return ""
	}
	return parts[1]
}

// Add delivers m into the folder's Maildir.
func (w *MaildirWriter) Add(ctx context.Context, folder []string, m MailItem) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m, err := m.whole()
	if err != nil {
		return err
	}
	// The name is reserved under the lock; the file is written outside it,
	// so concurrent Adds overlap their I/O.
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return errors.New("sink: Maildir writer: add after close")
	}
	f, err := w.folder(folder)
	if err != nil {
		w.mu.Unlock()
		return err
	}
	h := sha256.New()
	if m.Key != "" {
		io.WriteString(h, "key\x00"+m.Key)
	} else {
		sum := sha256.Sum256(m.Raw)
		c := hex.EncodeToString(sum[:])
		f.seen[c]++
		fmt.Fprintf(h, "raw\x00%s\x00%d", c, f.seen[c])
	}
	uniq := "K" + hex.EncodeToString(h.Sum(nil))[:20]
	if f.used[uniq] {
		w.mu.Unlock()
		return fmt.Errorf("sink: Maildir %s: duplicate message key %q", f.path, m.Key)
	}
	f.used[uniq] = true
	existing := f.existing[uniq]
	delete(f.existing, uniq)
	batch := w.batch
	w.mu.Unlock()

	var sec int64
	if !m.Date.IsZero() {
		sec = m.Date.Unix()
	}
	name := fmt.Sprintf("%d.%s.%s:2,%s", sec, uniq, maildirHost, m.Flags.Maildir())
	if os.PathSeparator == '\\' {
		name = strings.ReplaceAll(name, ":", "!") // ':' is invalid on Windows; '!' is the common substitute
	}
	final := filepath.Join(f.path, "cur", name)
	data := toLF(m.Raw)
	err = writeAtomicVia(batch, filepath.Join(f.path, "tmp"), final, m.Date, func(wr io.Writer) error {
		_, err := wr.Write(data)
		return err
	})
	if err != nil {
		return err
	}
	var stale []string
	for _, old := range existing {
		if filepath.Join(f.path, filepath.FromSlash(old)) != final {
			stale = append(stale, old)
		}
	}
	for _, old := range stale {
		p := filepath.Join(f.path, filepath.FromSlash(old))
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("sink: remove replaced message %s: %w", p, err)
		}
	}
	return nil
}

// Close marks the writer closed; every message is already delivered.
func (w *MaildirWriter) Close() error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	return nil
}

// Abort is Close: Maildir messages are committed one by one.
func (w *MaildirWriter) Abort() error { return w.Close() }

// UseBatch defers durability to b.Sync (see Batch). Call it before Add.
func (w *MaildirWriter) UseBatch(b *Batch) { w.batch = b }
