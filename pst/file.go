package pst

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
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
	damage []error

	kidsOnce sync.Once
	kids     map[uint32][]uint32 // folder and message nodes by parent id (NBT)
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
//
// Open is strict, as a sync needs: a damaged index (a B-tree page that
// cannot be read) or a missing root folder fails it. OpenRecover reads
// what a damaged file still holds.
func Open(path string) (*File, error) { return open(path, false) }

// OpenRecover opens the PST file at path like Open, but gets out of a
// damaged file everything that can be read: a B-tree page that cannot be
// read costs only the entries below it, the file's pages are then scanned
// for the index pages it lost, and a missing root folder is replaced by an
// empty one; File.Damage lists what could not be read. It fails only when
// no item is left. For an export or an inspection; never for a sync,
// where an item lost (or an old copy found again) must not pass for a
// change.
func OpenRecover(path string) (*File, error) { return open(path, true) }

func open(path string, salvage bool) (*File, error) {
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
		f, err := newFile(bytesAt(mm), st.Size(), salvage)
		if err != nil {
			unmapFile(mm)
			fh.Close()
			return nil, err
		}
		f.closer = &mappedFile{fh: fh, mm: mm}
		return f, nil
	}
	f, err := newFile(fh, st.Size(), salvage)
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
func NewFile(r io.ReaderAt, size int64) (*File, error) { return newFile(r, size, false) }

// NewFileRecover is NewFile for a damaged file: see OpenRecover.
func NewFileRecover(r io.ReaderAt, size int64) (*File, error) { return newFile(r, size, true) }

func newFile(r io.ReaderAt, size int64, salvage bool) (f *File, err error) {
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
	d, err := openNDB(blocks, r, size, salvage)
	if err != nil {
		return nil, err
	}
	f = &File{d: d, cp: DefaultCodePage, damage: d.damage,
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
		if !salvage {
			return nil, &FormatError{Offset: -1, What: "root folder missing from the node B-tree"}
		}
		// Its folders are still found through their parent ids.
		f.damage = append(f.damage, &FormatError{Offset: -1, What: "root folder missing from the node B-tree; replaced by an empty one"})
	}
	return f, nil
}

// Damage lists what could not be read while opening the file: B-tree
// pages (with the entries below them), a missing root folder. Empty for
// an intact file. Items, folders and tables that fail later are reported
// by the calls that read them.
func (f *File) Damage() []error { return f.damage }

// Recovered returns how many index entries a damaged file's page scan
// brought back (entries under B-tree pages that were lost); 0 for an
// intact file, which is never scanned.
func (f *File) Recovered() int { return f.d.recovered }

// children returns the folder and message nodes whose parent id in the
// node B-tree is nid, in node id order. A folder's contents and
// subfolders are listed in its tables too; these ids find what a damaged
// table has lost. (In intact files the two always agree.)
func (f *File) children(nid uint32) []uint32 {
	f.kidsOnce.Do(func() {
		f.kids = map[uint32][]uint32{}
		for id, e := range f.d.nbt {
			switch id & 0x1F {
			case nidTypeNormalFolder, nidTypeSearchFolder, nidTypeNormalMessage:
				if id != e.parent {
					f.kids[e.parent] = append(f.kids[e.parent], id)
				}
			}
		}
		for _, ids := range f.kids {
			slices.Sort(ids)
		}
	})
	return f.kids[nid]
}

// IPMSubtree returns the node id of the folder Outlook shows as the top of
// the mailbox (PidTagIpmSubTreeEntryId of the message store), or 0 when
// the store does not say or cannot be read.
func (f *File) IPMSubtree() uint32 {
	props, err := f.nodeProps(nidMessageStore, 0)
	if err != nil {
		return 0
	}
	id := props.Binary(TagIpmSubTreeEntryID)
	if len(id) < 24 {
		return 0
	}
	nid := binary.LittleEndian.Uint32(id[20:])
	if _, ok := f.d.nbt[nid]; !ok || nid&0x1F != nidTypeNormalFolder {
		return 0
	}
	return nid
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
	// a folder or the store keeps the properties that can be read
	var bad []string
	raw, err := h.propContext(nil, &bad)
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
// A root folder that is missing or cannot be read is replaced by an empty
// one, returned with the error: its subfolders are still found.
func (f *File) Root() (fo *Folder, err error) {
	defer func() {
		if fo == nil {
			fo = &Folder{NID: nidRootFolder, Props: NewProps(f), f: f}
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer recoverInto(&err, "root folder")
	fo, err = f.folder(nidRootFolder, nil)
	if err != nil {
		fo.Name = ""
	}
	return fo, err
}

// folder reads folder nid. A folder whose properties cannot be read comes
// back named after its node id, with the error: its contents and
// subfolders may still be readable.
func (f *File) folder(nid uint32, parent []string) (*Folder, error) {
	p, err := f.nodeProps(nid, 0)
	fo := &Folder{NID: nid, f: f, ParentNID: f.d.nbt[nid].parent}
	if err != nil {
		err = fmt.Errorf("pst: folder %#x: %w", nid, err)
		p = NewProps(f)
		fo.Name = fmt.Sprintf("Folder %#x", nid)
	} else {
		fo.Name, fo.ContainerClass = p.String(TagDisplayName), p.String(TagContainerClass)
		if n, ok := p.Int(TagContentCount); ok {
			fo.ContentCount = int(n)
		}
	}
	fo.Props = p
	if parent != nil {
		fo.Path = append(append([]string(nil), parent...), fo.Name)
	}
	return fo, err
}

// Subfolders lists the folder's children in hierarchy-table order, then
// those the table lost (found through their parent ids in the node
// B-tree). The returned error reports a damaged table and children that
// cannot be read; such a child is still returned when anything of it may
// be readable.
func (fo *Folder) Subfolders() (out []*Folder, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer recoverInto(&err, "hierarchy of "+fo.PathString())
	var errs []error
	var ids []uint32
	if fo.synthetic {
		ids = fo.orphanFolders
	} else {
		rows, err := fo.f.tableRows(fo.NID&^0x1F | nidTypeHierarchyTable)
		if err != nil {
			errs = append(errs, fmt.Errorf("pst: hierarchy of %q: %w", fo.PathString(), err))
		}
		for _, r := range rows {
			ids = append(ids, rowID(r))
		}
		for _, nid := range fo.f.children(fo.NID) {
			if t := nid & 0x1F; t == nidTypeNormalFolder || t == nidTypeSearchFolder {
				ids = append(ids, nid)
			}
		}
	}
	seen := map[uint32]bool{}
	for _, nid := range ids {
		if nid == 0 || nid == fo.NID || seen[nid] {
			continue
		}
		seen[nid] = true
		c, err := fo.f.folder(nid, fo.childParent())
		if err != nil {
			errs = append(errs, err)
			if _, ok := fo.f.d.nbt[nid]; !ok {
				continue // a table row naming a node that is not there
			}
		}
		c.ParentNID = fo.NID
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

// Items lists the folder's contents table, then the items the table lost
// (messages whose parent id in the node B-tree is this folder; their
// Class is empty). The error reports a damaged table; the items found are
// returned with it.
func (fo *Folder) Items() (refs []ItemRef, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer recoverInto(&err, "contents of "+fo.PathString())
	if fo.synthetic {
		for _, nid := range fo.orphans {
			refs = append(refs, ItemRef{NID: nid})
		}
		return refs, nil
	}
	rows, err := fo.f.tableRows(fo.NID&^0x1F|nidTypeContentsTable, tagLtpRowID, TagMessageClass)
	if err != nil {
		err = fmt.Errorf("pst: contents of %q: %w", fo.PathString(), err)
	}
	out := make([]ItemRef, 0, len(rows))
	listed := make(map[uint32]bool, len(rows))
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
		listed[ref.NID] = true
		out = append(out, ref)
	}
	if !fo.IsSearchFolder() {
		for _, nid := range fo.f.children(fo.NID) {
			if nid&0x1F == nidTypeNormalMessage && !listed[nid] {
				out = append(out, ItemRef{NID: nid})
			}
		}
	}
	return out, err
}

// Message reads the item with node id nid, with recipients and attachments
// (embedded messages to any depth). Any part that cannot be read fails
// the whole item (see Salvage). A panic inside is returned as an error.
func (f *File) Message(nid uint32) (m *Message, err error) {
	return f.readMessage(nid, false)
}

// Salvage reads the item with node id nid like Message, but keeps every
// part that can be read: a property, the recipients, an attachment or an
// embedded message that cannot be read is left out and named in
// m.Missing. It fails only when the item's own properties cannot be read
// at all. For an export, which would rather have most of a damaged item
// than none of it; a sync must use Message, so that a part missing is
// never taken for a part deleted.
func (f *File) Salvage(nid uint32) (m *Message, err error) {
	return f.readMessage(nid, true)
}

func (f *File) readMessage(nid uint32, salvage bool) (m *Message, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer recoverInto(&err, fmt.Sprintf("message %#x", nid))
	a := &arena{}
	n, err := f.d.node(nid, a)
	if err != nil {
		a.release()
		return nil, err
	}
	m, err = f.message(n, 0, 0, salvage)
	if err != nil {
		a.release()
		return nil, err
	}
	m.arena = a
	return m, nil
}

const maxEmbedDepth = 32

func (f *File) message(n *node, cp int, depth int, salvage bool) (*Message, error) {
	if depth > maxEmbedDepth {
		return nil, fmt.Errorf("pst: embedded messages nested deeper than %d", maxEmbedDepth)
	}
	h, err := n.heap()
	if err != nil {
		return nil, err
	}
	scratch := getRawProps()
	defer putRawProps(scratch)
	var missing []string
	var bad *[]string
	if salvage {
		bad = &missing
	}
	raw, err := h.propContext(*scratch, bad)
	*scratch = raw
	if err != nil {
		return nil, fmt.Errorf("properties: %w", err)
	}
	if cp == 0 {
		cp = f.cp
	}
	m := &Message{Props: f.makeProps(raw, cp, true), Missing: missing}
	if depth == 0 {
		m.NID = n.nid
	}
	// part records a part that cannot be read: the item fails, or with
	// salvage, goes on without it.
	part := func(what string, err error) error {
		err = fmt.Errorf("%s: %w", what, err)
		if !salvage {
			return err
		}
		m.Missing = append(m.Missing, firstLine(err.Error()))
		return nil
	}
	mcp := m.Props.CodePage
	if n.hasSub(nidRecipientTable) {
		rows, err := f.subTable(n, nidRecipientTable)
		if err != nil {
			if err := part("recipients", err); err != nil {
				return nil, err
			}
		}
		for _, r := range rows {
			m.Recipients = append(m.Recipients, f.makeProps(r, mcp, true))
		}
	} else if salvage && n.bidSub != 0 && n.subs == nil {
		// the subnode tree itself is unreadable: recipients and
		// attachments, if the item had any, are lost
		if _, err := n.d.subnodes(n.bidSub, n.arena); err != nil {
			m.Missing = append(m.Missing, firstLine(fmt.Sprintf("recipients and attachments: %v", err)))
		}
	}
	if n.hasSub(nidAttachTable) {
		rows, err := f.subTable(n, nidAttachTable)
		if err != nil {
			if err := part("attachments", err); err != nil {
				return nil, err
			}
		}
		for i, r := range rows {
			a, err := f.attachment(n, rowID(r), mcp, depth, salvage)
			if err != nil {
				if err := part(fmt.Sprintf("attachment %d", i), err); err != nil {
					return nil, err
				}
				continue
			}
			for _, x := range a.missing {
				m.Missing = append(m.Missing, fmt.Sprintf("attachment %d: %s", i, x))
			}
			a.missing = nil
			m.Attachments = append(m.Attachments, a)
		}
	}
	return m, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func (f *File) subTable(n *node, nid uint32) ([][]rawProp, error) {
	s, err := n.sub(nid)
	if err != nil {
		return nil, err
	}
	return s.tableRows()
}

func (f *File) attachment(n *node, nid uint32, cp int, depth int, salvage bool) (*Attachment, error) {
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
	var missing []string
	var bad *[]string
	if salvage {
		bad = &missing
	}
	all, err := h.propContext(*scratch, bad)
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
	a := &Attachment{Props: f.makeProps(raw, cp, true), missing: missing}
	a.Data = a.Props.Binary(TagAttachDataBinary)
	if objNID != 0 {
		obj, err := s.sub(objNID)
		if err != nil {
			return nil, fmt.Errorf("attached object: %w", err)
		}
		if a.Method() == AttachEmbeddedMsg {
			em, err := f.message(obj, cp, depth+1, salvage)
			if err != nil {
				return nil, fmt.Errorf("embedded message: %w", err)
			}
			for _, x := range em.Missing {
				a.missing = append(a.missing, "embedded message: "+x)
			}
			em.Missing = nil
			a.Embedded = em
		} else {
			a.Data = obj.data
		}
	}
	return a, nil
}

// Walk visits every folder depth first, parents before children, in
// hierarchy order. A folder whose children cannot be listed is still
// visited, and so are the children found through the node B-tree; the
// listing errors are joined in the returned error. In a damaged file,
// folders and items whose parent folder was not reached come last, under
// a folder named "Recovered" below the root.
func (f *File) Walk(ctx context.Context, fn func(fo *Folder) error) error {
	var errs []error
	root, err := f.Root()
	if err != nil {
		errs = append(errs, err)
	}
	seen := map[uint32]bool{}
	var walk func(fo *Folder, depth int) error
	walk = func(fo *Folder, depth int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if (!fo.synthetic && seen[fo.NID]) || depth > 64 {
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
	if rec := f.orphans(seen, root); rec != nil {
		if err := walk(rec, 1); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

// RecoveredFolder is the name of the folder that holds, in a damaged
// file, the folders and items whose parent folder could not be reached.
const RecoveredFolder = "Recovered"

// orphans returns a folder holding the folder and message nodes whose
// parent folder was not visited (seen), or nil when there are none (as
// in every intact file). An orphan folder's own subfolders and items are
// listed by it, not here.
func (f *File) orphans(seen map[uint32]bool, root *Folder) *Folder {
	lost := map[uint32]bool{} // folders not reached
	for nid := range f.d.nbt {
		if isFolder(nid) && !seen[nid] {
			lost[nid] = true
		}
	}
	var items, folders []uint32
	for nid, e := range f.d.nbt {
		switch {
		case nid&0x1F == nidTypeNormalMessage && !seen[e.parent] && !lost[e.parent]:
			items = append(items, nid)
		case lost[nid] && (!lost[e.parent] || e.parent == nid):
			folders = append(folders, nid)
		}
	}
	if len(items) == 0 && len(folders) == 0 {
		return nil
	}
	slices.Sort(items)
	slices.Sort(folders)
	return &Folder{Name: RecoveredFolder, Path: append(slices.Clip(root.childParent()), RecoveredFolder),
		Props: NewProps(f), f: f, ParentNID: root.NID, synthetic: true, orphans: items, orphanFolders: folders}
}

func isFolder(nid uint32) bool {
	t := nid & 0x1F
	return t == nidTypeNormalFolder || t == nidTypeSearchFolder
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
	var bad []string
	raw, err := h.propContext(nil, &bad)
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
