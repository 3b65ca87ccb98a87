package syncer

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"

	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/outlook"
	"github.com/pstsync/pstsync/pst"
	"github.com/pstsync/pstsync/pst/cal"
	"github.com/pstsync/pstsync/pst/contact"
	"github.com/pstsync/pstsync/pst/mail"
	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/snapshot"
)

// Collection names of the shared snapshot.
const (
	Calendar = "calendar"
	Contacts = "contacts"
	// SharePrefix starts the name of a collection made from a --share
	// folder: "share/" and the folder's name.
	SharePrefix = "share/"
)

// item is one item of the user's side.
type item struct {
	key    string // stable key on the user's side (link table key)
	coll   string
	marker snapshot.Marker // LastModified and ChangeKey; Hash once known
	// unchanged: the marker equals the link's, so the item is what it was
	// at the last sync (link holds its UID and hash); doc is nil.
	unchanged bool
	link      *snapshot.Link
	doc       *merge.Doc // the decoded item (nil when unchanged)
	data      []byte     // Canonical(doc)
	// content holds extra objects the item needs (a message's EML).
	content [][]byte
	// contentUID is the identity taken from the content (UID, Message-ID).
	contentUID string
	// source is the source the item was read from (a file's path relative
	// to the source folder, or the collection for a PST folder).
	source string
	// private: a private calendar item (shared as busy time only).
	private bool
}

// SideReader reads one user's side: every item with a stable key, its
// change marker and (when it changed since the last run) its decoded
// version, and for every source whether it was read completely and
// cleanly. The PST and the source folder are the readers today; an
// Outlook bridge (items with EntryIDs and change keys) can be another.
type SideReader interface {
	ReadSide(ctx context.Context, prev *PrevSide) (*Side, error)
}

// PrevSide is what the last run knew of the side: the items it linked
// and the sources as they were read.
type PrevSide struct {
	Links   []snapshot.Link
	Sources map[string]snapshot.Source
	index   map[linkKey]*snapshot.Link
}

// Link returns the link of the item with key in coll (nil when none).
func (p *PrevSide) Link(coll, key string) *snapshot.Link {
	if p.index == nil {
		p.index = make(map[linkKey]*snapshot.Link, len(p.Links))
		for i := range p.Links {
			p.index[linkKey{p.Links[i].Collection, p.Links[i].Key}] = &p.Links[i]
		}
	}
	return p.index[linkKey{coll, key}]
}

// Item is one item of a user's side as a SideReader gives it.
type Item struct {
	Collection string // Calendar, Contacts or a share collection
	Key        string // stable key on the user's side (file#UID, nid:…, an EntryID)
	Source     string // the source it was read from (see Side.Sources)
	// Marker is the change marker (modification time, change key); the
	// run fills in Hash.
	Marker snapshot.Marker
	// Doc is the decoded item; nil when the reader found it unchanged
	// since the last run (then it must have a link).
	Doc *merge.Doc
	// Content holds extra objects the item needs (a message's EML).
	Content [][]byte
	// Private: a private calendar item (shared as busy time only).
	Private bool
}

// Side is what a SideReader read.
type Side struct {
	Items []Item
	// Collections the side has (an absent or empty one that had items is
	// refused, see ErrEmptySide).
	Collections map[string]bool
	// Sources: how each source was read this run.
	Sources  []snapshot.Source
	Problems []Problem
	// Listed: every source was enumerated, so a source of the last run
	// that is gone (a deleted file) is positive evidence that its items
	// were deleted.
	Listed  bool
	Decoded int // items decoded
	// FilesRead counts the files whose content was read (the others were
	// unchanged by their metadata).
	FilesRead int
	// Lossy: the client behind this side may drop fields it cannot keep
	// (Outlook behind a PST); a folder of files keeps everything.
	Lossy bool
}

// side is the Side with each item tied to its link.
type side struct {
	items    []*item
	present  map[string]bool
	decoded  int
	sources  []snapshot.Source
	problems []Problem
	listed   bool
	lossy    bool
}

// ownVersions calls f with what of the user's side goes into the store:
// each decoded item's version (its hash and bytes) and the contents it
// needs (a message's EML, hash ""). A private item leaves the PC as busy
// time only: nothing of it.
func (s *side) ownVersions(f func(h string, data []byte)) {
	for _, it := range s.items {
		if it.doc == nil || it.private {
			continue
		}
		f(it.marker.Hash, it.data)
		for _, c := range it.content {
			f("", c)
		}
	}
}

// newSide ties the items of s to their links. An item reported unchanged
// without a link is a reader's mistake: it is left out and reported.
func newSide(s *Side, links map[linkKey]*snapshot.Link) *side {
	out := &side{present: s.Collections, decoded: s.Decoded, sources: s.Sources, problems: s.Problems, listed: s.Listed, lossy: s.Lossy}
	if out.present == nil {
		out.present = map[string]bool{}
	}
	for _, x := range s.Items {
		it := &item{key: x.Key, coll: x.Collection, marker: x.Marker, doc: x.Doc, content: x.Content, source: x.Source,
			private: x.Private, link: links[linkKey{x.Collection, x.Key}]}
		if x.Doc == nil {
			if it.link == nil {
				out.problems = append(out.problems, Problem{Source: x.Source, Item: x.Key, Err: "reported unchanged but never seen before"})
				continue
			}
			it.unchanged = true
		} else {
			it.contentUID = x.Doc.UID
		}
		out.items = append(out.items, it)
	}
	return out
}

// cleanMap says for every source whether its absent items may be
// deletions: read cleanly this run, or gone from a side listed
// completely.
func (s *side) cleanMap(links map[linkKey]*snapshot.Link) map[string]bool {
	m := make(map[string]bool, len(s.sources))
	for _, src := range s.sources {
		m[src.Key] = src.Clean
	}
	if s.listed {
		for _, l := range links {
			if src := linkSource(*l); !hasKey(m, src) {
				m[src] = true
			}
		}
	}
	return m
}

func hasKey(m map[string]bool, k string) bool { _, ok := m[k]; return ok }

// clean reports whether every source of collection coll was read cleanly.
func (s *side) clean(coll string) bool {
	for _, p := range s.problems {
		if p.Source == coll || strings.HasSuffix(p.Source, extOfColl(coll)) || p.Source == "" {
			return false
		}
	}
	return true
}

func extOfColl(coll string) string {
	switch coll {
	case Calendar:
		return ".ics"
	case Contacts:
		return ".vcf"
	}
	return "\x00"
}

type linkKey struct{ coll, key string }

func linkIndex(st *snapshot.UserState) map[linkKey]*snapshot.Link {
	if st == nil {
		return map[linkKey]*snapshot.Link{}
	}
	m := make(map[linkKey]*snapshot.Link, len(st.Links))
	for i := range st.Links {
		l := &st.Links[i]
		m[linkKey{l.Collection, l.Key}] = l
	}
	return m
}

func sameMarker(a, b snapshot.Marker) bool {
	return !a.LastModified.IsZero() && a.LastModified.Equal(b.LastModified) && a.ChangeKey == b.ChangeKey
}

// finish computes the canonical bytes and hash of a decoded item.
func (it *item) finish() {
	it.data = merge.Canonical(it.doc)
	it.marker.Hash = snapshot.HashOf(it.data)
}

// finishAll finishes every decoded item, on all processors (each item's
// encoding is its own).
func finishAll(items []*item) {
	n := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			for i := w; i < len(items); i += n {
				if it := items[i]; it.doc != nil {
					it.finish()
				}
			}
		})
	}
	wg.Wait()
}

// ---------------------------------------------------------------- source folder

// FolderReader reads a folder of .ics and .vcf files (recursively; hidden
// files and folders are skipped). Each file is a source. Only regular
// files (or links to one) up to MaxFileSize are read; anything else is
// reported and its items left as they were. A file whose content hash
// equals the last run's is not parsed: its items are the linked ones.
type FolderReader struct {
	Dir         string
	MaxFileSize int64
}

// ReadSide implements SideReader.
func (fr *FolderReader) ReadSide(ctx context.Context, prev *PrevSide) (*Side, error) {
	dir := fr.Dir
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("syncer: source folder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("syncer: source %s is not a folder", dir)
	}
	byFile := make(map[string][]*snapshot.Link, len(prev.Sources))
	for i := range prev.Links {
		l := &prev.Links[i]
		if l.Collection != Calendar && l.Collection != Contacts {
			continue
		}
		if strings.Contains(l.Key, "#") {
			byFile[linkSource(*l)] = append(byFile[linkSource(*l)], l)
		}
	}
	s := &Side{Collections: map[string]bool{Calendar: true, Contacts: true}, Listed: true}
	// The walk lists the files (and unreadable folders) in order; the
	// files are read and decoded in parallel, each into its own part,
	// and the parts joined in the walk's order.
	type job struct {
		p, rel, coll string
		regular      bool     // listed as a regular file (not a link)
		problem      *Problem // an unreadable folder
		part         Side
	}
	var jobs []*job
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if err != nil {
			// An unreadable folder: what was in it cannot be told apart
			// from what was deleted.
			s.Listed = false
			jobs = append(jobs, &job{problem: &Problem{Source: rel, Err: err.Error()}})
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		var coll string
		switch strings.ToLower(filepath.Ext(p)) {
		case ".ics":
			coll = Calendar
		case ".vcf":
			coll = Contacts
		default:
			return nil
		}
		jobs = append(jobs, &job{p: p, rel: rel, coll: coll, regular: d.Type().IsRegular()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("syncer: reading source folder %s: %w", dir, err)
	}
	trustBefore := fileClock().Add(-racyWindow)
	// Each worker takes the next job by a counter (most jobs are one
	// stat of an unchanged file: a channel's hand-over cost as much).
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(jobs) || ctx.Err() != nil {
					return
				}
				if j := jobs[i]; j.problem == nil {
					fr.readFile(&j.part, j.p, j.rel, j.coll, j.regular, prev, byFile[j.rel], trustBefore)
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("syncer: reading source folder %s: %w", dir, err)
	}
	for _, j := range jobs {
		if j.problem != nil {
			s.Problems = append(s.Problems, *j.problem)
			continue
		}
		s.Items = append(s.Items, j.part.Items...)
		s.Sources = append(s.Sources, j.part.Sources...)
		s.Problems = append(s.Problems, j.part.Problems...)
		s.Decoded += j.part.Decoded
		s.FilesRead += j.part.FilesRead
	}
	return s, nil
}

// readFile reads one source file into s; a problem is recorded in s, never
// returned. listedRegular: the folder's listing gave it as a regular file.
func (fr *FolderReader) readFile(s *Side, p, rel, coll string, listedRegular bool, prev *PrevSide, links []*snapshot.Link, trustBefore time.Time) {
	src := snapshot.Source{Key: rel}
	fail := func(err error) {
		s.Problems = append(s.Problems, Problem{Source: rel, Err: err.Error()})
		s.Sources = append(s.Sources, src)
	}
	old, had := prev.Sources[rel]
	// Unchanged content: the items are the linked ones. (A file with a
	// private item is always decoded: the owner's own version is given
	// back to them from memory, it is not in the store.)
	unchanged := func() bool {
		return had && old.Clean && old.Hash == src.Hash && len(links) == old.Items && !anyPrivate(links)
	}
	keep := func() {
		for _, l := range links {
			s.Items = append(s.Items, Item{Key: l.Key, Collection: coll, Marker: l.Marker, Source: rel, Private: l.Private})
		}
		src.Clean, src.Items = true, old.Items
		s.Sources = append(s.Sources, src)
	}
	// With no metadata of an earlier read to compare (a new file, a
	// first sync), a regular file is read at once where opening one
	// never blocks: the read checks what it opened.
	if !openNeverBlocks || !listedRegular || !old.Stat.IsZero() {
		meta, err := statRegular(p, fr.MaxFileSize)
		if err != nil {
			fail(err)
			return
		}
		// Unchanged metadata, as it was when the content was last read:
		// the same content, not read again (git's index works so).
		if st := fileStatOf(meta); !st.IsZero() && st == old.Stat {
			src.Hash, src.Stat = old.Hash, old.Stat
			if unchanged() {
				keep()
				return
			}
		}
	}
	data, st, err := readRegular(p, fr.MaxFileSize)
	if err != nil {
		src.Hash, src.Stat = "", snapshot.FileStat{}
		fail(err)
		return
	}
	s.FilesRead++
	src.Hash = snapshot.HashOf(data)
	src.Stat = trustedStat(st, trustBefore)
	if unchanged() {
		keep()
		return
	}
	var fi merge.FileItems
	if coll == Calendar {
		fi = merge.ReadICSFile(data)
	} else {
		fi = merge.ReadVCFFile(data)
	}
	src.Clean = fi.Complete
	if !fi.Complete {
		s.Problems = append(s.Problems, Problem{Source: rel, Err: "the file is cut short or damaged (it does not end properly); its items are left as they were"})
	}
	for _, ip := range fi.Problems {
		if errors.Is(ip.Err, merge.ErrNotItem) {
			// A component that is no item (VFREEBUSY, a bare VALARM, an
			// X- component) is not damage: the file stays evidence.
			continue
		}
		src.Clean = false
		item := ip.UID
		if item == "" {
			item = "#" + strconv.Itoa(ip.Index+1)
		}
		s.Problems = append(s.Problems, Problem{Source: rel, Item: item, Err: ip.Err.Error()})
	}
	if len(fi.Docs) == 0 && len(links) > 0 && src.Clean {
		// Newly empty: an editor or a copy that went wrong looks the
		// same as deleting everything; not evidence enough.
		src.Clean = false
		s.Problems = append(s.Problems, Problem{Source: rel, Err: fmt.Sprintf("the file is empty but held %d item(s) at the last sync; they are left as they were (delete the file to delete them)", len(links))})
	}
	keys := map[string]int{}
	n := 0
	for i, d := range fi.Docs {
		s.Decoded++
		uid := d.UID
		if uid == "" {
			uid = derivedUID(rel, i)
			d.UID = uid
		}
		if coll == Contacts && merge.IsPrivate(d) {
			continue // private contacts are not shared
		}
		key := rel + "#" + uid
		if n := keys[key]; n > 0 {
			key += "#" + strconv.Itoa(n+1) // a second item with this UID in the file
		}
		keys[rel+"#"+uid]++
		s.Items = append(s.Items, Item{Key: key, Collection: coll, Doc: d, Source: rel, Private: coll == Calendar && merge.IsPrivate(d)})
		n++
	}
	src.Items = n
	s.Sources = append(s.Sources, src)
}

func anyPrivate(ls []*snapshot.Link) bool {
	for _, l := range ls {
		if l.Private {
			return true
		}
	}
	return false
}

// statRegular returns the metadata of p (following a link), refusing
// anything but a regular file of at most max bytes: a FIFO, a device or a
// folder named like a source file is never opened.
func statRegular(p string, max int64) (os.FileInfo, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if err := regularWithin(st, max); err != nil {
		return nil, err
	}
	return st, nil
}

// regularWithin refuses anything but a regular file of at most max bytes.
func regularWithin(st os.FileInfo, max int64) error {
	if !st.Mode().IsRegular() {
		return fmt.Errorf("not a regular file (%s); skipped", st.Mode().Type())
	}
	if st.Size() > max {
		return fmt.Errorf("%d bytes, more than the limit of %d; skipped", st.Size(), max)
	}
	return nil
}

// racyWindow: a file whose modification or status-change time is less
// than this before the read started may change again without a change of
// its metadata (timestamps have a granularity: a clock tick, 2 s on FAT),
// so its metadata is not kept and the next run reads it again. The same
// rule as git's "racily clean" index entries. Clocks are assumed to agree:
// on a network share whose server clock lags by more than the window, a
// file rewritten in the very tick it was read, with its size and times
// kept, would be taken as unchanged until its metadata changes.
const racyWindow = 3 * time.Second

// fileClock is the clock file times are compared with (the real one:
// Options.Now may be a test's fake date).
var fileClock = time.Now

// trustedStat is the metadata to keep of a file read with metadata fi:
// none when the file changed too recently to tell a later change by it.
func trustedStat(fi os.FileInfo, before time.Time) snapshot.FileStat {
	st := fileStatOf(fi)
	limit := before.UnixNano()
	if st.MTime >= limit || st.CTime >= limit {
		return snapshot.FileStat{}
	}
	return st
}

// derivedUID names an item that has no UID of its own, from where it was
// found.
func derivedUID(name string, i int) string {
	sum := sha256.Sum256([]byte(name + "#" + strconv.Itoa(i)))
	return "pstsync-" + hex.EncodeToString(sum[:10])
}

// ---------------------------------------------------------------- PST

// PSTReader reads a PST: each folder read is a source (named by its
// collection); an item that cannot be converted is reported and makes its
// folder not clean (no deletions from it this run), the others are read.
type PSTReader struct {
	Path     string
	Share    []string
	Progress Progress
}

// ReadSide implements SideReader.
func (pr *PSTReader) ReadSide(ctx context.Context, prev *PrevSide) (*Side, error) {
	return readPST(ctx, pr.Path, pr.Share, prev, pr.Progress)
}

// readPST reads the default Calendar and Contacts folders of a PST (the
// first IPF.Appointment / IPF.Contact folder, nearest the top, that is not
// a search folder) and the folders named in share. An item whose last
// modification time and change key equal its link's marker is not
// converted.
func readPST(ctx context.Context, path string, share []string, prev *PrevSide, prog Progress) (*Side, error) {
	f, err := pst.Open(path)
	if err != nil {
		return nil, &InputError{Path: path, Err: err}
	}
	defer f.Close()
	var calF, conF *pst.Folder
	shared := map[string]*pst.Folder{}
	want := map[string]bool{}
	for _, s := range share {
		want[strings.ToLower(strings.Trim(s, "/"))] = true
	}
	better := func(cur, cand *pst.Folder) bool { return cur == nil || len(cand.Path) < len(cur.Path) }
	err = f.Walk(ctx, func(fo *pst.Folder) error {
		if fo.IsSearchFolder() {
			return nil
		}
		cc := strings.ToLower(fo.ContainerClass)
		switch {
		case (cc == "ipf.appointment" || strings.HasPrefix(cc, "ipf.appointment.")) && better(calF, fo):
			calF = fo
		case (cc == "ipf.contact" || strings.HasPrefix(cc, "ipf.contact.")) && better(conF, fo):
			conF = fo
		}
		p := strings.ToLower(fo.PathString())
		for w := range want {
			if p == w || strings.HasSuffix(p, "/"+w) {
				if cur := shared[w]; cur == nil || len(fo.Path) < len(cur.Path) {
					shared[w] = fo
				}
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) && calF == nil && conF == nil {
		return nil, &InputError{Path: path, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, s := range share {
		if shared[strings.ToLower(strings.Trim(s, "/"))] == nil {
			return nil, fmt.Errorf("syncer: %s has no folder %q to share (see pstsync inspect for its folders)", path, s)
		}
	}
	s := &Side{Collections: map[string]bool{}, Lossy: true}
	type job struct {
		coll string
		fo   *pst.Folder
	}
	var jobs []job
	if calF != nil {
		jobs = append(jobs, job{Calendar, calF})
	}
	if conF != nil {
		jobs = append(jobs, job{Contacts, conF})
	}
	for _, sh := range share {
		w := strings.ToLower(strings.Trim(sh, "/"))
		jobs = append(jobs, job{SharePrefix + strings.Trim(sh, "/"), shared[w]})
	}
	dl := contact.FileOptions(f)
	for _, j := range jobs {
		s.Collections[j.coll] = true
		src := snapshot.Source{Key: j.coll, Clean: true}
		refs, err := j.fo.Items()
		if err != nil {
			s.Problems = append(s.Problems, Problem{Source: j.coll, Err: fmt.Sprintf("folder %s: %v", j.fo.PathString(), err)})
			src.Clean = false
			s.Sources = append(s.Sources, src)
			continue
		}
		if prog != nil {
			prog.Start(j.fo.PathString(), len(refs))
		}
		for _, r := range refs {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			it, err := readPSTItem(f, j.coll, r, prev, dl)
			if prog != nil {
				prog.Item(j.fo.PathString())
			}
			if err != nil {
				// One bad item never stops the others; its folder is not
				// evidence for deletions this run.
				s.Problems = append(s.Problems, Problem{Source: j.coll, Item: fmt.Sprintf("%#x", r.NID), Err: err.Error()})
				src.Clean = false
				continue
			}
			if it == nil {
				continue
			}
			src.Items++
			if it.Doc != nil {
				s.Decoded++
			}
			s.Items = append(s.Items, *it)
		}
		if prog != nil {
			prog.Done(j.fo.PathString())
		}
		s.Sources = append(s.Sources, src)
	}
	return s, nil
}

func readPSTItem(f *pst.File, coll string, r pst.ItemRef, prev *PrevSide, dl contact.DistListOptions) (*Item, error) {
	kind := pst.KindOf(r.Class)
	share := strings.HasPrefix(coll, SharePrefix)
	switch {
	case coll == Calendar && kind != pst.KindAppointment:
		return nil, nil
	case coll == Contacts && kind != pst.KindContact && kind != pst.KindDistList:
		return nil, nil
	case share && kind != pst.KindAppointment && kind != pst.KindContact && kind != pst.KindDistList && kind != pst.KindMail:
		return nil, nil
	}
	m, err := f.Message(r.NID)
	if err != nil {
		return nil, err
	}
	return pstMessageItem(m, kind, coll, fmt.Sprintf("nid:%08x", r.NID), prev, dl)
}

// pstMessageItem is one message of a PST folder as a side item, keyed by
// key.
func pstMessageItem(m *pst.Message, kind pst.Kind, coll, key string, prev *PrevSide, dl contact.DistListOptions) (*Item, error) {
	mk := snapshot.Marker{}
	if t, ok := m.Props.Time(pst.TagLastModificationTime); ok {
		mk.LastModified = t.UTC()
	}
	if ck := m.Props.Binary(pst.TagChangeKey); len(ck) > 0 {
		mk.ChangeKey = hex.EncodeToString(ck)
	}
	sens, _ := m.Props.Int(pst.TagSensitivity)
	if sens > 0 && (kind == pst.KindContact || kind == pst.KindDistList) {
		return nil, nil // private contacts are not shared
	}
	it := &Item{Key: key, Collection: coll, Marker: mk, Source: coll}
	if l := prev.Link(coll, key); l != nil && sameMarker(l.Marker, mk) && !l.Private {
		it.Marker, it.Private = l.Marker, l.Private
		return it, nil // unchanged: Doc nil
	}
	switch kind {
	case pst.KindAppointment:
		c, err := cal.Event(m, cal.Options{})
		if err != nil {
			return nil, err
		}
		if c.Props.Get(ical.PropMethod) != nil {
			c.Props.Del(ical.PropMethod)
		}
		it.Doc, err = merge.FromCalendar(c)
		if err != nil {
			return nil, err
		}
	case pst.KindContact, pst.KindDistList:
		var card vcard.Card
		var err error
		if kind == pst.KindContact {
			card, err = contact.ToVCard(m)
		} else {
			card, err = contact.DistListToVCard(m, dl)
		}
		if err != nil {
			return nil, err
		}
		if card.Value(vcard.FieldUID) == "" {
			card.SetValue(vcard.FieldUID, contact.UID(m))
		}
		it.Doc, err = merge.FromVCard(card)
		if err != nil {
			return nil, err
		}
	case pst.KindMail:
		eml, err := mail.Build(m, mail.Options{Now: func() time.Time { return time.Unix(0, 0).UTC() }})
		if err != nil {
			return nil, err
		}
		h := snapshot.HashOf(eml)
		uid := normMessageID(m.Props.String(pst.TagInternetMessageID))
		if uid == "" {
			uid = "sha256:" + h
		}
		seen, flagged, answered, draft := mail.Flags(m)
		var fl sink.MailFlags
		for _, f := range []struct {
			on bool
			fl sink.MailFlags
		}{{seen, sink.FlagSeen}, {flagged, sink.FlagFlagged}, {answered, sink.FlagAnswered}, {draft, sink.FlagDraft}} {
			if f.on {
				fl |= f.fl
			}
		}
		it.Doc = merge.FromMessage(uid, h, strings.TrimPrefix(coll, SharePrefix), fl)
		it.Content = [][]byte{eml}
	}
	if u := outlook.StoredUID(m); u != "" && kind != pst.KindMail {
		outlook.SetUID(it.Doc, u) // written by the Outlook bridge: the shared item's UID
	}
	it.Private = kind == pst.KindAppointment && merge.IsPrivate(it.Doc)
	return it, nil
}

func normMessageID(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "<")
	s = strings.TrimSuffix(s, ">")
	if s == "" {
		return ""
	}
	return "mid:" + s
}

// sortItems orders items by collection and key, changed items before
// unchanged ones with the same identity.
func sortItems(items []*item) {
	slices.SortFunc(items, func(a, b *item) int {
		return cmp.Or(cmp.Compare(a.coll, b.coll), cmp.Compare(a.key, b.key))
	})
}
