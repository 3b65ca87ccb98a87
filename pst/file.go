package pst

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
)

// File is an open PST/OST file. Its methods are safe for concurrent use.
type File struct {
	d      *ndb
	info   Info
	closer io.Closer
	names  *nameMap
	cp     int // default code page for 8-bit strings
}

const (
	cacheChunkSize = 64 << 10
	cacheMax       = 16 << 20
)

// Open opens the PST file at path. Where the platform allows, the file is
// mapped into memory: blocks are then decoded straight from the kernel's
// page cache, without a read and a copy each. (A file that shrinks while
// it is read then costs the items read afterwards, not the process: see
// recoverInto.)
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, err
	}
	if st.IsDir() {
		fh.Close()
		return nil, fmt.Errorf("pst: %s is a directory", path)
	}
	if mm, err := mapFile(fh, st.Size()); err == nil {
		f, err := NewFile(bytesAt(mm), st.Size())
		if err != nil {
			unmapFile(mm)
			fh.Close()
			return nil, err
		}
		f.closer = &mappedFile{fh: fh, mm: mm}
		return f, nil
	}
	f, err := NewFile(fh, st.Size())
	if err != nil {
		fh.Close()
		return nil, err
	}
	f.closer = fh
	return f, nil
}

// errNoMap: the file is read, not mapped.
var errNoMap = errors.New("pst: file not mapped")

// mappedFile closes a file mapped into memory.
type mappedFile struct {
	fh *os.File
	mm []byte
}

func (m *mappedFile) Close() error {
	err := unmapFile(m.mm)
	if cerr := m.fh.Close(); err == nil {
		err = cerr
	}
	return err
}

// bytesAt reads a file mapped into memory.
type bytesAt []byte

func (b bytesAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// NewFile reads a PST from r, which holds size bytes. Blocks are read
// through a page cache, unless r is the file mapped into memory (Open).
func NewFile(r io.ReaderAt, size int64) (f *File, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, &FormatError{Offset: -1, What: "damaged file", Err: fmt.Errorf("internal error: %v", p)}
		}
	}()
	blocks := r
	if _, mapped := r.(bytesAt); !mapped {
		blocks = newPageCache(r, size, cacheChunkSize, cacheMax)
	}
	d, err := openNDB(blocks, r, size)
	if err != nil {
		return nil, err
	}
	f = &File{d: d, cp: DefaultCodePage,
		info: Info{Format: d.format, Encryption: d.crypt, Size: size, OST: d.ost}}
	if d.format == FormatANSI {
		// ANSI stores name the store's code page nowhere reliable; the
		// message store's PidTagMessageCodepage is used when present.
		if props, err := f.nodeProps(nidMessageStore, 0); err == nil {
			if cp, ok := props.Int(TagMessageCodepage); ok && cp > 0 {
				f.cp = int(cp)
			}
		}
	}
	f.names, err = f.loadNameMap()
	if err != nil {
		// A store without a readable name map still has readable items;
		// named properties will be absent.
		f.names = &nameMap{byKey: map[NamedKey]uint16{}}
	}
	if _, ok := d.nbt[nidRootFolder]; !ok {
		return nil, &FormatError{Offset: -1, What: "root folder missing from the node B-tree"}
	}
	return f, nil
}

// Close releases the file.
func (f *File) Close() error {
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// Info describes the file.
func (f *File) Info() Info { return f.info }

// PropID implements Namer.
func (f *File) PropID(k NamedKey) (uint16, bool) {
	id, ok := f.names.byKey[k]
	return id, ok
}

// NamedKeyOf returns the name behind property id (0x8000 and up).
func (f *File) NamedKeyOf(id uint16) (NamedKey, bool) {
	k, ok := f.names.byID[id]
	return k, ok
}

// makeProps decodes raw properties, or with lazy leaves each to be
// decoded when first read. The code page is the object's own
// PidTagMessageCodepage / PidTagInternetCodepage, else cp.
func (f *File) makeProps(raw []rawProp, cp int, lazy bool) *Props {
	for _, r := range raw {
		if (r.id == TagMessageCodepage || r.id == TagInternetCodepage) && r.typ == TypeInt32 && len(r.val) >= 4 {
			if v := int(int32(binary.LittleEndian.Uint32(r.val))); v > 0 && CodePageEncoding(v) != nil {
				cp = v
				if r.id == TagMessageCodepage {
					break
				}
			}
		}
	}
	p := &Props{list: make([]Property, 0, len(raw)), namer: f, CodePage: cp}
	for _, r := range raw {
		x := lazyProperty(r.id, r.typ, r.val)
		if !lazy {
			v, err := decodeValue(r.typ, r.val, cp)
			if err != nil {
				continue // a malformed value is dropped, the object survives
			}
			if r.id == TagSubject {
				v = stripSubjectPrefix(v)
			}
			x = Property{ID: r.id, Type: r.typ, Value: v}
		}
		if n := len(p.list); n == 0 || p.list[n-1].ID < r.id {
			p.list = append(p.list, x) // the usual case: BTH keys come sorted
		} else {
			p.Set(x)
		}
	}
	return p
}

// stripSubjectPrefix removes the "\x01<n>" marker some writers put in front
// of PidTagSubject to record the prefix length ([MS-PST] 2.5.3.1.1.1).
func stripSubjectPrefix(v any) any {
	s, ok := v.(string)
	if ok && len(s) >= 2 && s[0] == 0x01 {
		return s[2:]
	}
	return v
}

func (f *File) nodeProps(nid uint32, cp int) (*Props, error) {
	n, err := f.d.node(nid, nil)
	if err != nil {
		return nil, err
	}
	h, err := n.heap()
	if err != nil {
		return nil, err
	}
	raw, err := h.propContext(nil)
	if err != nil {
		return nil, err
	}
	if cp == 0 {
		cp = f.cp
	}
	return f.makeProps(raw, cp, false), nil
}

func (f *File) tableRows(nid uint32, only ...uint16) ([][]rawProp, error) {
	if _, ok := f.d.nbt[nid]; !ok {
		return nil, nil // an absent table is an empty one
	}
	n, err := f.d.node(nid, nil)
	if err != nil {
		return nil, err
	}
	return n.tableRows(only...)
}

// recoverInto turns a panic (a bug, or damage the checks missed) into an
// error for the one object being read, so reading goes on.
//
// Callers also defer debug.SetPanicOnFault(debug.SetPanicOnFault(true)):
// reading a mapped file that another program truncated faults, and the
// fault becomes a panic here instead of killing the process.
func recoverInto(err *error, what string) {
	if p := recover(); p != nil {
		if f, ok := p.(interface{ Addr() uintptr }); ok {
			*err = fmt.Errorf("pst: %s: the file changed while it was read (memory fault at %#x): %v", what, f.Addr(), p)
			return
		}
		*err = fmt.Errorf("pst: %s: internal error: %v\n%s", what, p, debug.Stack())
	}
}

// Root returns the root folder (the one holding "Top of Personal Folders").
func (f *File) Root() (fo *Folder, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer recoverInto(&err, "root folder")
	return f.folder(nidRootFolder, nil)
}

func (f *File) folder(nid uint32, parent []string) (*Folder, error) {
	p, err := f.nodeProps(nid, 0)
	if err != nil {
		return nil, fmt.Errorf("pst: folder %#x: %w", nid, err)
	}
	fo := &Folder{NID: nid, Props: p, f: f, Name: p.String(TagDisplayName), ContainerClass: p.String(TagContainerClass)}
	if n, ok := p.Int(TagContentCount); ok {
		fo.ContentCount = int(n)
	}
	if parent != nil {
		fo.Path = append(append([]string(nil), parent...), fo.Name)
	}
	return fo, nil
}

// Subfolders lists the folder's children in hierarchy-table order. A child
// that cannot be read is skipped and reported in the returned error (the
// other children are still returned).
func (fo *Folder) Subfolders() (out []*Folder, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer recoverInto(&err, "hierarchy of "+fo.PathString())
	rows, err := fo.f.tableRows(fo.NID&^0x1F | nidTypeHierarchyTable)
	if err != nil {
		return nil, fmt.Errorf("pst: hierarchy of %q: %w", fo.PathString(), err)
	}
	var errs []error
	seen := map[uint32]bool{}
	for _, r := range rows {
		nid := rowID(r)
		if nid == 0 || nid == fo.NID || seen[nid] {
			continue
		}
		seen[nid] = true
		c, err := fo.f.folder(nid, fo.childParent())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, c)
	}
	return out, errors.Join(errs...)
}

func (fo *Folder) childParent() []string {
	if fo.Path == nil {
		return []string{}
	}
	return fo.Path
}

// PathString returns the folder path joined with "/".
func (fo *Folder) PathString() string { return strings.Join(fo.Path, "/") }

const tagLtpRowID = 0x67F2

func rowID(r []rawProp) uint32 {
	for _, p := range r {
		if p.id == tagLtpRowID && len(p.val) >= 4 {
			return binary.LittleEndian.Uint32(p.val)
		}
	}
	return 0
}

// Items lists the folder's contents table.
func (fo *Folder) Items() (refs []ItemRef, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer recoverInto(&err, "contents of "+fo.PathString())
	rows, err := fo.f.tableRows(fo.NID&^0x1F|nidTypeContentsTable, tagLtpRowID, TagMessageClass)
	if err != nil {
		return nil, fmt.Errorf("pst: contents of %q: %w", fo.PathString(), err)
	}
	out := make([]ItemRef, 0, len(rows))
	for _, r := range rows {
		ref := ItemRef{NID: rowID(r)}
		if ref.NID == 0 {
			continue
		}
		for _, p := range r {
			if p.id == TagMessageClass {
				if v, err := decodeValue(p.typ, p.val, fo.f.cp); err == nil {
					ref.Class, _ = v.(string)
				}
			}
		}
		out = append(out, ref)
	}
	return out, nil
}

// Message reads the item with node id nid, with recipients and attachments
// (embedded messages to any depth). A panic inside is returned as an error.
func (f *File) Message(nid uint32) (m *Message, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer recoverInto(&err, fmt.Sprintf("message %#x", nid))
	a := &arena{}
	n, err := f.d.node(nid, a)
	if err != nil {
		a.release()
		return nil, err
	}
	m, err = f.message(n, 0, 0)
	if err != nil {
		a.release()
		return nil, err
	}
	m.arena = a
	return m, nil
}

const maxEmbedDepth = 32

func (f *File) message(n *node, cp int, depth int) (*Message, error) {
	if depth > maxEmbedDepth {
		return nil, fmt.Errorf("pst: embedded messages nested deeper than %d", maxEmbedDepth)
	}
	h, err := n.heap()
	if err != nil {
		return nil, err
	}
	scratch := getRawProps()
	defer putRawProps(scratch)
	raw, err := h.propContext(*scratch)
	*scratch = raw
	if err != nil {
		return nil, fmt.Errorf("properties: %w", err)
	}
	if cp == 0 {
		cp = f.cp
	}
	m := &Message{Props: f.makeProps(raw, cp, true)}
	if depth == 0 {
		m.NID = n.nid
	}
	mcp := m.Props.CodePage
	if n.hasSub(nidRecipientTable) {
		rows, err := f.subTable(n, nidRecipientTable)
		if err != nil {
			return nil, fmt.Errorf("recipients: %w", err)
		}
		for _, r := range rows {
			m.Recipients = append(m.Recipients, f.makeProps(r, mcp, true))
		}
	}
	if n.hasSub(nidAttachTable) {
		rows, err := f.subTable(n, nidAttachTable)
		if err != nil {
			return nil, fmt.Errorf("attachments: %w", err)
		}
		for i, r := range rows {
			a, err := f.attachment(n, rowID(r), mcp, depth)
			if err != nil {
				return nil, fmt.Errorf("attachment %d: %w", i, err)
			}
			m.Attachments = append(m.Attachments, a)
		}
	}
	return m, nil
}

func (f *File) subTable(n *node, nid uint32) ([][]rawProp, error) {
	s, err := n.sub(nid)
	if err != nil {
		return nil, err
	}
	return s.tableRows()
}

func (f *File) attachment(n *node, nid uint32, cp int, depth int) (*Attachment, error) {
	s, err := n.sub(nid)
	if err != nil {
		return nil, err
	}
	h, err := s.heap()
	if err != nil {
		return nil, err
	}
	scratch := getRawProps()
	defer putRawProps(scratch)
	all, err := h.propContext(*scratch)
	*scratch = all
	if err != nil {
		return nil, fmt.Errorf("attachment %#x: %w", nid, err)
	}
	// A PtypObject value is a heap item holding the node id (and size)
	// of a subnode: a whole embedded message, or an OLE stream. It is
	// resolved below, not kept as a property. (Filtered in place.)
	raw := all[:0]
	var objNID uint32
	for _, r := range all {
		if r.typ == TypeObject {
			if len(r.val) >= 4 {
				objNID = binary.LittleEndian.Uint32(r.val)
			}
			continue
		}
		raw = append(raw, r)
	}
	a := &Attachment{Props: f.makeProps(raw, cp, true)}
	a.Data = a.Props.Binary(TagAttachDataBinary)
	if objNID != 0 {
		obj, err := s.sub(objNID)
		if err != nil {
			return nil, fmt.Errorf("attached object: %w", err)
		}
		if a.Method() == AttachEmbeddedMsg {
			em, err := f.message(obj, cp, depth+1)
			if err != nil {
				return nil, fmt.Errorf("embedded message: %w", err)
			}
			a.Embedded = em
		} else {
			a.Data = obj.data
		}
	}
	return a, nil
}

// Walk visits every folder depth first, parents before children, in
// hierarchy order. A folder whose children cannot be listed is still
// visited; the listing error is passed to fn via errFn when non-nil.
func (f *File) Walk(ctx context.Context, fn func(fo *Folder) error) error {
	root, err := f.Root()
	if err != nil {
		return err
	}
	var errs []error
	seen := map[uint32]bool{}
	var walk func(fo *Folder, depth int) error
	walk = func(fo *Folder, depth int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if seen[fo.NID] || depth > 64 {
			return nil
		}
		seen[fo.NID] = true
		if err := fn(fo); err != nil {
			return err
		}
		subs, err := fo.Subfolders()
		if err != nil {
			errs = append(errs, err)
		}
		for _, c := range subs {
			if err := walk(c, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root, 0); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// nameMap is the decoded name-to-id map ([MS-PST] 2.4.7).
type nameMap struct {
	byKey map[NamedKey]uint16
	byID  map[uint16]NamedKey
}

func (f *File) loadNameMap() (*nameMap, error) {
	nm := &nameMap{byKey: map[NamedKey]uint16{}, byID: map[uint16]NamedKey{}}
	n, err := f.d.node(nidNameToIDMap, nil)
	if err != nil {
		return nm, err
	}
	h, err := n.heap()
	if err != nil {
		return nm, err
	}
	raw, err := h.propContext(nil)
	if err != nil {
		return nm, err
	}
	var guids, entries, names []byte
	for _, r := range raw {
		switch r.id {
		case 0x0002:
			guids = r.val
		case 0x0003:
			entries = r.val
		case 0x0004:
			names = r.val
		}
	}
	for i := 0; i+8 <= len(entries); i += 8 {
		id := binary.LittleEndian.Uint32(entries[i:])
		w := binary.LittleEndian.Uint16(entries[i+4:])
		prop := 0x8000 + binary.LittleEndian.Uint16(entries[i+6:])
		var k NamedKey
		switch gi := int(w >> 1); gi {
		case 0:
			continue
		case 1:
			k.Set = PSMAPI
		case 2:
			k.Set = PSPublicStrings
		default:
			off := (gi - 3) * 16
			if off+16 > len(guids) {
				continue
			}
			k.Set = GUIDFromBytes(guids[off:])
		}
		if w&1 == 0 {
			k.LID = id
		} else {
			off := int(id)
			if off+4 > len(names) {
				continue
			}
			l := int(binary.LittleEndian.Uint32(names[off:]))
			if l < 0 || off+4+l > len(names) {
				continue
			}
			k.Name = utf16le(names[off+4 : off+4+l])
		}
		nm.byKey[k] = prop
		nm.byID[prop] = k
	}
	return nm, nil
}

// NamedProps lists every named property the file defines (for inspection).
func (f *File) NamedProps() []NamedKey {
	out := make([]NamedKey, 0, len(f.names.byKey))
	for k := range f.names.byKey {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return f.names.byKey[out[i]] < f.names.byKey[out[j]] })
	return out
}

// rawPropsPool recycles the lists properties are read into before they
// become a message's or attachment's Props.
var rawPropsPool = sync.Pool{New: func() any { return new([]rawProp) }}

func getRawProps() *[]rawProp { return rawPropsPool.Get().(*[]rawProp) }

func putRawProps(p *[]rawProp) {
	clear(*p) // drop the references to the message's buffers
	*p = (*p)[:0]
	rawPropsPool.Put(p)
}
