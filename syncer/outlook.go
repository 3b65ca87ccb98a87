package syncer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/pstsync/pstsync/freebusy"
	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/outlook"
	"github.com/pstsync/pstsync/snapshot"
)

// The user's side in a running Outlook (issue 11): OutlookReader reads the
// default Calendar and Contacts and the --share folders through an
// outlook.Bridge, and the run delivers the merged view back into the same
// folders (deliverOutlook). What was written is linked at once (EntryID,
// modification time, change key and the delivered version's hash), so the
// next run reads it as unchanged: the delivered version is the base of what
// the user changes afterwards.

// OutlookError is a failure of the Outlook bridge (not running, blocked,
// no answer, a folder not found): the run stopped with nothing delivered
// after it.
type OutlookError struct{ Err error }

func (e *OutlookError) Error() string { return "syncer: " + e.Err.Error() }
func (e *OutlookError) Unwrap() error { return e.Err }

// OutlookReader reads the user's side from Outlook: each folder is a
// source (named by its collection); a folder read incompletely is no
// evidence for deletions this run.
type OutlookReader struct {
	Bridge outlook.Bridge
	Share  []string
}

// outlookColls are the collections an Outlook side has.
func outlookColls(share []string) []string {
	colls := []string{Calendar, Contacts}
	for _, s := range share {
		colls = append(colls, SharePrefix+strings.Trim(s, "/"))
	}
	return colls
}

func outlookMarker(e outlook.Entry) snapshot.Marker {
	return snapshot.Marker{LastModified: e.Modified.UTC(), ChangeKey: e.ChangeKey}
}

// ReadSide implements SideReader.
func (or *OutlookReader) ReadSide(ctx context.Context, prev *PrevSide) (*Side, error) {
	s := &Side{Collections: map[string]bool{}, Lossy: true}
	for _, coll := range outlookColls(or.Share) {
		f, _ := outlook.FolderFor(coll)
		unchanged := func(e outlook.Entry) bool {
			l := prev.Link(coll, outlook.Key(e))
			// A private item is always read: the owner's own version is
			// given back from memory, it is not in the store.
			return l != nil && !l.Private && !l.Copy && sameMarker(l.Marker, outlookMarker(e))
		}
		items, complete, errs, err := outlook.ReadFolder(ctx, or.Bridge, f, unchanged)
		if err != nil {
			return nil, &OutlookError{Err: fmt.Errorf("reading %s: %w", f, err)}
		}
		s.Collections[coll] = true
		src := snapshot.Source{Key: coll, Clean: complete}
		for _, e := range errs {
			s.Problems = append(s.Problems, Problem{Source: coll, Err: e.Error()})
		}
		for _, it := range items {
			x := Item{Collection: coll, Key: it.Key, Source: coll, Marker: outlookMarker(it.Entry)}
			if it.Doc == nil {
				if l := prev.Link(coll, it.Key); l != nil {
					x.Marker, x.Private = l.Marker, l.Private
				}
			} else {
				s.Decoded++
				priv := it.Private || merge.IsPrivate(it.Doc)
				if priv && it.Doc.Kind == merge.KindContact {
					continue // private contacts are not shared
				}
				// The content UID is the stored pstsync UID when set (ToDoc
				// puts it in the Doc): an item moved to another store, whose
				// EntryID changed, links to its shared item again.
				x.Doc, x.Private = it.Doc, priv && it.Doc.Kind == merge.KindEvent
			}
			src.Items++
			s.Items = append(s.Items, x)
		}
		s.Sources = append(s.Sources, src)
	}
	return s, nil
}

// outlookDelivery is what deliverOutlook wrote: the links to record in the
// state in place of the side's.
type outlookDelivery struct {
	links   map[merge.Key]snapshot.Link // created or updated items
	removed map[merge.Key]bool          // items deleted in Outlook
	// skipped: items of the view not written into Outlook this run (left
	// as they were): what was delivered of them stays what it was.
	skipped map[merge.Key]bool
}

// OutlookResult counts what a run wrote into Outlook.
type OutlookResult struct {
	Created, Updated, Removed int
	// PrivateKept are items private in Outlook that the shared side
	// changed or deleted: left as they are (only their busy time is
	// shared, so such a change is never the owner's).
	PrivateKept []merge.Key
	// Refused are items Outlook refused (left as they were; see the log).
	Refused []merge.Key
}

// deliverOutlook writes the plan's view of the user into Outlook: a new
// item for a shared item the user does not have, the item updated in place
// where the user's version differs from the view, the item removed where
// the shared item is gone. Messages of share folders stay in the mailbox
// folder.
func (r *run) deliverOutlook(ctx context.Context, a *applied) error {
	b := r.o.Outlook
	od := &outlookDelivery{links: map[merge.Key]snapshot.Link{}, removed: map[merge.Key]bool{}, skipped: map[merge.Key]bool{}}
	r.outlook = od
	res := &OutlookResult{}
	r.res.Outlook = res
	kept := keptBackSet(a.plan)
	// Items the user had in a folder not read completely this run: they
	// may still be there, so they are never created again.
	clean := r.side.cleanMap(r.links)
	// Without a state this run can trust, which items the user has in a
	// folder not read completely is not known: nothing is created there.
	blind := r.st == nil || !r.trusted || r.recovered
	if r.st != nil {
		for _, l := range r.st.Links {
			if !l.Copy && !clean[linkSource(l)] {
				kept[merge.Key{Coll: l.Collection, UID: l.UID}] = true
			}
		}
	}
	have := map[merge.Key]*item{}
	for _, it := range r.side.items {
		if uid, ok := a.assign[it]; ok {
			have[merge.Key{Coll: it.coll, UID: uid}] = it
		}
	}
	fail := func(k merge.Key, err error) error {
		od.skipped[k] = true
		if errors.Is(err, outlook.ErrBlocked) || errors.Is(err, outlook.ErrTimeout) || errors.Is(err, outlook.ErrNotRunning) ||
			errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return &OutlookError{Err: fmt.Errorf("writing %s/%s: %w", k.Coll, k.UID, err)}
		}
		switch {
		case errors.Is(err, outlook.ErrPrivateKept):
			res.PrivateKept = append(res.PrivateKept, k)
			r.log.InfoContext(ctx, "outlook: private item left as it is", "collection", k.Coll, "uid", k.UID)
		case errors.Is(err, outlook.ErrNotFound):
			// Deleted by the user since it was read: the next run sees it.
			r.log.InfoContext(ctx, "outlook: item gone before it could be updated", "collection", k.Coll, "uid", k.UID)
		default:
			res.Refused = append(res.Refused, k)
			r.log.WarnContext(ctx, "outlook: item not written, left as it was", "collection", k.Coll, "uid", k.UID, "err", err)
		}
		return nil
	}
	for _, k := range slices.SortedFunc(maps.Keys(a.plan.Deliver), compareKeys) {
		h := a.plan.Deliver[k]
		kind := a.kinds[k]
		if kind == "" {
			kind = kindOfColl(k.Coll)
		}
		if kind != merge.KindEvent && kind != merge.KindContact {
			continue
		}
		it := have[k]
		if it != nil && it.marker.Hash == h {
			continue // the user has this version
		}
		if it == nil && (kept[k] || (!clean[k.Coll] && (blind || r.deliveredHash(k) != ""))) {
			// The user had it, in a folder not read completely this run
			// (or a version is missing), or it was delivered there
			// before (a state that lost the item's link, say): whether
			// it is still there is not known, so it is not created
			// again.
			od.skipped[k] = true
			continue
		}
		d, err := r.viewDoc(ctx, a, k, h, kind)
		if err != nil {
			r.log.WarnContext(ctx, "outlook: shared item unreadable, left as it was (pstsync check)", "collection", k.Coll, "uid", k.UID, "err", err)
			od.skipped[k] = true
			continue
		}
		f, _ := outlook.FolderFor(k.Coll)
		key := ""
		if it != nil {
			key = it.key
		}
		e, err := deliverItem(ctx, b, f, it, d)
		if err != nil {
			if err := fail(k, err); err != nil {
				return err
			}
			continue
		}
		if key == "" {
			res.Created++
		} else {
			res.Updated++
		}
		m := outlookMarker(e)
		m.Hash = h
		od.links[k] = snapshot.Link{Key: outlook.Key(e), UID: k.UID, Collection: k.Coll, Marker: m, Source: k.Coll,
			Private: it != nil && it.private, Rewrites: shownRewrites(ctx, b, f, e.ID, d)}
	}
	for _, k := range slices.SortedFunc(maps.Keys(have), compareKeys) {
		if _, ok := a.plan.Deliver[k]; ok {
			continue
		}
		if kindOfColl(k.Coll) == merge.KindMessage || kept[k] {
			continue
		}
		if have[k].private {
			// The owner's private item: only its busy time is shared, so
			// its removal there is never the owner's.
			r.log.DebugContext(ctx, "outlook: private item left as it is", "collection", k.Coll, "uid", k.UID)
			continue
		}
		f, _ := outlook.FolderFor(k.Coll)
		if err := removeItem(ctx, b, f, have[k]); err != nil {
			if err := fail(k, err); err != nil {
				return err
			}
			continue
		}
		res.Removed++
		od.removed[k] = true
	}
	return nil
}

// deliverItem writes d over the side's item it (a new item when nil). An
// item exactly as pstsync delivered it (unchanged, not the user's private
// item) is written directly: it may be a colleague's busy time, which
// Outlook shows as private but which is no private item of this user.
// Any other item goes through outlook.Deliver, which never replaces an
// item private in Outlook.
func deliverItem(ctx context.Context, b outlook.Bridge, f outlook.FolderRef, it *item, d *merge.Doc) (outlook.Entry, error) {
	if it == nil {
		return outlook.Deliver(ctx, b, f, "", d)
	}
	if it.unchanged && !it.private {
		w, err := outlook.FromDoc(d)
		if err != nil {
			return outlook.Entry{}, err
		}
		return b.Write(ctx, f, strings.TrimPrefix(it.key, outlook.KeyPrefix), w)
	}
	return outlook.Deliver(ctx, b, f, it.key, d)
}

// removeItem deletes the side's item it, as deliver writes it.
func removeItem(ctx context.Context, b outlook.Bridge, f outlook.FolderRef, it *item) error {
	if it.unchanged && !it.private {
		err := b.Delete(ctx, f, strings.TrimPrefix(it.key, outlook.KeyPrefix))
		if errors.Is(err, outlook.ErrNotFound) {
			return nil
		}
		return err
	}
	return outlook.Remove(ctx, b, f, it.key)
}

// outlookDelivered is the version of k to record as delivered: the
// plan's, unless the run left k in Outlook as it was (then the one
// delivered before, the base of what the user has there).
//
// A run from the PST on a PC whose last runs wrote into Outlook (Outlook
// closed this time) puts what is new for the user only into the mailbox
// folder: the bridge's next run writes it into Outlook, so until then
// what the user has in Outlook is still based on what was delivered
// before (seen: the user's version this run; planned equal to it is the
// user's own).
func (r *run) outlookDelivered(k merge.Key, planned, seen string) string {
	skipped := r.outlook != nil && r.outlook.skipped[k]
	if !skipped && r.o.Outlook == nil && planned != seen && r.bridgePC() {
		skipped = true
	}
	if !skipped {
		return planned
	}
	if r.st != nil {
		for _, d := range r.st.Delivered {
			if d.Collection == k.Coll && d.UID == k.UID {
				return d.Hash
			}
		}
	}
	return ""
}

// bridgePC reports whether this user's runs wrote into Outlook: links to
// Outlook items, or to items pstsync wrote there (Rewrites, kept over PST
// runs).
func (r *run) bridgePC() bool {
	if r.olMemo.bridge == nil {
		b := false
		if r.st != nil && r.o.PST != "" {
			for _, l := range r.st.Links {
				if strings.HasPrefix(l.Key, outlook.KeyPrefix) || l.Rewrites != "" {
					b = true
					break
				}
			}
		}
		r.olMemo.bridge = &b
	}
	return *r.olMemo.bridge
}

// keptBackSet is the set of items the plan left as the user had them
// (their source not read cleanly, or a version missing): never created
// again nor removed.
func keptBackSet(p *merge.Plan) map[merge.Key]bool {
	m := make(map[merge.Key]bool, len(p.NoOpinion)+len(p.Missing))
	for _, k := range p.NoOpinion {
		m[k] = true
	}
	for _, k := range p.Missing {
		m[k] = true
	}
	return m
}

// viewDoc returns the decoded version h of item k of the view.
func (r *run) viewDoc(ctx context.Context, a *applied, k merge.Key, h string, kind merge.Kind) (*merge.Doc, error) {
	if d := a.plan.Own[k]; d != nil {
		return d, nil
	}
	if d := a.plan.Put[k]; d != nil {
		return d, nil
	}
	if d, ok := r.docs[h]; ok {
		return d, nil
	}
	if data, ok := a.mem[h]; ok {
		d, err := ParseObject(data, kind)
		if err == nil {
			r.docs[h] = d
		}
		return d, err
	}
	return r.doc(ctx, h, kind)
}

// outlookLinks puts what deliverOutlook wrote into the new state's links:
// the written item's link replaces the side's, a removed item's link goes.
func (r *run) outlookLinks(links []snapshot.Link) []snapshot.Link {
	if r.st != nil {
		for i := range links {
			if l := &links[i]; !l.Copy && l.Rewrites == "" {
				// Not written this run: what Outlook made of the last
				// write stays (also when the item was moved to another
				// store, or read from the PST: another key).
				if p := r.prevSide().outlookLink(l.Collection, l.Key, l.UID); p != nil && p.UID == l.UID {
					l.Rewrites = p.Rewrites
				}
			}
		}
	}
	od := r.outlook
	if od == nil {
		return links
	}
	out := links[:0]
	for _, l := range links {
		k := merge.Key{Coll: l.Collection, UID: l.UID}
		if !l.Copy && (od.removed[k] || od.links[k].Key != "") {
			continue
		}
		out = append(out, l)
	}
	for _, k := range slices.SortedFunc(maps.Keys(od.links), compareKeys) {
		out = append(out, od.links[k])
	}
	return out
}

// inOutlook reports whether the run wrote item k into Outlook (or Outlook
// has it already): it is then no file to import.
func (r *run) inOutlook(k merge.Key) bool {
	if r.o.Outlook == nil || r.res.Outlook == nil {
		return false
	}
	kind := kindOfColl(k.Coll)
	if kind == merge.KindMessage {
		return false
	}
	return !slices.Contains(r.res.Outlook.Refused, k)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// freeBusyRefresh is how often an unchanged calendar's free/busy file is
// written again (its window moves with the days).
const freeBusyRefresh = 12 * time.Hour

// freeBusyCurrent reports whether the user's free/busy file stands: it is
// younger than freeBusyRefresh and the calendar delivered to the user is
// the one of the last run (so a quiet run decodes nothing for it).
func (r *run) freeBusyCurrent(a *applied) bool {
	name := r.o.FreeBusyOptions.Name
	if name == "" {
		name = r.o.User
	}
	st, err := os.Stat(filepath.Join(r.o.FreeBusy, freebusy.FileName(name)))
	if err != nil || r.st == nil || r.o.Now().Sub(st.ModTime()) > freeBusyRefresh || r.o.Now().Before(st.ModTime().Add(-time.Minute)) {
		return false
	}
	prev := map[string]string{}
	for _, d := range r.st.Delivered {
		if d.Collection == Calendar {
			prev[d.UID] = d.Hash
		}
	}
	n := 0
	for k, h := range a.plan.Deliver {
		if k.Coll != Calendar {
			continue
		}
		n++
		if prev[k.UID] != h {
			return false
		}
	}
	return n == len(prev)
}

// freeBusy computes the user's free/busy calendar from the merged
// calendar of the run (the user's own version of their private items: busy
// time only ever leaves in the file), while the run's items are in memory;
// nil when the file stands (freeBusyCurrent). publishFreeBusy writes it.
func (r *run) freeBusy(ctx context.Context, a *applied) *ical.Calendar {
	if r.freeBusyCurrent(a) {
		return nil
	}
	var docs []*merge.Doc
	for _, k := range slices.SortedFunc(maps.Keys(a.plan.Deliver), compareKeys) {
		if k.Coll != Calendar {
			continue
		}
		d, err := r.viewDoc(ctx, a, k, a.plan.Deliver[k], merge.KindEvent)
		if err != nil {
			r.log.WarnContext(ctx, "free/busy: item unreadable, left out", "uid", k.UID, "err", err)
			continue
		}
		docs = append(docs, d)
	}
	c, _, errs := freebusy.Compute(docs, r.freeBusyOptions())
	for _, e := range errs {
		r.log.WarnContext(ctx, "free/busy: event left out", "err", e)
	}
	return c
}

// startFreeBusy starts computing free/busy from plan a (nothing when no
// free/busy folder is configured). It shares the run's parsed items with
// nothing else running meanwhile: only the commit runs beside it.
func (r *run) startFreeBusy(ctx context.Context, a *applied) *task[*ical.Calendar] {
	if r.o.FreeBusy == "" {
		return nil
	}
	return goTask(func() (*ical.Calendar, error) { return r.freeBusy(ctx, a), nil })
}

func (r *run) freeBusyOptions() freebusy.Options {
	o := r.o.FreeBusyOptions
	if o.Name == "" {
		o.Name = r.o.User
	}
	if o.Now.IsZero() {
		o.Now = r.o.Now()
	}
	return o
}

// publishFreeBusy writes the free/busy file freeBusy computed (nil: none).
// A failure is logged: free/busy is a convenience, never a reason to fail
// the sync.
func (r *run) publishFreeBusy(ctx context.Context, c *ical.Calendar) {
	if c == nil {
		return
	}
	path, err := freebusy.Publish(r.o.FreeBusy, c, r.freeBusyOptions())
	if err != nil {
		r.log.WarnContext(ctx, "free/busy file not written", "dir", r.o.FreeBusy, "err", err)
		return
	}
	r.res.FreeBusy = path
}

// ---------------------------------------------------------------- rewrites

// Outlook rewrites parts of every item written through its object model:
// the organizer becomes the PC's user, a picture is re-encoded as JPEG,
// defaults are added (CLASS, PRIORITY, TRANSP, busy status), its own time
// zone definitions replace the item's. Right after writing an item the
// run reads it back and records in the link which fields Outlook shows
// differently from what was written (shownRewrites). When the item is read
// again later, a field still as Outlook showed it gets back the delivered
// value (undoRewrites): only the fields the user changed are the user's
// edit, so Outlook's rewriting never reaches colleagues as one.

// fieldHash is a short hash of one field ("-" for none).
func fieldHash(f merge.Field, ok bool) string {
	if !ok {
		return "-"
	}
	h := sha256.New()
	fmt.Fprintf(h, "%q %q %t %q", f.Name, f.Group, f.Comp, f.Value)
	for _, k := range slices.Sorted(maps.Keys(f.Params)) {
		fmt.Fprintf(h, " %q=%q", k, f.Params[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func zoneHash(z string, ok bool) string {
	if !ok {
		return "-"
	}
	sum := sha256.Sum256([]byte(z))
	return hex.EncodeToString(sum[:])[:16]
}

// zonePrefix marks a time zone (VTIMEZONE by TZID) among the fields of a
// rewrite list.
const zonePrefix = "\x00zone "

// rewriteList encodes the fields (and zones) of shown that differ from
// written, as snapshot.Link.Rewrites holds them.
func rewriteList(written, shown *merge.Doc) string {
	var lines []string
	for _, k := range merge.ChangedKeys(written, shown) {
		w, wok := written.Fields[k]
		g, gok := shown.Fields[k]
		lines = append(lines, fieldHash(w, wok)+" "+fieldHash(g, gok)+" "+k)
	}
	for _, z := range slices.Sorted(maps.Keys(shown.Zones)) {
		w, wok := written.Zones[z]
		if g := shown.Zones[z]; !wok || g != w {
			lines = append(lines, zoneHash(w, wok)+" "+zoneHash(g, true)+" "+zonePrefix+z)
		}
	}
	for _, z := range slices.Sorted(maps.Keys(written.Zones)) {
		if _, ok := shown.Zones[z]; !ok {
			lines = append(lines, zoneHash(written.Zones[z], true)+" - "+zonePrefix+z)
		}
	}
	return strings.Join(lines, "\n")
}

// shownRewrites reads back the item pstsync just wrote (id) and returns
// what Outlook shows differently from d, encoded; "" when it shows d as it
// is or cannot be read back (the item is then read as Outlook shows it).
func shownRewrites(ctx context.Context, b outlook.Bridge, f outlook.FolderRef, id string, d *merge.Doc) string {
	it, err := b.Read(ctx, f, id)
	if err != nil {
		return ""
	}
	shown, err := outlook.ToDoc(it)
	if err != nil {
		return ""
	}
	return rewriteList(d, shown)
}

// undoOutlookRewrites gives the items of a side read from Outlook or its
// PST (a lossy side) back the delivered value of every field Outlook
// rewrote when pstsync wrote the item and the user left as Outlook showed
// it (see shownRewrites): Outlook's rewriting of what pstsync wrote is no
// edit, whichever way the item is read. The item's link is found by its
// key, else by its UID (an item moved to another store, or read the other
// way: the PST path keys items by node id, the bridge by EntryID). A
// colleague's busy time pstsync wrote shows as private in Outlook and is
// treated alike; once the user changes it, the version delivered to them
// is their own (never in the store), and the item is read as Outlook
// shows it, the same every run.
func (r *run) undoOutlookRewrites(ctx context.Context, s *Side) {
	if !s.Lossy || r.st == nil {
		return
	}
	prev := r.prevSide()
	for i := range s.Items {
		x := &s.Items[i]
		if x.Doc == nil {
			continue
		}
		l := prev.outlookLink(x.Collection, x.Key, x.Doc.UID)
		if l == nil || l.Rewrites == "" {
			continue
		}
		d := r.deliveredDoc(ctx, x.Collection, l.UID, x.Private || merge.IsPrivate(x.Doc))
		// undoRewrites changes values in place: a clone, so that no
		// encoding kept with the Doc as read (merge.Doc's canonical
		// cache) outlives the change.
		x.Doc = x.Doc.Clone()
		undoRewrites(x.Doc, d, l.Rewrites)
		if d != nil && merge.SameFields(x.Doc, d) {
			// What was delivered, as Outlook keeps it: the delivered
			// version itself (its stamps and zones too), so that it is
			// not written into Outlook again.
			x.Doc = d.Clone()
		}
	}
}

// undoRewrites gives s back the delivered value of every field Outlook
// rewrote (rw) that s still has as Outlook showed it, when the delivered
// version d has the value pstsync wrote there. Without d (a private item
// whose delivered version is its owner's own) only the fields Outlook
// added go.
func undoRewrites(s, d *merge.Doc, rw string) {
	for _, line := range strings.Split(rw, "\n") {
		parts := strings.SplitN(line, " ", 3)
		if len(parts) != 3 {
			continue
		}
		written, shown, k := parts[0], parts[1], parts[2]
		if d == nil {
			// Without the delivered version only what Outlook added to
			// what was written goes.
			if cur, ok := s.Fields[k]; written == "-" && ok && fieldHash(cur, true) == shown {
				delete(s.Fields, k)
			}
			continue
		}
		if z, ok := strings.CutPrefix(k, zonePrefix); ok {
			cur, cok := s.Zones[z]
			dv, dok := d.Zones[z]
			if zoneHash(cur, cok) != shown || zoneHash(dv, dok) != written {
				continue
			}
			if dok {
				if s.Zones == nil {
					s.Zones = map[string]string{}
				}
				s.Zones[z] = dv
			} else {
				delete(s.Zones, z)
			}
			continue
		}
		cur, cok := s.Fields[k]
		dv, dok := d.Fields[k]
		if fieldHash(cur, cok) != shown || fieldHash(dv, dok) != written {
			continue
		}
		if dok {
			dv.Params = maps.Clone(dv.Params)
			s.Fields[k] = dv
		} else {
			delete(s.Fields, k)
		}
	}
}

// outlookLink is the link of the item with key in coll, else (an item the
// user moved to another store: a new EntryID) the link of shared item uid.
func (p *PrevSide) outlookLink(coll, key, uid string) *snapshot.Link {
	if l := p.Link(coll, key); l != nil {
		return l
	}
	if uid == "" {
		return nil
	}
	for i := range p.Links {
		if l := &p.Links[i]; l.Collection == coll && l.UID == uid && !l.Copy {
			return l
		}
	}
	return nil
}

// outlookMemo holds what the Outlook side's run looks up more than once.
type outlookMemo struct {
	prev      *PrevSide
	delivered map[merge.Key]string // hash last delivered, by item
	bridge    *bool                // bridgePC, once known
}

// prevSide is the last run's links, for carrying forward what a link
// knows.
func (r *run) prevSide() *PrevSide {
	if r.olMemo.prev == nil {
		r.olMemo.prev = r.prev()
	}
	return r.olMemo.prev
}

// deliveredHash is the version of k last delivered to the user ("" when
// none).
func (r *run) deliveredHash(k merge.Key) string {
	if r.st == nil {
		return ""
	}
	if r.olMemo.delivered == nil {
		r.olMemo.delivered = make(map[merge.Key]string, len(r.st.Delivered))
		for _, d := range r.st.Delivered {
			r.olMemo.delivered[merge.Key{Coll: d.Collection, UID: d.UID}] = d.Hash
		}
	}
	return r.olMemo.delivered[k]
}

// deliveredDoc is the version of coll/uid last delivered to the user,
// decoded (nil when unknown or unreadable; for a private item, whose
// delivered version may be the owner's own, not in the store, quietly).
func (r *run) deliveredDoc(ctx context.Context, coll, uid string, private bool) *merge.Doc {
	h := r.deliveredHash(merge.Key{Coll: coll, UID: uid})
	if h == "" {
		return nil
	}
	d, err := r.doc(ctx, h, kindOfColl(coll))
	if err != nil && private {
		return nil
	}
	if err != nil {
		r.log.WarnContext(ctx, "outlook: delivered version unreadable: the item is read as Outlook shows it", "collection", coll, "uid", uid, "err", err)
		return nil
	}
	return d
}
