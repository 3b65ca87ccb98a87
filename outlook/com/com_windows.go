//go:build windows

package com

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	ole "github.com/go-ole/go-ole"
	"github.com/go-ole/go-ole/oleutil"

	"github.com/pstsync/pstsync/outlook"
	"github.com/pstsync/pstsync/pst"
	"github.com/pstsync/pstsync/pst/cal"
)

// Outlook object model constants.
const (
	olFolderCalendar    = 9
	olFolderContacts    = 10
	olFolderDeletedItem = 3
	olAppointmentItem   = 1
	olContactItem       = 2
	olText              = 1
	olUserItems         = 0
	olMeeting           = 1
)

var errBroken = errors.New("outlook: an earlier call to Outlook did not return")

// session is an open connection to Outlook.
type session struct {
	timeout time.Duration
	calls   chan func()
	done    chan struct{}

	mu     sync.Mutex
	broken bool

	// owned by the COM goroutine
	app, ns *ole.IDispatch
}

// Open connects to Outlook: the running instance, or a new one with
// opts.Start. It returns outlook.ErrNotInstalled when Outlook is not
// registered on this PC and outlook.ErrNotRunning when it is not running.
func Open(ctx context.Context, opts Options) (outlook.Session, error) {
	s := &session{timeout: opts.Timeout, calls: make(chan func()), done: make(chan struct{})}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	ready := make(chan error, 1)
	go s.loop(ready)
	if err := <-ready; err != nil {
		return nil, fmt.Errorf("outlook: COM: %w", err)
	}
	err := s.do(ctx, func() error {
		clsid, err := ole.CLSIDFromProgID("Outlook.Application")
		if err != nil {
			return mapErr(err, outlook.ErrNotInstalled)
		}
		unk, err := ole.GetActiveObject(clsid, ole.IID_IUnknown)
		if err != nil {
			if !opts.Start {
				return mapErr(err, outlook.ErrNotRunning)
			}
			if unk, err = ole.CreateInstance(clsid, ole.IID_IUnknown); err != nil {
				return mapErr(err, outlook.ErrNotInstalled)
			}
		}
		defer unk.Release()
		if s.app, err = unk.QueryInterface(ole.IID_IDispatch); err != nil {
			return mapErr(err, nil)
		}
		v, err := oleutil.CallMethod(s.app, "GetNamespace", "MAPI")
		if err != nil {
			return mapErr(err, nil)
		}
		s.ns = v.ToIDispatch()
		return nil
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// loop runs every COM call on one OS thread.
func (s *session) loop(ready chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := ole.CoInitializeEx(0, ole.COINIT_APARTMENTTHREADED); err != nil {
		var oe *ole.OleError
		// S_FALSE (already initialised) is not an error.
		if !errors.As(err, &oe) || oe.Code() != 1 {
			ready <- err
			return
		}
	}
	defer ole.CoUninitialize()
	ready <- nil
	for {
		select {
		case f := <-s.calls:
			f()
		case <-s.done:
			if s.ns != nil {
				s.ns.Release()
			}
			if s.app != nil {
				s.app.Release()
			}
			return
		}
	}
}

// do runs f on the COM thread and waits for it, at most until ctx's
// deadline or the session's timeout.
func (s *session) do(ctx context.Context, f func() error) error {
	s.mu.Lock()
	broken := s.broken
	s.mu.Unlock()
	if broken {
		return fmt.Errorf("%w: %w", outlook.ErrTimeout, errBroken)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	res := make(chan error, 1)
	call := func() {
		defer func() {
			if r := recover(); r != nil {
				res <- fmt.Errorf("outlook: COM call panicked: %v", r)
			}
		}()
		res <- f()
	}
	select {
	case s.calls <- call:
	case <-ctx.Done():
		return s.timedOut(ctx)
	}
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		s.mu.Lock()
		s.broken = true
		s.mu.Unlock()
		return s.timedOut(ctx)
	}
}

func (s *session) timedOut(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	return fmt.Errorf("%w (no answer within %s)", outlook.ErrTimeout, s.timeout)
}

// Close ends the COM thread (unless a call still blocks it).
func (s *session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.broken {
		select {
		case <-s.done:
		default:
			close(s.done)
		}
	}
	return nil
}

// mapErr turns an HRESULT into the outlook error a caller can act on;
// def is used for the codes of "not there" (class not registered, no
// running object).
func mapErr(err error, def error) error {
	var oe *ole.OleError
	if !errors.As(err, &oe) {
		var ex *ole.EXCEPINFO
		if errors.As(err, &ex) {
			return classify(uintptr(ex.SCODE()), ex.String(), def)
		}
		return err
	}
	return classify(oe.Code(), oe.String(), def)
}

// ---------------------------------------------------------------- helpers

func call(d *ole.IDispatch, name string, args ...any) (*ole.IDispatch, error) {
	v, err := oleutil.CallMethod(d, name, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, mapErr(err, nil))
	}
	return v.ToIDispatch(), nil
}

func get(d *ole.IDispatch, name string, args ...any) (*ole.VARIANT, error) {
	v, err := oleutil.GetProperty(d, name, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, mapErr(err, nil))
	}
	return v, nil
}

func getObj(d *ole.IDispatch, name string, args ...any) (*ole.IDispatch, error) {
	v, err := get(d, name, args...)
	if err != nil {
		return nil, err
	}
	return v.ToIDispatch(), nil
}

func getString(d *ole.IDispatch, name string) (string, error) {
	v, err := get(d, name)
	if err != nil {
		return "", err
	}
	return v.ToString(), nil
}

func getInt(d *ole.IDispatch, name string) (int64, error) {
	v, err := get(d, name)
	if err != nil {
		return 0, err
	}
	switch x := v.Value().(type) {
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case int16:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	}
	return 0, fmt.Errorf("%s: not a number: %v", name, v.Value())
}

func put(d *ole.IDispatch, name string, v any) error {
	if _, err := oleutil.PutProperty(d, name, v); err != nil {
		return fmt.Errorf("set %s: %w", name, mapErr(err, nil))
	}
	return nil
}

// ---------------------------------------------------------------- folders

func (s *session) defaultFolder(kind outlook.FolderKind) (*ole.IDispatch, error) {
	n := olFolderCalendar
	if kind == outlook.Contacts {
		n = olFolderContacts
	}
	return call(s.ns, "GetDefaultFolder", n)
}

// folder resolves a FolderRef on the COM thread.
func (s *session) folder(f outlook.FolderRef) (*ole.IDispatch, error) {
	switch f.Kind {
	case outlook.Calendar, outlook.Contacts:
		return s.defaultFolder(f.Kind)
	}
	stores, err := getObj(s.ns, "Stores")
	if err != nil {
		return nil, err
	}
	n, err := getInt(stores, "Count")
	if err != nil {
		return nil, err
	}
	storeName, path, qualified := strings.Cut(f.Name, "/")
	var hits []*ole.IDispatch
	for i := int64(1); i <= n; i++ {
		st, err := getObj(stores, "Item", i)
		if err != nil {
			return nil, err
		}
		name, _ := getString(st, "DisplayName")
		root, err := call(st, "GetRootFolder")
		if err != nil {
			continue // a store that cannot be opened (offline archive)
		}
		if qualified {
			if name != storeName {
				continue
			}
			fo, err := walkPath(root, strings.Split(path, "/"))
			if err != nil {
				return nil, &outlook.FolderError{Folder: f, Err: err}
			}
			return fo, nil
		}
		hits = append(hits, findByName(root, f.Name, 4)...)
	}
	switch {
	case len(hits) == 0:
		return nil, &outlook.FolderError{Folder: f, Err: outlook.ErrNoFolder}
	case len(hits) > 1:
		return nil, &outlook.FolderError{Folder: f, Err: outlook.ErrAmbiguous}
	}
	return hits[0], nil
}

func walkPath(fo *ole.IDispatch, parts []string) (*ole.IDispatch, error) {
	for _, p := range parts {
		subs, err := getObj(fo, "Folders")
		if err != nil {
			return nil, err
		}
		if fo, err = getObj(subs, "Item", p); err != nil {
			return nil, outlook.ErrNoFolder
		}
	}
	return fo, nil
}

func findByName(fo *ole.IDispatch, name string, depth int) []*ole.IDispatch {
	if depth == 0 {
		return nil
	}
	subs, err := getObj(fo, "Folders")
	if err != nil {
		return nil
	}
	n, _ := getInt(subs, "Count")
	var out []*ole.IDispatch
	for i := int64(1); i <= n; i++ {
		sub, err := getObj(subs, "Item", i)
		if err != nil {
			continue
		}
		if sn, _ := getString(sub, "Name"); strings.EqualFold(sn, name) {
			out = append(out, sub)
		}
		out = append(out, findByName(sub, name, depth-1)...)
	}
	return out
}

// ---------------------------------------------------------------- Bridge

const (
	daslModified  = "http://schemas.microsoft.com/mapi/proptag/0x30080040"
	daslChangeKey = "http://schemas.microsoft.com/mapi/proptag/0x65E20102"
	daslClass     = "http://schemas.microsoft.com/mapi/proptag/0x001A001F"
	daslUID       = "http://schemas.microsoft.com/mapi/string/{00020329-0000-0000-C000-000000000046}/" + outlook.UIDProperty
)

// List implements outlook.Bridge through Folder.GetTable: one call per
// row, no item opened.
func (s *session) List(ctx context.Context, f outlook.FolderRef) ([]outlook.Entry, error) {
	var out []outlook.Entry
	err := s.do(ctx, func() error {
		fo, err := s.folder(f)
		if err != nil {
			return err
		}
		tbl, err := call(fo, "GetTable", "", olUserItems)
		if err != nil {
			return err
		}
		cols, err := getObj(tbl, "Columns")
		if err != nil {
			return err
		}
		if _, err := call(cols, "RemoveAll"); err != nil {
			return err
		}
		for _, c := range []string{"EntryID", daslModified, daslChangeKey, daslClass, daslUID} {
			if _, err := call(cols, "Add", c); err != nil {
				return err
			}
		}
		for {
			end, err := get(tbl, "EndOfTable")
			if err != nil {
				return err
			}
			if b, _ := end.Value().(bool); b {
				return nil
			}
			row, err := call(tbl, "GetNextRow")
			if err != nil {
				return err
			}
			e := outlook.Entry{}
			if v, err := oleutil.CallMethod(row, "Item", 1); err == nil {
				e.ID = v.ToString()
			}
			if v, err := oleutil.CallMethod(row, "Item", 2); err == nil {
				if t, ok := v.Value().(time.Time); ok {
					e.Modified = t.UTC()
				}
			}
			if v, err := oleutil.CallMethod(row, "BinaryToString", 3); err == nil {
				e.ChangeKey = v.ToString()
			}
			if v, err := oleutil.CallMethod(row, "Item", 5); err == nil {
				e.UID = v.ToString()
			}
			class := ""
			if v, err := oleutil.CallMethod(row, "Item", 4); err == nil {
				class = v.ToString()
			}
			k := pst.KindOf(class)
			if k == pst.KindAppointment || k == pst.KindContact {
				out = append(out, e)
			}
		}
	})
	return out, err
}

// Read implements outlook.Bridge.
func (s *session) Read(ctx context.Context, f outlook.FolderRef, id string) (*outlook.Item, error) {
	var out *outlook.Item
	err := s.do(ctx, func() error {
		it, err := call(s.ns, "GetItemFromID", id)
		if err != nil {
			return err
		}
		out, err = s.readItem(it, id)
		return err
	})
	return out, err
}

func (s *session) readItem(it *ole.IDispatch, id string) (*outlook.Item, error) {
	class, err := getString(it, "MessageClass")
	if err != nil {
		return nil, err
	}
	refs := outlook.ContactProps
	if pst.KindOf(class) == pst.KindAppointment {
		refs = outlook.AppointmentProps
	}
	bag := outlook.NewPropBag()
	bag.Set(outlook.PropRef{Tag: pst.TagMessageClass, Type: pst.TypeString}, class)
	if err := readProps(it, refs, bag); err != nil {
		return nil, err
	}
	m := &pst.Message{}
	if rs, err := recipients(it); err == nil {
		m.Recipients = rs
	} else if errors.Is(err, outlook.ErrBlocked) {
		return nil, err
	}
	if pst.KindOf(class) == pst.KindAppointment {
		if m.Attachments, err = s.exceptions(it); err != nil {
			return nil, err
		}
	} else {
		a, err := picture(it)
		if err != nil {
			return nil, err
		}
		if a != nil {
			m.Attachments = append(m.Attachments, a)
		}
	}
	m.Props = bag.Props()
	e := outlook.Entry{ID: id}
	e.Modified, _ = m.Props.Time(pst.TagLastModificationTime)
	if up, err := call(mustObj(it, "UserProperties"), "Find", outlook.UIDProperty); err == nil && up != nil {
		if v, err := get(up, "Value"); err == nil {
			e.UID = v.ToString()
		}
	}
	return &outlook.Item{Entry: e, Msg: m}, nil
}

func mustObj(d *ole.IDispatch, name string) *ole.IDispatch {
	o, _ := getObj(d, name)
	return o
}

// readProps asks PropertyAccessor for every property of refs at once; a
// property the item lacks comes back as an error value and is left out.
func readProps(it *ole.IDispatch, refs []outlook.PropRef, bag *outlook.PropBag) error {
	pa, err := getObj(it, "PropertyAccessor")
	if err != nil {
		return err
	}
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.DASL()
	}
	v, err := oleutil.CallMethod(pa, "GetProperties", names)
	if err != nil {
		return fmt.Errorf("PropertyAccessor.GetProperties: %w", mapErr(err, nil))
	}
	arr := v.ToArray()
	if arr == nil {
		return errors.New("PropertyAccessor.GetProperties: no array")
	}
	vals := arr.ToValueArray()
	for i, r := range refs {
		if i >= len(vals) || vals[i] == nil {
			continue
		}
		if x, ok := convert(r, vals[i]); ok {
			bag.Set(r, x)
		}
	}
	return nil
}

// convert turns a PropertyAccessor value into pst.Property.Value's type.
func convert(r outlook.PropRef, v any) (any, bool) {
	switch r.Type {
	case pst.TypeString, pst.TypeString8:
		s, ok := v.(string)
		return s, ok
	case pst.TypeInt32:
		switch x := v.(type) {
		case int32:
			return x, true
		case int64:
			return int32(x), true
		}
	case pst.TypeInt16:
		switch x := v.(type) {
		case int16:
			return x, true
		case int32:
			return int16(x), true
		}
	case pst.TypeBool:
		b, ok := v.(bool)
		return b, ok
	case pst.TypeTime:
		t, ok := v.(time.Time)
		if !ok {
			return nil, false
		}
		// PropertyAccessor gives PT_SYSTIME values in UTC (the typed
		// members give local time); go-ole returns the fields as they are.
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC), true
	case pst.TypeBinary:
		switch x := v.(type) {
		case []byte:
			return x, true
		case *ole.SafeArrayConversion:
			return x.ToByteArray(), true
		}
	case pst.TypeMultiString:
		switch x := v.(type) {
		case []any:
			var out []string
			for _, e := range x {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
			}
			return out, true
		case *ole.SafeArrayConversion:
			return x.ToStringArray(), true
		}
	}
	return nil, false
}

func recipients(it *ole.IDispatch) ([]*pst.Props, error) {
	rs, err := getObj(it, "Recipients")
	if err != nil {
		return nil, err
	}
	n, err := getInt(rs, "Count")
	if err != nil {
		return nil, err
	}
	var out []*pst.Props
	for i := int64(1); i <= n; i++ {
		r, err := getObj(rs, "Item", i)
		if err != nil {
			return nil, err
		}
		name, _ := getString(r, "Name")
		addr, err := getString(r, "Address") // guarded: may prompt
		if err != nil {
			return nil, err
		}
		typ, _ := getInt(r, "Type")
		resp, _ := getInt(r, "MeetingResponseStatus")
		flags := int32(1)
		if typ == 0 { // olOrganizer
			flags, typ = 3, 1
		}
		out = append(out, pst.NewProps(nil,
			pst.Property{ID: pst.TagDisplayName, Type: pst.TypeString, Value: name},
			pst.Property{ID: pst.TagEmailAddress, Type: pst.TypeString, Value: addr},
			pst.Property{ID: pst.TagSMTPAddress, Type: pst.TypeString, Value: addr},
			pst.Property{ID: pst.TagAddrType, Type: pst.TypeString, Value: "SMTP"},
			pst.Property{ID: pst.TagRecipientType, Type: pst.TypeInt32, Value: int32(typ)},
			pst.Property{ID: pst.TagRecipientFlags, Type: pst.TypeInt32, Value: flags},
			pst.Property{ID: pst.TagRecipientTrackStatus, Type: pst.TypeInt32, Value: int32(resp)},
		))
	}
	return out, nil
}

// exceptions reads the changed occurrences of a series as the embedded
// exception messages the PST holds.
func (s *session) exceptions(it *ole.IDispatch) ([]*pst.Attachment, error) {
	rec, err := get(it, "IsRecurring")
	if err != nil {
		return nil, err
	}
	if b, _ := rec.Value().(bool); !b {
		return nil, nil
	}
	rp, err := call(it, "GetRecurrencePattern")
	if err != nil {
		return nil, err
	}
	exs, err := getObj(rp, "Exceptions")
	if err != nil {
		return nil, err
	}
	n, _ := getInt(exs, "Count")
	var out []*pst.Attachment
	for i := int64(1); i <= n; i++ {
		ex, err := getObj(exs, "Item", i)
		if err != nil {
			return nil, err
		}
		if d, _ := get(ex, "Deleted"); d != nil {
			if b, _ := d.Value().(bool); b {
				continue
			}
		}
		occ, err := getObj(ex, "AppointmentItem")
		if err != nil {
			return nil, err
		}
		bag := outlook.NewPropBag()
		bag.Set(outlook.PropRef{Tag: pst.TagMessageClass, Type: pst.TypeString}, "IPM.OLE.CLASS.{00061055-0000-0000-C000-000000000046}")
		if err := readProps(occ, []outlook.PropRef{
			{Tag: pst.TagBody, Type: pst.TypeString}, outlook.PropStartWhole, outlook.PropEndWhole,
			{Set: pst.PSETIDAppointment, LID: 0x8228, Type: pst.TypeTime},
		}, bag); err != nil {
			return nil, err
		}
		em := &pst.Message{}
		if rs, err := recipients(occ); err == nil {
			em.Recipients = rs
		}
		em.Props = bag.Props()
		out = append(out, &pst.Attachment{Embedded: em, Props: pst.NewProps(nil,
			pst.Property{ID: pst.TagAttachMethod, Type: pst.TypeInt32, Value: int32(5)})})
	}
	return out, nil
}

// picture returns a contact's picture attachment (ContactPicture.jpg).
func picture(it *ole.IDispatch) (*pst.Attachment, error) {
	hp, err := get(it, "HasPicture")
	if err != nil {
		return nil, err
	}
	if b, _ := hp.Value().(bool); !b {
		return nil, nil
	}
	as, err := getObj(it, "Attachments")
	if err != nil {
		return nil, err
	}
	n, _ := getInt(as, "Count")
	for i := int64(1); i <= n; i++ {
		a, err := getObj(as, "Item", i)
		if err != nil {
			return nil, err
		}
		if name, _ := getString(a, "FileName"); !strings.EqualFold(name, "ContactPicture.jpg") {
			continue
		}
		dir, err := os.MkdirTemp("", "pstsync-picture")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		p := filepath.Join(dir, "ContactPicture.jpg")
		if _, err := call(a, "SaveAsFile", p); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		return &pst.Attachment{Data: data, Props: pst.NewProps(nil,
			pst.Property{ID: pst.TagAttachMethod, Type: pst.TypeInt32, Value: int32(1)},
			pst.Property{ID: pst.TagAttachLongFilename, Type: pst.TypeString, Value: "ContactPicture.jpg"},
			pst.Property{ID: pst.TagAttachmentContactPhoto, Type: pst.TypeBool, Value: true})}, nil
	}
	return nil, nil
}

// Write implements outlook.Bridge.
func (s *session) Write(ctx context.Context, f outlook.FolderRef, id string, w *outlook.Write) (outlook.Entry, error) {
	var out outlook.Entry
	err := s.do(ctx, func() error {
		var it *ole.IDispatch
		var err error
		if id == "" {
			fo, err := s.folder(f)
			if err != nil {
				return err
			}
			items, err := getObj(fo, "Items")
			if err != nil {
				return err
			}
			typ := olContactItem
			if w.Class == outlook.ClassAppointment {
				typ = olAppointmentItem
			}
			if it, err = call(items, "Add", typ); err != nil {
				return err
			}
		} else if it, err = call(s.ns, "GetItemFromID", id); err != nil {
			return err
		}
		if w.Class == outlook.ClassAppointment {
			err = s.writeAppointment(it, w)
		} else {
			err = writeContact(it, w)
		}
		if err != nil {
			return fmt.Errorf("%w: %w", outlook.ErrRefused, err)
		}
		if err := setUserProp(it, outlook.UIDProperty, w.UID); err != nil {
			return err
		}
		for _, k := range slices.Sorted(maps.Keys(w.UserProps)) {
			if err := setUserProp(it, k, w.UserProps[k]); err != nil {
				return err
			}
		}
		if _, err := call(it, "Save"); err != nil {
			return fmt.Errorf("%w: save: %w", outlook.ErrRefused, err)
		}
		if w.Recurrence != nil {
			if err := s.writeExceptions(it, w); err != nil {
				return fmt.Errorf("%w: %w", outlook.ErrRefused, err)
			}
		}
		out.ID, _ = getString(it, "EntryID")
		out.UID = w.UID
		if v, err := get(it, "LastModificationTime"); err == nil {
			if t, ok := v.Value().(time.Time); ok {
				out.Modified = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.Local).UTC()
			}
		}
		return nil
	})
	return out, err
}

// setUserProp sets the text user property name (adding it when absent);
// an empty value removes a property the item has.
func setUserProp(it *ole.IDispatch, name, value string) error {
	ups, err := getObj(it, "UserProperties")
	if err != nil {
		return err
	}
	up, err := call(ups, "Find", name)
	if value == "" {
		if err == nil && up != nil {
			_, err = call(up, "Delete")
			return err
		}
		return nil
	}
	if err != nil || up == nil {
		if up, err = call(ups, "Add", name, olText, false); err != nil {
			return err
		}
	}
	return put(up, "Value", value)
}

func (s *session) writeAppointment(it *ole.IDispatch, w *outlook.Write) error {
	// A series is written whole: the old pattern and its exceptions go
	// first, before the times are set (an exception the merged item no
	// longer has must not stay).
	if rec, err := get(it, "IsRecurring"); err == nil {
		if b, _ := rec.Value().(bool); b {
			if _, err := call(it, "ClearRecurrencePattern"); err != nil {
				return err
			}
		}
	}
	allDay, _ := w.Fields["AllDayEvent"].(bool)
	if !allDay && w.TimeZone != "" {
		tzs, err := getObj(s.app, "TimeZones")
		if err != nil {
			return err
		}
		tz, err := getObj(tzs, "Item", w.TimeZone)
		if err != nil {
			return fmt.Errorf("time zone %q: %w", w.TimeZone, err)
		}
		if err := put(it, "StartTimeZone", tz); err != nil {
			return err
		}
		if err := put(it, "EndTimeZone", tz); err != nil {
			return err
		}
	}
	if err := put(it, "AllDayEvent", allDay); err != nil {
		return err
	}
	start, _ := w.Fields["Start"].(time.Time)
	end, _ := w.Fields["End"].(time.Time)
	if err := put(it, "StartInStartTimeZone", start); err != nil {
		return err
	}
	if err := put(it, "EndInEndTimeZone", end); err != nil {
		return err
	}
	for _, k := range []string{"Subject", "Location", "Body"} {
		v, _ := w.Fields[k].(string)
		if err := put(it, k, v); err != nil {
			return err
		}
	}
	for _, k := range []string{"BusyStatus", "Sensitivity", "Importance", "ReminderMinutesBeforeStart"} {
		if v, ok := w.Fields[k].(int); ok {
			if err := put(it, k, int32(v)); err != nil {
				return err
			}
		}
	}
	rs, _ := w.Fields["ReminderSet"].(bool)
	if err := put(it, "ReminderSet", rs); err != nil {
		return err
	}
	if err := put(it, "Categories", strings.Join(w.Categories, ", ")); err != nil {
		return err
	}
	if err := setRecipients(it, w.Recipients); err != nil {
		return err
	}
	if r := w.Recurrence; r != nil {
		rp, err := call(it, "GetRecurrencePattern")
		if err != nil {
			return err
		}
		sets := []kv{{"RecurrenceType", int32(r.Type)}}
		switch r.Type {
		case outlook.RecursWeekly:
			sets = append(sets, kv{"DayOfWeekMask", int32(r.DayOfWeekMask)})
		case outlook.RecursMonthly, outlook.RecursYearly:
			sets = append(sets, kv{"DayOfMonth", int32(r.DayOfMonth)})
		case outlook.RecursMonthNth, outlook.RecursYearNth:
			sets = append(sets, kv{"DayOfWeekMask", int32(r.DayOfWeekMask)}, kv{"Instance", int32(r.Instance)})
		}
		if r.MonthOfYear != 0 {
			sets = append(sets, kv{"MonthOfYear", int32(r.MonthOfYear)})
		}
		if r.Type != outlook.RecursYearly && r.Type != outlook.RecursYearNth {
			sets = append(sets, kv{"Interval", int32(r.Interval)})
		}
		sets = append(sets, kv{"PatternStartDate", r.PatternStart})
		switch {
		case r.Occurrences > 0:
			sets = append(sets, kv{"Occurrences", int32(r.Occurrences)})
		case r.NoEnd:
			sets = append(sets, kv{"NoEndDate", true})
		default:
			sets = append(sets, kv{"PatternEndDate", r.PatternEnd})
		}
		for _, x := range sets {
			if err := put(rp, x.k, x.v); err != nil {
				return err
			}
		}
	}
	return nil
}

// kv is one member to set.
type kv struct {
	k string
	v any
}

func setRecipients(it *ole.IDispatch, want []outlook.Recipient) error {
	rs, err := getObj(it, "Recipients")
	if err != nil {
		return err
	}
	n, _ := getInt(rs, "Count")
	for i := n; i >= 1; i-- {
		if _, err := call(rs, "Remove", i); err != nil {
			return err
		}
	}
	for _, r := range want {
		rc, err := call(rs, "Add", r.Address)
		if err != nil {
			return err
		}
		if err := put(rc, "Type", int32(r.Type)); err != nil {
			return err
		}
	}
	if len(want) > 0 {
		if err := put(it, "MeetingStatus", int32(olMeeting)); err != nil {
			return err
		}
		if _, err := call(rs, "ResolveAll"); err != nil {
			return err
		}
	}
	return nil
}

// writeExceptions changes and deletes occurrences of a saved series.
func (s *session) writeExceptions(it *ole.IDispatch, w *outlook.Write) error {
	rp, err := call(it, "GetRecurrencePattern")
	if err != nil {
		return err
	}
	loc := time.UTC
	if allDay, _ := w.Fields["AllDayEvent"].(bool); !allDay {
		if l, err := time.LoadLocation(ianaOf(w.TimeZone)); err == nil {
			loc = l
		}
	}
	for _, e := range w.Recurrence.Exceptions {
		// GetOccurrence takes the original start in the PC's local time.
		o := e.Original
		orig := time.Date(o.Year(), o.Month(), o.Day(), o.Hour(), o.Minute(), 0, 0, loc).Local()
		occ, err := call(rp, "GetOccurrence", time.Date(orig.Year(), orig.Month(), orig.Day(), orig.Hour(), orig.Minute(), 0, 0, time.UTC))
		if err != nil {
			return fmt.Errorf("occurrence of %s: %w", o.Format("2006-01-02 15:04"), err)
		}
		if e.Deleted {
			if _, err := call(occ, "Delete"); err != nil {
				return err
			}
			continue
		}
		if !e.Start.IsZero() {
			if err := put(occ, "StartInStartTimeZone", e.Start); err != nil {
				return err
			}
		}
		if !e.End.IsZero() {
			if err := put(occ, "EndInEndTimeZone", e.End); err != nil {
				return err
			}
		}
		for _, x := range []struct {
			k string
			v *string
		}{{"Subject", e.Subject}, {"Location", e.Location}, {"Body", e.Body}} {
			if x.v != nil {
				if err := put(occ, x.k, *x.v); err != nil {
					return err
				}
			}
		}
		if e.Recipients != nil {
			if err := setRecipients(occ, e.Recipients); err != nil {
				return err
			}
		}
		if _, err := call(occ, "Save"); err != nil {
			return err
		}
	}
	return nil
}

func writeContact(it *ole.IDispatch, w *outlook.Write) error {
	if fn, ok := w.Fields["FullName"].(string); ok {
		if err := put(it, "FullName", fn); err != nil {
			return err
		}
	}
	// Every member pstsync knows is set: a field the merged card lacks is
	// cleared, so removing it on the shared side removes it here. Order
	// matters: Outlook parses a whole address (BusinessAddress) into its
	// parts and rebuilds an e-mail display name when the address changes,
	// so whole addresses go first, display names and FileAs last.
	for _, name := range contactMemberOrder() {
		ref := outlook.ContactFields[name]
		v, ok := w.Fields[name]
		if !ok {
			if ref.Type != pst.TypeString {
				continue
			}
			v = ""
		}
		if n, isInt := v.(int); isInt {
			v = int32(n)
		}
		if err := put(it, name, v); err != nil {
			return err
		}
	}
	if sel, ok := w.Fields["SelectedMailingAddress"].(int); ok {
		if err := put(it, "SelectedMailingAddress", int32(sel)); err != nil {
			return err
		}
	}
	if err := put(it, "Categories", strings.Join(w.Categories, ", ")); err != nil {
		return err
	}
	if len(w.Photo) == 0 {
		if hp, err := get(it, "HasPicture"); err == nil {
			if b, _ := hp.Value().(bool); b {
				_, err := call(it, "RemovePicture")
				return err
			}
		}
		return nil
	}
	dir, err := os.MkdirTemp("", "pstsync-picture")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "picture")
	if err := os.WriteFile(p, w.Photo, 0o600); err != nil {
		return err
	}
	_, err = call(it, "AddPicture", p)
	return err
}

// contactMemberOrder lists outlook.ContactFields in the order to set them.
func contactMemberOrder() []string {
	rank := func(n string) int {
		switch {
		case n == "HomeAddress" || n == "BusinessAddress" || n == "OtherAddress":
			return 0
		case strings.HasSuffix(n, "DisplayName"):
			return 2
		case n == "FileAs":
			return 3
		}
		return 1
	}
	names := make([]string, 0, len(outlook.ContactFields))
	for n := range outlook.ContactFields {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if ri, rj := rank(names[i]), rank(names[j]); ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	return names
}

func ianaOf(key string) string {
	if n := cal.IANAName(key); n != "" && key != "UTC" {
		return n
	}
	return "UTC"
}

// Delete implements outlook.Bridge: Outlook moves the item to Deleted
// Items.
func (s *session) Delete(ctx context.Context, f outlook.FolderRef, id string) error {
	return s.do(ctx, func() error {
		it, err := call(s.ns, "GetItemFromID", id)
		if err != nil {
			return err
		}
		_, err = call(it, "Delete")
		return err
	})
}

// Stores implements outlook.Session.
func (s *session) Stores(ctx context.Context) ([]string, error) {
	var out []string
	err := s.do(ctx, func() error {
		def, err := getObj(s.ns, "DefaultStore")
		if err != nil {
			return err
		}
		dn, _ := getString(def, "DisplayName")
		out = append(out, dn)
		stores, err := getObj(s.ns, "Stores")
		if err != nil {
			return err
		}
		n, _ := getInt(stores, "Count")
		for i := int64(1); i <= n; i++ {
			st, err := getObj(stores, "Item", i)
			if err != nil {
				return err
			}
			if name, _ := getString(st, "DisplayName"); name != dn {
				out = append(out, name)
			}
		}
		return nil
	})
	return out, err
}

// CreateFolder implements outlook.Session: a subfolder of the default
// Calendar or Contacts folder.
func (s *session) CreateFolder(ctx context.Context, kind outlook.FolderKind, name string) (outlook.FolderRef, error) {
	var ref outlook.FolderRef
	err := s.do(ctx, func() error {
		parent, err := s.defaultFolder(kind)
		if err != nil {
			return err
		}
		subs, err := getObj(parent, "Folders")
		if err != nil {
			return err
		}
		typ := olFolderCalendar
		if kind == outlook.Contacts {
			typ = olFolderContacts
		}
		if _, err := call(subs, "Add", name, typ); err != nil {
			return err
		}
		st, err := getObj(parent, "Store")
		if err != nil {
			return err
		}
		sn, _ := getString(st, "DisplayName")
		pn, _ := getString(parent, "Name")
		ref = outlook.FolderRef{Kind: outlook.Named, Name: sn + "/" + pn + "/" + name}
		return nil
	})
	return ref, err
}

// RemoveFolder implements outlook.Session: deleted, then removed from
// Deleted Items.
func (s *session) RemoveFolder(ctx context.Context, f outlook.FolderRef) error {
	return s.do(ctx, func() error {
		fo, err := s.folder(f)
		if err != nil {
			return err
		}
		name, _ := getString(fo, "Name")
		if _, err := call(fo, "Delete"); err != nil {
			return err
		}
		del, err := call(s.ns, "GetDefaultFolder", olFolderDeletedItem)
		if err != nil {
			return err
		}
		subs, err := getObj(del, "Folders")
		if err != nil {
			return err
		}
		if gone, err := getObj(subs, "Item", name); err == nil {
			_, err = call(gone, "Delete")
			return err
		}
		return nil
	})
}
