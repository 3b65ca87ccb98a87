package syncer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/merge/report"
	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/snapshot"
)

// Mailbox file names.
const (
	CalendarFile  = "calendar.ics"
	ContactsFile  = "contacts.vcf"
	CalendarDir   = "calendar"
	ContactsDir   = "contacts"
	IncomingDir   = "incoming"
	ShareDir      = "share"
	ConflictsJSON = "conflicts.json"
	ConflictsHTML = "conflicts.html"
	// IndexFile records what the last sync wrote (revision, vdir files
	// and their hashes), so that a sync with nothing new writes nothing
	// and only files it wrote are ever removed.
	IndexFile = ".pstsync/mailbox.json"
)

// maxReportRevs bounds how many earlier revisions' conflicts a mailbox's
// report gathers.
const maxReportRevs = 50

type mailboxIndex struct {
	Version int               `json:"version"`
	User    string            `json:"user"`
	Rev     int64             `json:"rev"`
	Files   map[string]string `json:"files"` // vdir file (slash path) → entry hash
}

func readIndex(dir string) *mailboxIndex {
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(IndexFile)))
	if err != nil {
		return nil
	}
	var idx mailboxIndex
	if json.Unmarshal(data, &idx) != nil || idx.Version != 1 {
		return nil
	}
	return &idx
}

// FileName is the vdir file name (without extension) of a shared UID: the
// UID itself when it is a safe file name, else a safe form of it with a
// short hash of the UID appended.
func FileName(uid string) string {
	name := sink.SafeName(uid)
	if name == uid && len(uid) <= 80 {
		return name
	}
	if len(name) > 60 {
		name = strings.ToValidUTF8(name[:60], "")
	}
	sum := sha256.Sum256([]byte(uid))
	return name + "-" + hex.EncodeToString(sum[:5])
}

func extOf(kind merge.Kind) string {
	switch {
	case kind == merge.KindContact:
		return ".vcf"
	case kind == merge.KindMessage:
		return ".eml"
	}
	return ".ics"
}

// vdirPath is the mailbox file of an item.
func vdirPath(coll, uid string, kind merge.Kind) string {
	switch coll {
	case Calendar:
		return CalendarDir + "/" + FileName(uid) + ".ics"
	case Contacts:
		return ContactsDir + "/" + FileName(uid) + ".vcf"
	}
	return ShareDir + "/" + sink.SafeName(strings.TrimPrefix(coll, SharePrefix)) + "/" + FileName(uid) + extOf(kind)
}

// writeMailbox writes the merged view of revision m into the mailbox
// folder; it does nothing when the folder already shows m.
func (r *run) writeMailbox(ctx context.Context, m *snapshot.Manifest, p *plan) ([]string, error) {
	dir := r.o.Mailbox
	idx := readIndex(dir)
	if idx != nil && idx.User == r.o.User && idx.Rev == m.Rev {
		if _, err := os.Stat(filepath.Join(dir, CalendarFile)); err == nil {
			return nil, nil
		}
	}
	if idx == nil || idx.User != r.o.User {
		idx = &mailboxIndex{Files: map[string]string{}}
	}
	w := &mailboxWriter{ctx: ctx, r: r, dir: dir, batch: sink.NewBatch(), idx: idx}

	// what the user has, for incoming
	userHash := map[string]string{}
	for _, it := range r.side.items {
		userHash[it.coll+"\x00"+p.assign[it]] = it.marker.Hash
	}
	base := r.baseManifest(ctx, p.latest)

	newIdx := &mailboxIndex{Version: 1, User: r.o.User, Rev: m.Rev, Files: map[string]string{}}
	var calAll, conAll, calIn, conIn [][]byte
	for _, coll := range slices.Sorted(maps.Keys(m.Collections)) {
		items := m.Collections[coll]
		for _, uid := range slices.Sorted(maps.Keys(items)) {
			e := items[uid]
			kind := merge.Kind(e.Kind)
			rel := vdirPath(coll, uid, kind)
			newIdx.Files[rel] = e.Hash
			data, err := w.item(rel, e)
			if unreadableObject(err) {
				// A lost object is that item's problem: its file stays as
				// it was, the others are written.
				r.log.WarnContext(ctx, "mailbox: shared item unreadable, left as it was (pstsync check)", "collection", coll, "uid", uid, "err", err)
				if old, ok := idx.Files[rel]; ok {
					newIdx.Files[rel] = old
				} else {
					delete(newIdx.Files, rel)
				}
				newIdx.Rev = 0 // incomplete: the next run writes the mailbox again
				continue
			}
			if err != nil {
				return w.written, err
			}
			if kind == merge.KindMessage {
				continue
			}
			incoming := userHash[coll+"\x00"+uid] != e.Hash
			if incoming && base != nil {
				if b, ok := base.Collections[coll][uid]; ok && b.Hash == e.Hash {
					incoming = false
				}
			}
			if kind == merge.KindContact {
				if coll == Contacts {
					conAll = append(conAll, data)
				}
				if incoming {
					conIn = append(conIn, data)
					r.res.Incoming[coll]++
				}
			} else {
				if coll == Calendar {
					calAll = append(calAll, data)
				}
				if incoming {
					calIn = append(calIn, data)
					r.res.Incoming[coll]++
				}
			}
		}
	}
	for rel := range idx.Files {
		if _, ok := newIdx.Files[rel]; !ok {
			p := filepath.Join(dir, filepath.FromSlash(rel))
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return w.written, fmt.Errorf("syncer: mailbox: %w", err)
			}
			w.written = append(w.written, rel)
		}
	}
	if err := w.file(CalendarFile, CombineICS(calAll)); err != nil {
		return w.written, err
	}
	if err := w.file(ContactsFile, bytes.Join(conAll, nil)); err != nil {
		return w.written, err
	}
	if len(calIn) > 0 {
		if err := w.file(fmt.Sprintf("%s/%06d-calendar.ics", IncomingDir, m.Rev), CombineICS(calIn)); err != nil {
			return w.written, err
		}
	}
	if len(conIn) > 0 {
		if err := w.file(fmt.Sprintf("%s/%06d-contacts.vcf", IncomingDir, m.Rev), bytes.Join(conIn, nil)); err != nil {
			return w.written, err
		}
	}
	if err := w.conflicts(m, p); err != nil {
		return w.written, err
	}
	data, err := json.MarshalIndent(newIdx, "", " ")
	if err != nil {
		return w.written, err
	}
	if err := w.file(IndexFile, append(data, '\n')); err != nil {
		return w.written, err
	}
	if err := w.batch.Sync(); err != nil {
		return w.written, fmt.Errorf("syncer: mailbox %s: %w", dir, err)
	}
	return w.written, nil
}

type mailboxWriter struct {
	ctx     context.Context
	r       *run
	dir     string
	batch   *sink.Batch
	idx     *mailboxIndex
	written []string
}

// item makes sure the vdir file rel holds entry e and returns its bytes
// (nil for messages, whose bytes are not needed further).
func (w *mailboxWriter) item(rel string, e snapshot.Entry) ([]byte, error) {
	p := filepath.Join(w.dir, filepath.FromSlash(rel))
	kind := merge.Kind(e.Kind)
	if w.idx.Files[rel] == e.Hash {
		if kind == merge.KindMessage {
			if _, err := os.Stat(p); err == nil {
				return nil, nil
			}
		} else if data, err := os.ReadFile(p); err == nil && snapshot.HashOf(data) == e.Hash {
			return data, nil
		}
	}
	data, err := w.r.repo.GetObject(w.ctx, e.Hash)
	if err != nil {
		return nil, fmt.Errorf("syncer: mailbox: %w", err)
	}
	out := data
	if kind == merge.KindMessage {
		d, err := parseMessageRecord(data)
		if err != nil {
			return nil, fmt.Errorf("syncer: mailbox: object %s: %w", e.Hash, err)
		}
		h, _, _ := merge.ToMessage(d)
		if out, err = w.r.repo.GetObject(w.ctx, h); err != nil {
			return nil, fmt.Errorf("syncer: mailbox: message content: %w", err)
		}
	}
	if err := w.file(rel, out); err != nil {
		return nil, err
	}
	if kind == merge.KindMessage {
		return nil, nil
	}
	return data, nil
}

// file writes rel unless it already holds data.
func (w *mailboxWriter) file(rel string, data []byte) error {
	p := filepath.Join(w.dir, filepath.FromSlash(rel))
	if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := w.batch.WriteFile(p, data); err != nil {
		return fmt.Errorf("syncer: mailbox: %w", err)
	}
	w.written = append(w.written, rel)
	return nil
}

// conflicts writes conflicts.json and conflicts.html: this sync's
// conflicts and those recorded by the revisions since the user's last
// sync.
func (w *mailboxWriter) conflicts(m *snapshot.Manifest, p *plan) error {
	var all []merge.Conflict
	from := int64(0)
	if w.r.st != nil {
		from = w.r.st.BaseRev
	}
	from = max(from, m.Rev-maxReportRevs)
	for rev := from + 1; rev <= m.Rev; rev++ {
		if w.r.res.Committed && rev == m.Rev {
			all = append(all, p.conflicts...)
			continue
		}
		cs, err := RevisionConflicts(w.ctx, w.r.repo, rev)
		if err != nil {
			w.r.log.WarnContext(w.ctx, "conflicts of a revision unreadable", "rev", rev, "err", err)
			continue
		}
		all = append(all, cs...)
	}
	meta := report.Meta{Title: "pstsync conflicts for " + w.r.o.User, Revision: m.Rev, Time: m.Time, OnConflict: string(w.r.o.OnConflict)}
	var js, html bytes.Buffer
	if err := report.JSON(&js, all, meta); err != nil {
		return err
	}
	if err := report.HTML(&html, all, meta); err != nil {
		return err
	}
	if err := w.file(ConflictsJSON, js.Bytes()); err != nil {
		return err
	}
	return w.file(ConflictsHTML, html.Bytes())
}

// RevisionConflicts returns the conflicts recorded with revision rev.
func RevisionConflicts(ctx context.Context, repo *snapshot.Repo, rev int64) ([]merge.Conflict, error) {
	raw, err := repo.Conflicts(ctx, rev)
	if err != nil || len(raw) == 0 {
		return nil, err
	}
	var cs []merge.Conflict
	if err := json.Unmarshal(raw, &cs); err != nil {
		return nil, fmt.Errorf("syncer: conflicts of revision %d: %w", rev, err)
	}
	return cs, nil
}

// CombineICS joins single-item iCalendar objects into one VCALENDAR: their
// components in order, each VTIMEZONE once (by TZID). It works on the text
// (no decoding): the objects are the canonical bytes merge wrote.
func CombineICS(objs [][]byte) []byte {
	var zones, comps bytes.Buffer
	seenTZ := map[string]bool{}
	for _, obj := range objs {
		lines := strings.SplitAfter(string(obj), "\n")
		depth := 0
		var cur strings.Builder
		var tzid string
		isTZ := false
		for _, l := range lines {
			t := strings.TrimRight(l, "\r\n")
			if t == "" {
				continue
			}
			up := strings.ToUpper(t)
			switch {
			case strings.HasPrefix(up, "BEGIN:"):
				depth++
				if depth == 2 {
					cur.Reset()
					isTZ = up == "BEGIN:VTIMEZONE"
					tzid = ""
				}
			case strings.HasPrefix(up, "END:"):
				if depth > 2 {
					cur.WriteString(t + "\r\n")
				}
				if depth == 2 {
					cur.WriteString(t + "\r\n")
					if isTZ {
						if !seenTZ[tzid] {
							seenTZ[tzid] = true
							zones.WriteString(cur.String())
						}
					} else {
						comps.WriteString(cur.String())
					}
				}
				depth--
				continue
			}
			if depth >= 2 {
				if isTZ && depth == 2 && strings.HasPrefix(up, "TZID") {
					tzid = t
				}
				cur.WriteString(t + "\r\n")
			}
		}
	}
	var out bytes.Buffer
	out.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:" + merge.ProdID + "\r\n")
	out.Write(zones.Bytes())
	out.Write(comps.Bytes())
	out.WriteString("END:VCALENDAR\r\n")
	return out.Bytes()
}
