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
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
	idx, err := parseIndex(data)
	if err != nil || idx.Version != 1 {
		return nil
	}
	return idx
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

// Target receives the user's view after a run: the mailbox folder. (The
// Outlook bridge is the user's side itself: the run writes into it item by
// item and links what it wrote, see deliverOutlook.)
type Target interface {
	Deliver(ctx context.Context, v *View) ([]string, error)
}

// View is what a run delivers to a user: every shared item (the user's own
// version for their private items), which of them are new or changed for
// the user, and the conflicts to report.
type View struct {
	User       string
	Rev        int64
	Time       time.Time
	OnConflict string
	Items      map[merge.Key]ViewItem
	Incoming   map[merge.Key]bool
	Conflicts  []merge.Conflict
	// Bytes returns an item's bytes (a message's EML): from the run's
	// memory, else from the store. Never needed for unchanged items.
	Bytes func(ctx context.Context, k merge.Key, it ViewItem) ([]byte, error)
}

// ViewItem is one item of a View.
type ViewItem struct {
	Hash string
	Kind merge.Kind
}

// Mailbox is the mailbox folder as a Target: calendar.ics and
// contacts.vcf (everything), one file per item under calendar/, contacts/
// and share/, incoming/ (what is new for the user) and the conflict
// reports. An index (.pstsync/mailbox.json) records what was written, so
// unchanged items are recognised without reading or hashing their files,
// and only files the sync wrote are ever removed.
type Mailbox struct {
	Dir string
	Log *slog.Logger
}

func (mb *Mailbox) log() *slog.Logger {
	if mb.Log != nil {
		return mb.Log
	}
	return slog.Default()
}

// Deliver implements Target.
func (mb *Mailbox) Deliver(ctx context.Context, v *View) ([]string, error) {
	dir := mb.Dir
	idx := readIndex(dir)
	if idx == nil || idx.User != v.User {
		idx = &mailboxIndex{Files: map[string]string{}}
	}
	w := &mailboxWriter{dir: dir, batch: sink.NewBatch()}
	newIdx := &mailboxIndex{Version: 1, User: v.User, Rev: v.Rev, Files: make(map[string]string, len(v.Items))}
	changedColl := map[string]bool{}
	var calAll, conAll, calIn, conIn [][]byte
	lost := map[merge.Key]bool{} // items whose shared version is unreadable
	// The item files that changed are fetched and written by a few
	// workers (an item from the store may be a request away), then
	// looked at in order.
	type fileJob struct {
		k        merge.Key
		it       ViewItem
		rel      string
		data     []byte
		err      error // from fetching
		wrote    bool
		writeErr error
	}
	var jobs []*fileJob
	look := func(k merge.Key, it ViewItem) {
		rel := vdirPath(k.Coll, k.UID, it.Kind)
		newIdx.Files[rel] = it.Hash
		if idx.Files[rel] != it.Hash {
			changedColl[k.Coll] = true
			jobs = append(jobs, &fileJob{k: k, it: it, rel: rel})
		}
	}
	for k, it := range v.Items {
		look(k, it)
	}
	if len(newIdx.Files) < len(v.Items) {
		// Two items share a file (share folders whose names differ only
		// in characters unsafe in a file name): looked at again in key
		// order, so that the later one's is the index's entry, run
		// after run.
		clear(newIdx.Files)
		clear(changedColl)
		jobs = jobs[:0]
		for _, k := range slices.SortedFunc(maps.Keys(v.Items), compareKeys) {
			look(k, v.Items[k])
		}
	}
	// In key order: the files written are listed, and the first error
	// returned, in that order.
	slices.SortFunc(jobs, func(a, b *fileJob) int { return compareKeys(a.k, b.k) })
	var sorted []merge.Key // every item's key in order, when every item is a job
	if len(jobs) == len(v.Items) {
		sorted = make([]merge.Key, len(jobs))
		for i, j := range jobs {
			sorted[i] = j.k
		}
	}
	// A folder that does not exist yet holds no file to compare with.
	// One of the mailbox's own (calendar/, contacts/: a first sync) is
	// made whole in one step, beside it, by a NewDir.
	if err := sink.CleanNewDirs(dir); err != nil {
		return nil, fmt.Errorf("syncer: mailbox: %w", err)
	}
	w.fresh = map[string]bool{}
	w.newDirs = map[string]*sink.NewDir{}
	defer func() {
		for _, nd := range w.newDirs {
			nd.Discard()
		}
	}()
	for _, j := range jobs {
		d := path.Dir(j.rel)
		if _, ok := w.fresh[d]; !ok {
			_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(d)))
			w.fresh[d] = errors.Is(err, fs.ErrNotExist)
			if w.fresh[d] && (d == CalendarDir || d == ContactsDir) {
				nd, err := sink.StartNewDir(filepath.Join(dir, d))
				if err != nil {
					return nil, fmt.Errorf("syncer: mailbox: %w", err)
				}
				w.newDirs[d] = nd
			}
		}
	}
	inParallel(min(mailboxWorkers, len(jobs)), len(jobs), func(i int) {
		j := jobs[i]
		if j.data, j.err = v.Bytes(ctx, j.k, j.it); j.err == nil {
			j.wrote, j.writeErr = w.write(j.rel, j.data)
		}
	})
	for _, d := range slices.Sorted(maps.Keys(w.newDirs)) {
		err := w.newDirs[d].Publish()
		if err == nil {
			continue
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("syncer: mailbox: %w", err)
		}
		// The folder was made meanwhile: its files are written one by
		// one after all, each compared with what is there.
		w.newDirs[d].Discard()
		delete(w.newDirs, d)
		w.fresh[d] = false
		for _, j := range jobs {
			if path.Dir(j.rel) == d && j.wrote {
				j.wrote, j.writeErr = w.write(j.rel, j.data)
			}
		}
	}
	clear(w.newDirs)
	fetched := make(map[merge.Key][]byte, len(jobs))
	for _, j := range jobs {
		if j.wrote {
			w.written = append(w.written, j.rel)
		}
	}
	for _, j := range jobs {
		k, rel, err := j.k, j.rel, j.err
		if unreadableObject(err) {
			// A lost object is that item's problem: its file stays as
			// it was, the others are written.
			mb.log().WarnContext(ctx, "mailbox: shared item unreadable, left as it was (pstsync check)", "collection", k.Coll, "uid", k.UID, "err", err)
			if old, ok := idx.Files[rel]; ok {
				newIdx.Files[rel] = old
			} else {
				delete(newIdx.Files, rel)
			}
			lost[k] = true
			newIdx.Rev = 0 // incomplete: the next run writes the mailbox again
			continue
		}
		if err != nil {
			return w.written, fmt.Errorf("syncer: mailbox: %s: %w", k, err)
		}
		if j.writeErr != nil {
			return w.written, j.writeErr
		}
		fetched[k] = j.data
	}
	jobs = nil
	for rel := range idx.Files {
		if _, ok := newIdx.Files[rel]; !ok {
			changedColl[collOfRel(rel)] = true
			p := filepath.Join(dir, filepath.FromSlash(rel))
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return w.written, fmt.Errorf("syncer: mailbox: %w", err)
			}
			w.written = append(w.written, rel)
		}
	}
	needAll := func(name, coll string) bool {
		if changedColl[coll] {
			return true
		}
		_, err := os.Stat(filepath.Join(dir, name))
		return err != nil
	}
	wantCal, wantCon := needAll(CalendarFile, Calendar), needAll(ContactsFile, Contacts)
	var keys []merge.Key // sorted only when the combined files need them
	if wantCal || wantCon || len(v.Incoming) > 0 {
		keys = sorted
		if keys == nil {
			keys = slices.SortedFunc(maps.Keys(v.Items), compareKeys)
		}
	}
	for _, k := range keys {
		it := v.Items[k]
		if it.Kind == merge.KindMessage || lost[k] {
			continue
		}
		in := v.Incoming[k]
		all := (k.Coll == Calendar && wantCal) || (k.Coll == Contacts && wantCon)
		if !all && !in {
			continue
		}
		data, ok := fetched[k]
		if !ok {
			var err error
			if data, err = mb.itemBytes(ctx, v, k, it, idx); err != nil {
				return w.written, err
			}
		}
		if it.Kind == merge.KindContact {
			if all && k.Coll == Contacts {
				conAll = append(conAll, data)
			}
			if in {
				conIn = append(conIn, data)
			}
		} else {
			if all && k.Coll == Calendar {
				calAll = append(calAll, data)
			}
			if in {
				calIn = append(calIn, data)
			}
		}
	}
	if wantCal {
		if err := w.file(CalendarFile, CombineICS(calAll)); err != nil {
			return w.written, err
		}
	}
	if wantCon {
		if err := w.file(ContactsFile, bytes.Join(conAll, nil)); err != nil {
			return w.written, err
		}
	}
	if len(calIn) > 0 {
		if err := w.file(fmt.Sprintf("%s/%06d-calendar.ics", IncomingDir, v.Rev), CombineICS(calIn)); err != nil {
			return w.written, err
		}
	}
	if len(conIn) > 0 {
		if err := w.file(fmt.Sprintf("%s/%06d-contacts.vcf", IncomingDir, v.Rev), bytes.Join(conIn, nil)); err != nil {
			return w.written, err
		}
	}
	if err := w.outlookImports(v.Rev, calIn, conIn); err != nil {
		return w.written, err
	}
	if len(w.written) == 0 && idx.Rev == v.Rev && idx.Version == 1 {
		return nil, nil // nothing new: the reports stand as they are
	}
	if err := w.conflicts(v); err != nil {
		return w.written, err
	}
	if err := w.file(IndexFile, newIdx.encode()); err != nil {
		return w.written, err
	}
	if err := w.batch.Sync(); err != nil {
		return w.written, fmt.Errorf("syncer: mailbox %s: %w", dir, err)
	}
	return w.written, nil
}

// itemBytes returns an item's bytes for the combined files: the vdir file
// when it holds what the index says was delivered (read, not re-hashed:
// the index is the record of what was written), else from the view.
func (mb *Mailbox) itemBytes(ctx context.Context, v *View, k merge.Key, it ViewItem, idx *mailboxIndex) ([]byte, error) {
	rel := vdirPath(k.Coll, k.UID, it.Kind)
	if idx.Files[rel] == it.Hash {
		if data, err := os.ReadFile(filepath.Join(mb.Dir, filepath.FromSlash(rel))); err == nil {
			return data, nil
		}
	}
	data, err := v.Bytes(ctx, k, it)
	if err != nil {
		return nil, fmt.Errorf("syncer: mailbox: %s: %w", k, err)
	}
	return data, nil
}

func collOfRel(rel string) string {
	switch {
	case strings.HasPrefix(rel, CalendarDir+"/"):
		return Calendar
	case strings.HasPrefix(rel, ContactsDir+"/"):
		return Contacts
	}
	return ""
}

type mailboxWriter struct {
	dir     string
	batch   *sink.Batch
	written []string
	// fresh: folders (slash paths) found missing before the item files
	// were written; their files need no comparison.
	fresh map[string]bool
	// newDirs: fresh folders being made whole (see sink.NewDir).
	newDirs map[string]*sink.NewDir
}

// file writes rel unless it already holds data.
func (w *mailboxWriter) file(rel string, data []byte) error {
	wrote, err := w.write(rel, data)
	if wrote {
		w.written = append(w.written, rel)
	}
	return err
}

// write writes rel unless it already holds data, and reports whether it
// did; safe for concurrent use.
func (w *mailboxWriter) write(rel string, data []byte) (bool, error) {
	if nd := w.newDirs[path.Dir(rel)]; nd != nil {
		if err := nd.WriteFile(path.Base(rel), data); err != nil {
			return false, fmt.Errorf("syncer: mailbox: %w", err)
		}
		return true, nil
	}
	p := filepath.Join(w.dir, filepath.FromSlash(rel))
	if !w.fresh[path.Dir(rel)] {
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, data) {
			return false, nil
		}
	}
	if err := w.batch.WriteFile(p, data); err != nil {
		return false, fmt.Errorf("syncer: mailbox: %w", err)
	}
	return true, nil
}

// mailboxWorkers is how many item files a mailbox fetches and writes at
// once.
const mailboxWorkers = 8

// inParallel runs fn(0..n-1) on workers goroutines.
func inParallel(workers, n int, fn func(i int)) {
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// conflicts writes conflicts.json and conflicts.html.
func (w *mailboxWriter) conflicts(v *View) error {
	meta := report.Meta{Title: "pstsync conflicts for " + v.User, Revision: v.Rev, Time: v.Time, OnConflict: v.OnConflict}
	var js, html bytes.Buffer
	if err := report.JSON(&js, v.Conflicts, meta); err != nil {
		return err
	}
	if err := report.HTML(&html, v.Conflicts, meta); err != nil {
		return err
	}
	if err := w.file(ConflictsJSON, js.Bytes()); err != nil {
		return err
	}
	return w.file(ConflictsHTML, html.Bytes())
}

// deliver gives the user the view after the plan, from the run's memory
// (objects of other users' changes from the store).
func (r *run) deliver(ctx context.Context, a *applied) ([]string, error) {
	v := &View{User: r.o.User, OnConflict: string(r.o.OnConflict), Items: make(map[merge.Key]ViewItem, len(a.plan.Deliver)), Incoming: map[merge.Key]bool{}}
	if a.final != nil {
		v.Rev, v.Time = a.final.Rev, a.final.Time
	}
	own := make(map[merge.Key]string, len(a.assign))
	for _, it := range r.side.items {
		if uid, ok := a.assign[it]; ok {
			own[merge.Key{Coll: it.coll, UID: uid}] = it.marker.Hash
		}
	}
	var prev map[merge.Key]string
	if r.st != nil {
		prev = make(map[merge.Key]string, len(r.st.Delivered))
		for _, d := range r.st.Delivered {
			prev[merge.Key{Coll: d.Collection, UID: d.UID}] = d.Hash
		}
	}
	var base *snapshot.Manifest
	if len(prev) == 0 {
		base = r.baseManifest(ctx, a.final)
	}
	for k, h := range a.plan.Deliver {
		kind := a.kinds[k]
		if kind == "" {
			kind = kindOfColl(k.Coll)
		}
		v.Items[k] = ViewItem{Hash: h, Kind: kind}
		if kind == merge.KindMessage || own[k] == h || prev[k] == h {
			continue
		}
		if base != nil && base.Collections[k.Coll][k.UID].Hash == h {
			continue
		}
		if r.inOutlook(k) {
			continue // written into Outlook itself
		}
		v.Incoming[k] = true
		r.res.Incoming[k.Coll]++
	}
	v.Bytes = func(ctx context.Context, k merge.Key, it ViewItem) ([]byte, error) {
		data, ok := a.mem[it.Hash]
		if !ok {
			var err error
			if data, err = r.repo.GetObject(ctx, it.Hash); err != nil {
				return nil, err
			}
		}
		if it.Kind != merge.KindMessage {
			return data, nil
		}
		d, err := parseMessageRecord(data)
		if err != nil {
			return nil, fmt.Errorf("object %s: %w", it.Hash, err)
		}
		h, _, _ := merge.ToMessage(d)
		if c, ok := a.mem[h]; ok {
			return c, nil
		}
		return r.repo.GetObject(ctx, h)
	}
	// This run's conflicts and those recorded by the revisions since the
	// user's last sync.
	if a.final != nil {
		from := int64(0)
		if r.st != nil {
			from = r.st.BaseRev
		}
		from = max(from, a.final.Rev-maxReportRevs)
		for rev := from + 1; rev <= a.final.Rev; rev++ {
			if r.res.Committed && rev == a.final.Rev {
				v.Conflicts = append(v.Conflicts, a.plan.Conflicts...)
				continue
			}
			cs, err := RevisionConflicts(ctx, r.repo, rev)
			if err != nil {
				r.log.WarnContext(ctx, "conflicts of a revision unreadable", "rev", rev, "err", err)
				continue
			}
			v.Conflicts = append(v.Conflicts, cs...)
		}
	}
	var t Target = &Mailbox{Dir: r.o.Mailbox, Log: r.log}
	return t.Deliver(ctx, v)
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
	var zones, comps, cur bytes.Buffer
	n := 0
	for _, obj := range objs {
		n += len(obj)
	}
	comps.Grow(n) // the components are most of the objects' bytes
	seenTZ := map[string]bool{}
	for _, obj := range objs {
		depth := 0
		var tzid string
		isTZ := false
		for len(obj) > 0 {
			var l []byte
			if i := bytes.IndexByte(obj, '\n'); i >= 0 {
				l, obj = obj[:i+1], obj[i+1:]
			} else {
				l, obj = obj, nil
			}
			t := bytes.TrimRight(l, "\r\n")
			if len(t) == 0 {
				continue
			}
			k := classifyLine(t)
			switch {
			case k.begin:
				depth++
				if depth == 2 {
					cur.Reset()
					isTZ = k.beginTZ
					tzid = ""
				}
			case k.end:
				if depth > 2 {
					cur.Write(t)
					cur.WriteString("\r\n")
				}
				if depth == 2 {
					cur.Write(t)
					cur.WriteString("\r\n")
					if isTZ {
						if !seenTZ[tzid] {
							seenTZ[tzid] = true
							zones.Write(cur.Bytes())
						}
					} else {
						comps.Write(cur.Bytes())
					}
				}
				depth--
				continue
			}
			if depth >= 2 {
				if isTZ && depth == 2 && k.tzid {
					tzid = string(t)
				}
				cur.Write(t)
				cur.WriteString("\r\n")
			}
		}
	}
	var out bytes.Buffer
	out.Grow(zones.Len() + comps.Len() + 100)
	out.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:" + merge.ProdID + "\r\n")
	out.Write(zones.Bytes())
	out.Write(comps.Bytes())
	out.WriteString("END:VCALENDAR\r\n")
	return out.Bytes()
}

// lineKind is what CombineICS needs to know of a line: whether its upper
// case form starts with BEGIN:, is BEGIN:VTIMEZONE, starts with END: or
// with TZID.
type lineKind struct{ begin, beginTZ, end, tzid bool }

func classifyLine(t []byte) lineKind {
	ascii := true
	for _, c := range t {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if !ascii {
		// Upper-casing other letters can change their length.
		up := bytes.ToUpper(t)
		return lineKind{begin: bytes.HasPrefix(up, []byte("BEGIN:")), beginTZ: string(up) == "BEGIN:VTIMEZONE",
			end: bytes.HasPrefix(up, []byte("END:")), tzid: bytes.HasPrefix(up, []byte("TZID"))}
	}
	prefix := func(p string) bool { return len(t) >= len(p) && bytes.EqualFold(t[:len(p)], []byte(p)) }
	return lineKind{begin: prefix("BEGIN:"), beginTZ: len(t) == len("BEGIN:VTIMEZONE") && prefix("BEGIN:VTIMEZONE"),
		end: prefix("END:"), tzid: prefix("TZID")}
}
