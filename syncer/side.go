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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"

	"github.com/pstsync/pstsync/merge"
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
}

// side is what was read from the user's PST or source folder.
type side struct {
	items []*item
	// present: collections the user's side has (an absent or empty one
	// that had links is refused, see ErrEmptySide).
	present map[string]bool
	decoded int
}

type linkKey struct{ coll, key string }

func linkIndex(st *snapshot.UserState) map[linkKey]*snapshot.Link {
	m := map[linkKey]*snapshot.Link{}
	if st == nil {
		return m
	}
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

// ---------------------------------------------------------------- source folder

// readSource reads a folder of .ics and .vcf files (recursively; hidden
// files and folders are skipped). A file whose modification time and size
// equal the links' markers is not parsed: its items are the linked ones.
func readSource(ctx context.Context, dir string, links map[linkKey]*snapshot.Link) (*side, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("syncer: source folder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("syncer: source %s is not a folder", dir)
	}
	// links by file
	byFile := map[string][]*snapshot.Link{}
	for k, l := range links {
		if k.coll != Calendar && k.coll != Contacts {
			continue
		}
		if f, _, ok := strings.Cut(l.Key, "#"); ok {
			byFile[f] = append(byFile[f], l)
		}
	}
	s := &side{present: map[string]bool{Calendar: true, Contacts: true}}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
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
		ext := strings.ToLower(filepath.Ext(p))
		var coll string
		switch ext {
		case ".ics":
			coll = Calendar
		case ".vcf":
			coll = Contacts
		default:
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		m := snapshot.Marker{LastModified: info.ModTime().UTC(), ChangeKey: "size:" + strconv.FormatInt(info.Size(), 10)}
		if ls := byFile[rel]; len(ls) > 0 && allMatch(ls, coll, m) {
			for _, l := range ls {
				s.items = append(s.items, &item{key: l.Key, coll: coll, marker: l.Marker, unchanged: true, link: l})
			}
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("syncer: reading %s: %w", p, err)
		}
		var docs []*merge.Doc
		if coll == Calendar {
			docs, err = parseICS(data, rel)
		} else {
			docs, err = parseVCF(data, rel)
		}
		if err != nil {
			return fmt.Errorf("syncer: %s: %w", p, err)
		}
		for i, d := range docs {
			s.decoded++
			key := rel + "#" + d.UID
			if d.UID == "" {
				key = rel + "#" + strconv.Itoa(i)
			}
			it := &item{key: key, coll: coll, marker: m, doc: d, contentUID: d.UID}
			it.link = links[linkKey{coll, key}]
			s.items = append(s.items, it)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("syncer: reading source folder %s: %w", dir, err)
	}
	return s, nil
}

func allMatch(ls []*snapshot.Link, coll string, m snapshot.Marker) bool {
	for _, l := range ls {
		if l.Collection != coll || !sameMarker(l.Marker, m) {
			return false
		}
	}
	return true
}

// parseICS reads the items of an iCalendar file with merge's lenient
// reader (each master with its overrides and the zones it uses). Any item
// it cannot read, or a file cut short, fails the file.
func parseICS(data []byte, name string) ([]*merge.Doc, error) {
	return fileDocs(merge.ReadICSFile(data), "iCalendar", name)
}

// parseVCF reads every card of a vCard file (2.1, 3.0 or 4.0).
func parseVCF(data []byte, name string) ([]*merge.Doc, error) {
	return fileDocs(merge.ReadVCFFile(data), "vCard", name)
}

func fileDocs(fi merge.FileItems, format, name string) ([]*merge.Doc, error) {
	for _, p := range fi.Problems {
		if !errors.Is(p.Err, merge.ErrNotItem) {
			return nil, fmt.Errorf("not a valid %s file: %w", format, p)
		}
	}
	if !fi.Complete {
		return nil, fmt.Errorf("not a valid %s file: cut short", format)
	}
	for i, d := range fi.Docs {
		if d.UID == "" {
			d.UID = derivedUID(name, i)
		}
	}
	return fi.Docs, nil
}

// derivedUID names an item that has no UID of its own, from where it was
// found.
func derivedUID(name string, i int) string {
	sum := sha256.Sum256([]byte(name + "#" + strconv.Itoa(i)))
	return "pstsync-" + hex.EncodeToString(sum[:10])
}

// ---------------------------------------------------------------- PST

// readPST reads the default Calendar and Contacts folders of a PST (the
// first IPF.Appointment / IPF.Contact folder, nearest the top, that is not
// a search folder) and the folders named in share. An item whose last
// modification time and change key equal its link's marker is not
// converted.
func readPST(ctx context.Context, path string, share []string, links map[linkKey]*snapshot.Link, prog Progress) (*side, error) {
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
	s := &side{present: map[string]bool{}}
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
		s.present[j.coll] = true
		refs, err := j.fo.Items()
		if err != nil {
			return nil, fmt.Errorf("syncer: %s: %w", path, err)
		}
		if prog != nil {
			prog.Start(j.fo.PathString(), len(refs))
		}
		for _, r := range refs {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			it, err := readPSTItem(f, j.coll, r, links, dl)
			if prog != nil {
				prog.Item(j.fo.PathString())
			}
			if err != nil {
				return nil, fmt.Errorf("syncer: %s: folder %s: item %#x: %w", path, j.fo.PathString(), r.NID, err)
			}
			if it == nil {
				continue
			}
			if it.doc != nil {
				s.decoded++
			}
			s.items = append(s.items, it)
		}
		if prog != nil {
			prog.Done(j.fo.PathString())
		}
	}
	return s, nil
}

func readPSTItem(f *pst.File, coll string, r pst.ItemRef, links map[linkKey]*snapshot.Link, dl contact.DistListOptions) (*item, error) {
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
	key := fmt.Sprintf("nid:%08x", r.NID)
	mk := snapshot.Marker{}
	if t, ok := m.Props.Time(pst.TagLastModificationTime); ok {
		mk.LastModified = t.UTC()
	}
	if ck := m.Props.Binary(pst.TagChangeKey); len(ck) > 0 {
		mk.ChangeKey = hex.EncodeToString(ck)
	}
	it := &item{key: key, coll: coll, marker: mk, link: links[linkKey{coll, key}]}
	if it.link != nil && sameMarker(it.link.Marker, mk) {
		it.unchanged = true
		it.marker = it.link.Marker
		return it, nil
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
		it.doc, err = merge.FromCalendar(c)
		if err != nil {
			return nil, err
		}
	case pst.KindContact, pst.KindDistList:
		var card vcard.Card
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
		it.doc, err = merge.FromVCard(card)
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
		it.doc = merge.FromMessage(uid, h, strings.TrimPrefix(coll, SharePrefix), fl)
		it.content = [][]byte{eml}
	}
	it.contentUID = it.doc.UID
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
