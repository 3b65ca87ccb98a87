// Package fake is an in-memory Outlook for tests: it implements
// outlook.Session with the behaviours of the real one that a sync has to
// survive, so the same scenarios run against it in CI as against the PST
// and folder sides:
//
//   - Saving an item computes its properties the way Outlook does from the
//     typed members: the recurrence blob and the exceptions inside the
//     master, time zone definitions rewritten as Outlook's own (from the
//     Windows zone), DisplayName, FileAs and e-mail display names of
//     contacts, a new GlobalObjectID and search key on create.
//   - Modification times have whole seconds (two saves within a second
//     keep the same time; the change key differs).
//   - EntryIDs change when an item moves to another store, never within a
//     store.
//   - Deleted items go to the store's Deleted Items folder; they are not
//     gone.
//   - Items Outlook refuses are refused: an end before the start, an
//     exception moved onto or past another occurrence, an unknown time
//     zone.
//   - Text is rewritten: line ends become CRLF, subjects are cut at 255
//     characters; a contact picture is stored as ContactPicture.jpg
//     (re-encoded as JPEG).
//   - Failure injection (Fail) gives the errors of a blocked (Object Model
//     Guard) or hung Outlook.
package fake

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	_ "image/png" // pictures may come as PNG; Outlook keeps JPEG
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf16"

	"github.com/pstsync/pstsync/outlook"
	"github.com/pstsync/pstsync/pst"
	"github.com/pstsync/pstsync/pst/cal"
	"github.com/pstsync/pstsync/pst/cal/recur"
	"github.com/pstsync/pstsync/pst/cal/recur/recurtest"
)

// Outlook is the fake. Its zero value is not usable; use New.
type Outlook struct {
	mu sync.Mutex
	// Now is the clock (time.Now by default).
	Now func() time.Time
	// Local is the PC's time zone: all-day events and birthdays are
	// midnights in it.
	Local *time.Location
	// User is the profile owner: the organizer of meetings it creates.
	User struct{ Name, Address string }
	// Fail, when set, is consulted before every call with the call's name
	// ("List", "Read", "Write", "Delete", "Stores", "CreateFolder",
	// "RemoveFolder"); a non-nil error is returned as Outlook's.
	Fail func(op string) error

	stores  []*store
	nextID  uint64
	changes uint64
	// instance tells this fake's items from another's: Outlook's search
	// keys and GlobalObjectIDs are unique worldwide, so two users' new
	// items never share a UID.
	instance string
}

var instances atomic.Uint64

type store struct {
	name    string
	id      uint32
	folders map[string]*folder // by path
}

type folder struct {
	path  string
	kind  outlook.FolderKind // Calendar or Contacts items
	items map[string]*item   // by EntryID
}

type item struct {
	id       string
	uid      string
	modified time.Time
	change   string
	msg      *pst.Message
	w        *outlook.Write // what was last written (for identity on update)
}

// DefaultStore is the name of the fake profile's default store.
const DefaultStore = "Outlook Data File"

// New returns a fake Outlook with one store holding Calendar, Contacts and
// Deleted Items.
func New() *Outlook {
	o := &Outlook{Now: time.Now, Local: time.UTC, instance: fmt.Sprintf("%04x", instances.Add(1)&0xffff)}
	o.User.Name, o.User.Address = "Office User", "user@example.com"
	o.AddStore(DefaultStore)
	return o
}

// AddStore adds a store (a second PST or mailbox in the profile) with its
// own Calendar, Contacts and Deleted Items, and returns nothing: folders are
// named "Store/Folder" in FolderRefs.
func (o *Outlook) AddStore(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := &store{name: name, id: uint32(len(o.stores) + 1), folders: map[string]*folder{}}
	for _, f := range []struct {
		n string
		k outlook.FolderKind
	}{{"Calendar", outlook.Calendar}, {"Contacts", outlook.Contacts}, {"Deleted Items", 0}} {
		s.folders[f.n] = &folder{path: f.n, kind: f.k, items: map[string]*item{}}
	}
	o.stores = append(o.stores, s)
}

// AddFolder adds a folder of kind (Calendar or Contacts items) to a store.
func (o *Outlook) AddFolder(storeName, name string, kind outlook.FolderKind) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.stores {
		if s.name == storeName {
			s.folders[name] = &folder{path: name, kind: kind, items: map[string]*item{}}
		}
	}
}

func (o *Outlook) fail(op string) error {
	if o.Fail != nil {
		return o.Fail(op)
	}
	return nil
}

// resolve finds a folder: the default ones in the default store; a Named
// one by "Store/Folder" or by its name in every store.
func (o *Outlook) resolve(f outlook.FolderRef) (*store, *folder, error) {
	switch f.Kind {
	case outlook.Calendar:
		return o.stores[0], o.stores[0].folders["Calendar"], nil
	case outlook.Contacts:
		return o.stores[0], o.stores[0].folders["Contacts"], nil
	}
	if sn, fn, ok := strings.Cut(f.Name, "/"); ok {
		for _, s := range o.stores {
			if s.name == sn && s.folders[fn] != nil {
				return s, s.folders[fn], nil
			}
		}
		return nil, nil, &outlook.FolderError{Folder: f, Err: outlook.ErrNoFolder}
	}
	var hs *store
	var hit *folder
	for _, s := range o.stores {
		if fo := s.folders[f.Name]; fo != nil {
			if hit != nil {
				return nil, nil, &outlook.FolderError{Folder: f, Err: outlook.ErrAmbiguous}
			}
			hs, hit = s, fo
		}
	}
	if hit == nil {
		return nil, nil, &outlook.FolderError{Folder: f, Err: outlook.ErrNoFolder}
	}
	return hs, hit, nil
}

// List implements outlook.Bridge.
func (o *Outlook) List(ctx context.Context, f outlook.FolderRef) ([]outlook.Entry, error) {
	if err := o.fail("List"); err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	_, fo, err := o.resolve(f)
	if err != nil {
		return nil, err
	}
	var out []outlook.Entry
	for _, it := range fo.items {
		out = append(out, it.entry())
	}
	slices.SortFunc(out, func(a, b outlook.Entry) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func (it *item) entry() outlook.Entry {
	return outlook.Entry{ID: it.id, Modified: it.modified, ChangeKey: it.change, UID: it.uid}
}

// Read implements outlook.Bridge.
func (o *Outlook) Read(ctx context.Context, f outlook.FolderRef, id string) (*outlook.Item, error) {
	if err := o.fail("Read"); err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	_, fo, err := o.resolve(f)
	if err != nil {
		return nil, err
	}
	it := fo.items[id]
	if it == nil {
		return nil, fmt.Errorf("outlook: %s item %s: %w", f, id, outlook.ErrNotFound)
	}
	return &outlook.Item{Entry: it.entry(), Msg: it.msg}, nil
}

// Write implements outlook.Bridge.
func (o *Outlook) Write(ctx context.Context, f outlook.FolderRef, id string, w *outlook.Write) (outlook.Entry, error) {
	return o.write(ctx, f, id, w, nil)
}

// write saves an item; imp is set for an item an iCalendar import saves.
func (o *Outlook) write(ctx context.Context, f outlook.FolderRef, id string, w *outlook.Write, imp *importing) (outlook.Entry, error) {
	if err := o.fail("Write"); err != nil {
		return outlook.Entry{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	s, fo, err := o.resolve(f)
	if err != nil {
		return outlook.Entry{}, err
	}
	want := outlook.Contacts
	if w.Class == outlook.ClassAppointment {
		want = outlook.Calendar
	}
	if fo.kind != want {
		return outlook.Entry{}, fmt.Errorf("outlook: %s item in folder %s: %w", w.Class, f, outlook.ErrRefused)
	}
	var it *item
	if id != "" {
		if it = fo.items[id]; it == nil {
			return outlook.Entry{}, fmt.Errorf("outlook: %s item %s: %w", f, id, outlook.ErrNotFound)
		}
	} else {
		o.nextID++
		it = &item{id: o.entryID(s, o.nextID)}
	}
	now := o.Now().UTC().Truncate(time.Second)
	msg, err := o.save(w, it, now, imp)
	if err != nil {
		return outlook.Entry{}, err
	}
	o.changes++
	it.msg, it.w, it.uid, it.modified = msg, w, w.UID, now
	it.change = fmt.Sprintf("%016X", o.changes)
	fo.items[it.id] = it
	return it.entry(), nil
}

// entryID is a store-specific id: moving to another store changes it.
func (o *Outlook) entryID(s *store, n uint64) string {
	b := make([]byte, 24)
	binary.BigEndian.PutUint32(b[4:], 0x0001A5B6) // provider tag
	binary.BigEndian.PutUint32(b[8:], s.id)
	binary.BigEndian.PutUint64(b[16:], n)
	return strings.ToUpper(hex.EncodeToString(b))
}

// Delete implements outlook.Bridge: the item moves to Deleted Items.
func (o *Outlook) Delete(ctx context.Context, f outlook.FolderRef, id string) error {
	if err := o.fail("Delete"); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	s, fo, err := o.resolve(f)
	if err != nil {
		return err
	}
	it := fo.items[id]
	if it == nil {
		return fmt.Errorf("outlook: %s item %s: %w", f, id, outlook.ErrNotFound)
	}
	delete(fo.items, id)
	s.folders["Deleted Items"].items[id] = it
	return nil
}

// Move moves an item to another folder, as a user's drag and drop does;
// into another store it gets a new EntryID. It returns the new id.
func (o *Outlook) Move(from outlook.FolderRef, id string, to outlook.FolderRef) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s1, f1, err := o.resolve(from)
	if err != nil {
		return "", err
	}
	s2, f2, err := o.resolve(to)
	if err != nil {
		return "", err
	}
	it := f1.items[id]
	if it == nil {
		return "", outlook.ErrNotFound
	}
	delete(f1.items, id)
	if s1 != s2 {
		o.nextID++
		it.id = o.entryID(s2, o.nextID)
	}
	f2.items[it.id] = it
	return it.id, nil
}

// EditAsUser changes an item as its user does in Outlook's own window: the
// members edit changes take their new values; everything else stays as
// Outlook stores it (its organizer, its re-encoded picture, its time zone
// definitions, the user properties). It returns the saved entry.
func (o *Outlook) EditAsUser(f outlook.FolderRef, id string, edit func(w *outlook.Write)) (outlook.Entry, error) {
	o.mu.Lock()
	_, fo, err := o.resolve(f)
	if err != nil {
		o.mu.Unlock()
		return outlook.Entry{}, err
	}
	it := fo.items[id]
	if it == nil {
		o.mu.Unlock()
		return outlook.Entry{}, fmt.Errorf("outlook: %s item %s: %w", f, id, outlook.ErrNotFound)
	}
	w := *it.w
	w.Fields = maps.Clone(it.w.Fields)
	w.UserProps = maps.Clone(it.w.UserProps)
	w.Categories = slices.Clone(it.w.Categories)
	w.Recipients = slices.Clone(it.w.Recipients)
	if r := it.w.Recurrence; r != nil {
		c := *r
		c.Exceptions = slices.Clone(r.Exceptions)
		w.Recurrence = &c
	}
	o.mu.Unlock()
	edit(&w)
	return o.Write(context.Background(), f, id, &w)
}

// Deleted returns the entries in a store's Deleted Items.
func (o *Outlook) Deleted(storeName string) []outlook.Entry {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []outlook.Entry
	for _, s := range o.stores {
		if s.name == storeName {
			for _, it := range s.folders["Deleted Items"].items {
				out = append(out, it.entry())
			}
		}
	}
	return out
}

// Stores implements outlook.Session.
func (o *Outlook) Stores(ctx context.Context) ([]string, error) {
	if err := o.fail("Stores"); err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, s := range o.stores {
		out = append(out, s.name)
	}
	return out, nil
}

// CreateFolder implements outlook.Session.
func (o *Outlook) CreateFolder(ctx context.Context, kind outlook.FolderKind, name string) (outlook.FolderRef, error) {
	if err := o.fail("CreateFolder"); err != nil {
		return outlook.FolderRef{}, err
	}
	o.mu.Lock()
	s := o.stores[0]
	if s.folders[name] != nil {
		o.mu.Unlock()
		return outlook.FolderRef{}, fmt.Errorf("outlook: folder %q exists: %w", name, outlook.ErrRefused)
	}
	o.mu.Unlock()
	o.AddFolder(s.name, name, kind)
	return outlook.FolderRef{Kind: outlook.Named, Name: s.name + "/" + name}, nil
}

// RemoveFolder implements outlook.Session.
func (o *Outlook) RemoveFolder(ctx context.Context, f outlook.FolderRef) error {
	if err := o.fail("RemoveFolder"); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	s, fo, err := o.resolve(f)
	if err != nil {
		return err
	}
	delete(s.folders, fo.path)
	return nil
}

// Folders returns the folder paths of every store ("Store/Folder"), for
// tests.
func (o *Outlook) Folders() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, s := range o.stores {
		for n := range s.folders {
			out = append(out, s.name+"/"+n)
		}
	}
	slices.Sort(out)
	return out
}

// Close implements outlook.Session.
func (o *Outlook) Close() error { return nil }

var _ outlook.Session = (*Outlook)(nil)

// ---------------------------------------------------------------- saving

// crlf rewrites line ends as Outlook stores them.
func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

func str(w *outlook.Write, k string) string { s, _ := w.Fields[k].(string); return s }

// save computes the item's properties from what was written.
func (o *Outlook) save(w *outlook.Write, it *item, now time.Time, imp *importing) (*pst.Message, error) {
	b := outlook.NewPropBag()
	set := func(t uint16, typ pst.PropType, v any) { b.Set(outlook.PropRef{Tag: t, Type: typ}, v) }
	set(pst.TagMessageClass, pst.TypeString, w.Class)
	set(pst.TagLastModificationTime, pst.TypeTime, now)
	created := now
	if it.msg != nil {
		if t, ok := it.msg.Props.Time(pst.TagCreationTime); ok {
			created = t
		}
	}
	set(pst.TagCreationTime, pst.TypeTime, created)
	set(pst.TagChangeKey, pst.TypeBinary, binary.BigEndian.AppendUint64(nil, o.changes+1))
	sens, _ := w.Fields["Sensitivity"].(int)
	set(pst.TagSensitivity, pst.TypeInt32, int32(sens))
	if len(w.Categories) > 0 {
		var cats []string
		for _, c := range w.Categories {
			if c = strings.TrimSpace(c); c != "" && !slices.Contains(cats, c) {
				cats = append(cats, c)
			}
		}
		b.Set(outlook.PropKeywords, cats)
	}
	// User properties: string-named properties in PS_PUBLIC_STRINGS.
	if w.UID != "" {
		b.Set(outlook.UserProp(outlook.UIDProperty), w.UID)
	}
	for _, k := range slices.Sorted(maps.Keys(w.UserProps)) {
		if v := w.UserProps[k]; v != "" {
			b.Set(outlook.UserProp(k), v)
		}
	}
	if body := str(w, "Body"); body != "" {
		set(pst.TagBody, pst.TypeString, crlf(body))
	}
	// Identity Outlook gives at creation and keeps.
	key := []byte(it.id + o.instance)
	if it.msg != nil {
		key = it.msg.Props.Binary(pst.TagSearchKey)
	}
	set(pst.TagSearchKey, pst.TypeBinary, key)
	m := &pst.Message{}
	var err error
	switch w.Class {
	case outlook.ClassAppointment:
		err = o.saveAppointment(w, it, b, m, imp)
	case outlook.ClassContact:
		err = o.saveContact(w, b, m)
	default:
		err = fmt.Errorf("outlook: class %q: %w", w.Class, outlook.ErrRefused)
	}
	if err != nil {
		return nil, err
	}
	m.Props = b.Props()
	return m, nil
}

func subject(s string) string {
	if r := []rune(s); len(r) > 255 {
		return string(r[:255])
	}
	return s
}

func (o *Outlook) saveAppointment(w *outlook.Write, it *item, b *outlook.PropBag, m *pst.Message, imp *importing) error {
	set := func(t uint16, typ pst.PropType, v any) { b.Set(outlook.PropRef{Tag: t, Type: typ}, v) }
	set(pst.TagSubject, pst.TypeString, subject(str(w, "Subject")))
	if s := str(w, "Location"); s != "" {
		b.Set(outlook.PropLocation, s)
	}
	importance, ok := w.Fields["Importance"].(int)
	if !ok {
		importance = 1
	}
	set(pst.TagImportance, pst.TypeInt32, int32(importance))
	busy, ok := w.Fields["BusyStatus"].(int)
	if !ok {
		busy = 2
	}
	b.Set(outlook.PropBusyStatus, int32(busy))
	allDay, _ := w.Fields["AllDayEvent"].(bool)
	b.Set(outlook.PropSubType, allDay)
	key := w.TimeZone
	loc := o.Local
	if allDay {
		key = windowsKey(o.Local)
	} else {
		name := cal.IANAName(key)
		if key == "UTC" {
			name = "UTC"
		}
		l, err := time.LoadLocation(name)
		if name == "" || err != nil {
			return fmt.Errorf("outlook: time zone %q: %w", w.TimeZone, outlook.ErrRefused)
		}
		loc = l
	}
	start, _ := w.Fields["Start"].(time.Time)
	end, _ := w.Fields["End"].(time.Time)
	if end.Before(start) {
		return fmt.Errorf("outlook: %q: the end date occurs before the start date: %w", str(w, "Subject"), outlook.ErrRefused)
	}
	su, eu := inZone(start, loc), inZone(end, loc)
	b.Set(outlook.PropStartWhole, su)
	b.Set(outlook.PropEndWhole, eu)
	b.Set(outlook.PropCommonStart, su)
	b.Set(outlook.PropCommonEnd, eu)
	set(0x0060, pst.TypeTime, su) // PidTagStartDate
	set(0x0061, pst.TypeTime, eu) // PidTagEndDate
	def := tzDefinition(key, loc, start.Year())
	b.Set(outlook.PropTZDefStart, def)
	b.Set(outlook.PropTZDefEnd, def)
	b.Set(outlook.PropTZDescription, key)
	rs, _ := w.Fields["ReminderSet"].(bool)
	b.Set(outlook.PropReminderSet, rs)
	mins, ok := w.Fields["ReminderMinutesBeforeStart"].(int)
	if !ok {
		mins = 15
	}
	b.Set(outlook.PropReminderDelta, int32(mins))
	// GlobalObjectID: made once, at creation.
	goid := []byte(nil)
	if it.msg != nil {
		goid = it.msg.Props.Binary(it.msg.Props.NamedID(pst.PSETIDMeeting, 0x0003))
	}
	if goid == nil && imp != nil {
		goid = imp.goid // an imported event: from its UID
	}
	if goid == nil {
		goid = globalObjectID(it.id + o.instance)
	}
	b.Set(outlook.PropGlobalObjectID, goid)
	b.Set(outlook.PropCleanGlobalObjID, cleanGOID(goid))
	var seq int64
	if it.msg != nil {
		seq, _ = it.msg.Props.Int(it.msg.Props.NamedID(pst.PSETIDAppointment, 0x8201))
	}
	if imp != nil {
		seq = int64(imp.seq)
	}
	b.Set(outlook.PropSequence, int32(seq))
	if len(w.Recipients) > 0 {
		b.Set(outlook.PropStateFlags, int32(1)) // asfMeeting
		b.Set(outlook.PropRef{Tag: pst.TagResponseRequested, Type: pst.TypeBool}, true)
		b.Set(outlook.PropRef{Tag: pst.TagSentRepresentingName, Type: pst.TypeString}, o.User.Name)
		b.Set(outlook.PropRef{Tag: pst.TagSentRepresentingEmailAddress, Type: pst.TypeString}, o.User.Address)
		b.Set(outlook.PropRef{Tag: pst.TagSentRepresentingAddrType, Type: pst.TypeString}, "SMTP")
		m.Recipients = append(m.Recipients, recipient(o.User.Name, o.User.Address, 1, 0, 3))
		for _, r := range w.Recipients {
			m.Recipients = append(m.Recipients, recipient(r.Name, r.Address, r.Type, r.Response, 1))
		}
	}
	if w.Recurrence != nil {
		p, err := pattern(w, start, end, allDay)
		if err != nil {
			return err
		}
		b.Set(outlook.PropRecurring, true)
		b.Set(outlook.PropRecur, recurtest.Encode(p, true))
		// Each changed occurrence is an embedded message inside the master.
		for i, e := range exceptionsKept(w.Recurrence.Exceptions) {
			x := &p.Exceptions[i]
			eb := outlook.NewPropBag()
			eb.Set(outlook.PropRef{Tag: pst.TagMessageClass, Type: pst.TypeString}, "IPM.OLE.CLASS.{00061055-0000-0000-C000-000000000046}")
			eb.Set(outlook.PropRef{Set: pst.PSETIDAppointment, LID: 0x8228, Type: pst.TypeTime}, inZone(x.OriginalStart, loc))
			eb.Set(outlook.PropStartWhole, inZone(x.Start, loc))
			eb.Set(outlook.PropEndWhole, inZone(x.End, loc))
			em := &pst.Message{}
			if e.Body != nil {
				x.OverrideFlags |= recur.AROExceptionalBody
				eb.Set(outlook.PropRef{Tag: pst.TagBody, Type: pst.TypeString}, crlf(*e.Body))
			}
			if e.Recipients != nil {
				em.Recipients = append(em.Recipients, recipient(o.User.Name, o.User.Address, 1, 0, 3))
				for _, r := range e.Recipients {
					em.Recipients = append(em.Recipients, recipient(r.Name, r.Address, r.Type, r.Response, 1))
				}
			}
			em.Props = eb.Props()
			m.Attachments = append(m.Attachments, &pst.Attachment{Embedded: em, Props: pst.NewProps(nil,
				pst.Property{ID: pst.TagAttachMethod, Type: pst.TypeInt32, Value: int32(5)})})
		}
		b.Set(outlook.PropRecur, recurtest.Encode(p, true))
		b.Set(outlook.PropTZDefRecur, def)
	}
	return nil
}

// exceptionsKept are the changed (not deleted) occurrences, in the order
// pattern gives them.
func exceptionsKept(es []outlook.Exception) []outlook.Exception {
	var out []outlook.Exception
	for _, e := range es {
		if !e.Deleted {
			out = append(out, e)
		}
	}
	return out
}

func recipient(name, addr string, typ, response int, flags int32) *pst.Props {
	ps := []pst.Property{
		{ID: pst.TagDisplayName, Type: pst.TypeString, Value: name},
		{ID: pst.TagEmailAddress, Type: pst.TypeString, Value: addr},
		{ID: pst.TagSMTPAddress, Type: pst.TypeString, Value: addr},
		{ID: pst.TagAddrType, Type: pst.TypeString, Value: "SMTP"},
		{ID: pst.TagRecipientType, Type: pst.TypeInt32, Value: int32(typ)},
		{ID: pst.TagRecipientFlags, Type: pst.TypeInt32, Value: flags},
	}
	if response != 0 {
		ps = append(ps, pst.Property{ID: pst.TagRecipientTrackStatus, Type: pst.TypeInt32, Value: int32(response)})
	}
	return pst.NewProps(nil, ps...)
}

// globalObjectID is a PidLidGlobalObjectID as Outlook makes one: the
// fixed class id, a zero instance date, a creation stamp and 16 bytes of
// data ([MS-OXOCAL] 2.2.1.27).
func globalObjectID(seed string) []byte {
	b := []byte{0x04, 0x00, 0x00, 0x00, 0x82, 0x00, 0xE0, 0x00, 0x74, 0xC5, 0xB7, 0x10, 0x1A, 0x82, 0xE0, 0x08}
	b = append(b, 0, 0, 0, 0)             // instance date
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0) // creation time
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0) // reserved
	b = binary.LittleEndian.AppendUint32(b, 16)
	h := make([]byte, 16)
	copy(h, seed[max(0, len(seed)-16):])
	return append(b, h...)
}

// inZone converts a wall-clock time (in time.UTC) of loc to the instant.
func inZone(wall time.Time, loc *time.Location) time.Time {
	return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, loc).UTC()
}

func windowsKey(loc *time.Location) string {
	if k := outlook.WindowsZone(loc.String()); k != "" {
		return k
	}
	return "UTC"
}

// tzDefinition is Outlook's own TZDEFINITION for a Windows zone: one rule,
// the zone's rule of year, marked effective ([MS-OXOCAL] 2.2.1.41).
func tzDefinition(key string, loc *time.Location, year int) []byte {
	bias, stdBias, dstBias, std, dst := yearRule(loc, year)
	name := utf16.Encode([]rune(key))
	var b []byte
	b = append(b, 0x02, 0x01)
	b = binary.LittleEndian.AppendUint16(b, uint16(6+2*len(name)))
	b = binary.LittleEndian.AppendUint16(b, 0x0002) // TZDEFINITION_FLAG_VALID_KEYNAME
	b = binary.LittleEndian.AppendUint16(b, uint16(len(name)))
	for _, c := range name {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	b = binary.LittleEndian.AppendUint16(b, 1) // cRules
	// TZRULE
	b = append(b, 0x02, 0x01)
	b = binary.LittleEndian.AppendUint16(b, 0x003E)
	b = binary.LittleEndian.AppendUint16(b, 0x0002) // TZRULE_FLAG_EFFECTIVE_TZREG
	b = binary.LittleEndian.AppendUint16(b, 0)      // year: from the start
	b = append(b, make([]byte, 14)...)
	b = binary.LittleEndian.AppendUint32(b, uint32(bias))
	b = binary.LittleEndian.AppendUint32(b, uint32(stdBias))
	b = binary.LittleEndian.AppendUint32(b, uint32(dstBias))
	for _, st := range [][8]uint16{std, dst} {
		for _, v := range st {
			b = binary.LittleEndian.AppendUint16(b, v)
		}
	}
	return b
}

// yearRule reads loc's rule for year y: biases in minutes (UTC = local +
// bias) and the SYSTEMTIME "n-th weekday" dates of the switches.
func yearRule(loc *time.Location, y int) (bias, stdBias, dstBias int32, std, dst [8]uint16) {
	_, jan := time.Date(y, 1, 15, 12, 0, 0, 0, time.UTC).In(loc).Zone()
	_, jul := time.Date(y, 7, 15, 12, 0, 0, 0, time.UTC).In(loc).Zone()
	so, do := min(jan, jul), max(jan, jul)
	bias = int32(-so / 60)
	if so == do {
		return
	}
	dstBias = int32(-(do - so) / 60)
	t := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 4; i++ {
		_, e := t.In(loc).ZoneBounds()
		if e.IsZero() || e.Year() > y {
			break
		}
		_, before := e.Add(-time.Second).In(loc).Zone()
		_, after := e.In(loc).Zone()
		l := e.Add(time.Duration(before) * time.Second).UTC()
		n := (l.Day()-1)/7 + 1
		if l.Day()+7 > time.Date(l.Year(), l.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day() {
			n = 5
		}
		st := [8]uint16{0, uint16(l.Month()), uint16(l.Weekday()), uint16(n), uint16(l.Hour()), uint16(l.Minute())}
		if after > before {
			dst = st
		} else {
			std = st
		}
		t = e
	}
	return
}

// pattern builds the recurrence blob's pattern from a RecurrencePattern
// and its exceptions, as Outlook does when the item is saved.
func pattern(w *outlook.Write, start, end time.Time, allDay bool) (*recur.Pattern, error) {
	r := w.Recurrence
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
	p := &recur.Pattern{Appointment: true, FirstDOW: 1, Period: uint32(r.Interval),
		StartTimeOffset: uint32(start.Sub(day(start)) / time.Minute),
		StartDate:       day(r.PatternStart)}
	p.EndTimeOffset = p.StartTimeOffset + uint32(end.Sub(start)/time.Minute)
	switch r.Type {
	case outlook.RecursDaily:
		p.Frequency, p.PatternType, p.Period = recur.FreqDaily, recur.PatternDay, uint32(r.Interval)*1440
	case outlook.RecursWeekly:
		p.Frequency, p.PatternType, p.DayMask = recur.FreqWeekly, recur.PatternWeek, uint32(r.DayOfWeekMask)
	case outlook.RecursMonthly:
		p.Frequency, p.PatternType, p.DayOfMonth = recur.FreqMonthly, recur.PatternMonth, uint32(r.DayOfMonth)
	case outlook.RecursMonthNth:
		p.Frequency, p.PatternType, p.DayMask, p.N = recur.FreqMonthly, recur.PatternMonthNth, uint32(r.DayOfWeekMask), uint32(r.Instance)
	case outlook.RecursYearly:
		p.Frequency, p.PatternType, p.DayOfMonth, p.Period = recur.FreqYearly, recur.PatternMonth, uint32(r.DayOfMonth), uint32(12*r.Interval)
	case outlook.RecursYearNth:
		p.Frequency, p.PatternType, p.DayMask, p.N, p.Period = recur.FreqYearly, recur.PatternMonthNth, uint32(r.DayOfWeekMask), uint32(r.Instance), uint32(12*r.Interval)
	default:
		return nil, fmt.Errorf("outlook: recurrence type %d: %w", r.Type, outlook.ErrRefused)
	}
	switch {
	case r.Occurrences > 0:
		p.EndType, p.OccurrenceCount = recur.EndAfterCount, uint32(r.Occurrences)
		p.EndDate = p.StartDate.AddDate(0, 0, r.Occurrences*7*max(1, r.Interval)) // an upper bound: Outlook's own is the last date
	case r.NoEnd:
		p.EndType, p.OccurrenceCount = recur.EndNever, 10
		p.EndDate = time.Date(4500, 12, 31, 0, 0, 0, 0, time.UTC)
	default:
		p.EndType, p.EndDate = recur.EndAfterDate, day(r.PatternEnd)
	}
	var lastNew time.Time
	for _, e := range r.Exceptions {
		orig := e.Original
		if allDay {
			orig = day(orig)
		} else if orig.Sub(day(orig)) == 0 && p.StartTimeOffset != 0 {
			orig = orig.Add(time.Duration(p.StartTimeOffset) * time.Minute)
		}
		p.DeletedDates = append(p.DeletedDates, day(orig))
		if e.Deleted {
			continue
		}
		ns, ne := e.Start, e.End
		if ns.IsZero() {
			ns = orig
		}
		if ne.IsZero() {
			ne = ns.Add(end.Sub(start))
		}
		if ne.Before(ns) {
			return nil, fmt.Errorf("outlook: occurrence of %s: the end occurs before the start: %w", orig.Format("2006-01-02"), outlook.ErrRefused)
		}
		if !lastNew.IsZero() && !day(ns).After(day(lastNew)) {
			return nil, fmt.Errorf("outlook: occurrence of %s: cannot move an occurrence onto or past another one: %w", orig.Format("2006-01-02"), outlook.ErrRefused)
		}
		lastNew = ns
		x := recur.Exception{Start: ns, End: ne, OriginalStart: orig}
		if e.Subject != nil {
			x.OverrideFlags |= recur.AROSubject
			x.Subject = *e.Subject
		}
		if e.Location != nil {
			x.OverrideFlags |= recur.AROLocation
			x.Location = *e.Location
		}
		p.Exceptions = append(p.Exceptions, x)
		p.ModifiedDates = append(p.ModifiedDates, day(ns))
	}
	slices.SortFunc(p.DeletedDates, time.Time.Compare)
	slices.SortFunc(p.ModifiedDates, time.Time.Compare)
	return p, nil
}

func (o *Outlook) saveContact(w *outlook.Write, b *outlook.PropBag, m *pst.Message) error {
	for _, k := range slices.Sorted(maps.Keys(w.Fields)) {
		r, ok := outlook.ContactFields[k]
		if !ok {
			continue
		}
		switch v := w.Fields[k].(type) {
		case string:
			if k == "Body" {
				v = crlf(v)
			}
			b.Set(r, v)
		case int:
			b.Set(r, int16(v))
		case time.Time:
			// Birthdays and anniversaries: midnight of the PC's zone, and
			// the local copy at UTC midnight.
			b.Set(r, inZone(v, o.Local))
			switch k {
			case "Birthday":
				b.Set(outlook.PropBirthdayLocal, v)
			case "Anniversary":
				b.Set(outlook.PropAnnivLocal, v)
			}
		}
	}
	first, last := str(w, "FirstName"), str(w, "LastName")
	full := str(w, "FullName")
	if full == "" {
		full = strings.Join(nonEmpty(str(w, "Title"), first, str(w, "MiddleName"), last, str(w, "Suffix")), " ")
	}
	b.Set(outlook.PropRef{Tag: pst.TagDisplayName, Type: pst.TypeString}, full)
	b.Set(outlook.PropRef{Tag: pst.TagSubject, Type: pst.TypeString}, full)
	fileAs := str(w, "FileAs")
	if fileAs == "" && last != "" && first != "" {
		fileAs = last + ", " + first
	}
	if fileAs == "" {
		fileAs = full
	}
	b.Set(outlook.PropFileUnder, fileAs)
	for i := uint32(0); i < 3; i++ {
		addr := str(w, fmt.Sprintf("Email%dAddress", i+1))
		if addr == "" {
			continue
		}
		off := 0x10 * i
		dn := str(w, fmt.Sprintf("Email%dDisplayName", i+1))
		if dn == "" {
			dn = full + " (" + addr + ")"
		}
		b.Set(outlook.PropRef{Set: pst.PSETIDAddress, LID: 0x8082 + off, Type: pst.TypeString}, "SMTP")
		b.Set(outlook.PropRef{Set: pst.PSETIDAddress, LID: 0x8080 + off, Type: pst.TypeString}, dn)
		b.Set(outlook.PropRef{Set: pst.PSETIDAddress, LID: 0x8084 + off, Type: pst.TypeString}, addr)
	}
	if sel, ok := w.Fields["SelectedMailingAddress"].(int); ok && sel != 0 {
		b.Set(outlook.PropPostalAddressID, int32(sel))
	}
	if len(w.Photo) > 0 {
		img, _, err := image.Decode(bytes.NewReader(w.Photo))
		if err != nil {
			return fmt.Errorf("outlook: contact picture: %v: %w", err, outlook.ErrRefused)
		}
		var jb bytes.Buffer
		if err := jpeg.Encode(&jb, img, &jpeg.Options{Quality: 90}); err != nil {
			return fmt.Errorf("outlook: contact picture: %w", err)
		}
		b.Set(outlook.PropHasPicture, true)
		a := &pst.Attachment{Data: jb.Bytes(), Props: pst.NewProps(nil,
			pst.Property{ID: pst.TagAttachMethod, Type: pst.TypeInt32, Value: int32(1)},
			pst.Property{ID: pst.TagAttachLongFilename, Type: pst.TypeString, Value: "ContactPicture.jpg"},
			pst.Property{ID: pst.TagAttachmentContactPhoto, Type: pst.TypeBool, Value: true},
		)}
		m.Attachments = append(m.Attachments, a)
	}
	return nil
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
