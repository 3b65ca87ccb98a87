package pst

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Limits that keep a damaged file from making the reader loop or allocate
// without bound.
const (
	maxBTreeDepth   = 16
	maxBlockSize    = 64 << 10  // a single block's data
	maxNodeDataSize = 512 << 20 // a node's data after XBLOCK expansion
	maxSubnodeDepth = 8
)

// Node ids of well-known nodes ([MS-PST] 2.4.1).
const (
	nidMessageStore   = 0x21
	nidNameToIDMap    = 0x61
	nidRootFolder     = 0x122
	nidRecipientTable = 0x692
	nidAttachTable    = 0x671
)

// NID types ([MS-PST] 2.2.2.1).
const (
	nidTypeHID            = 0x00
	nidTypeNormalFolder   = 0x02
	nidTypeSearchFolder   = 0x03
	nidTypeNormalMessage  = 0x04
	nidTypeAttachment     = 0x05
	nidTypeHierarchyTable = 0x0D
	nidTypeContentsTable  = 0x0E
	nidTypeAssocContents  = 0x0F
)

// ErrNotPST is returned (wrapped) when the file does not start with the
// PST signature.
var ErrNotPST = errors.New("not a PST or OST file (bad signature)")

// ErrTruncated is returned (wrapped) when a structure points past the end
// of the file: the file was cut short (an interrupted copy or download).
var ErrTruncated = errors.New("file is truncated")

// errChecksum marks a B-tree page whose checksum is wrong: damage a
// strict open ignores, as it always has.
var errChecksum = errors.New("checksum mismatch")

// ErrHeaderChecksum is returned (wrapped) when the header CRC is wrong.
var ErrHeaderChecksum = errors.New("header checksum mismatch: the file is damaged")

type nbtEntry struct {
	nid     uint32
	bidData uint64
	bidSub  uint64
	parent  uint32
}

type bbtEntry struct {
	bid uint64
	ib  int64
	cb  uint16
}

// ndb is the node database layer: header, the two B-trees and blocks.
type ndb struct {
	r        io.ReaderAt // blocks, through the page cache
	cache    *pageCache  // r, when it is the page cache
	raw      io.ReaderAt // header and B-tree pages, read once each: directly
	mm       []byte      // the file mapped into memory, or nil
	size     int64
	format   Format
	crypt    Encryption
	ost      bool
	nbt      map[uint32]nbtEntry
	bbt      map[uint64]bbtEntry
	pageSize int64
	// damage lists the B-tree pages that could not be read (or whose
	// checksum was wrong) while opening; recovered counts the entries the
	// page scan brought back (see scanPages).
	damage    []error
	recovered int
}

func (d *ndb) unicode() bool { return d.format != FormatANSI }

func (d *ndb) readAt(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 || off+int64(n) > d.size {
		return nil, &FormatError{Offset: off, What: fmt.Sprintf("read of %d bytes past end of file (size %d)", n, d.size), Err: ErrTruncated}
	}
	b := make([]byte, n)
	if _, err := d.raw.ReadAt(b, off); err != nil && !(errors.Is(err, io.EOF)) {
		return nil, fmt.Errorf("pst: read at %#x: %w", off, err)
	}
	return b, nil
}

// msCRC is the CRC of [MS-PST] 5.3: CRC-32 (0xEDB88320) seeded with 0 and
// without the final inversion.
func msCRC(b []byte) uint32 {
	return ^crc32.Update(0xFFFFFFFF, crc32.IEEETable, b)
}

// openNDB reads the header and both B-trees from raw; blocks are read
// through r (raw behind a page cache, or the mapped file itself). The
// B-tree pages lie scattered over the file and are read once each, so
// they bypass the cache, and the two trees load in parallel.
//
// Strict (salvage false), the first B-tree page that cannot be read fails
// it, and checksum mismatches are ignored (as before recovery existed: a
// sync reads files as they are); with salvage, see OpenRecover.
func openNDB(r, raw io.ReaderAt, size int64, salvage bool) (*ndb, error) {
	if size < 512 {
		return nil, &FormatError{Offset: -1, What: fmt.Sprintf("file too small (%d bytes) to be a PST", size), Err: ErrNotPST}
	}
	d := &ndb{r: r, raw: raw, size: size}
	d.cache, _ = r.(*pageCache)
	if mm, ok := r.(bytesAt); ok {
		d.mm = mm
	}
	h, err := d.readAt(0, 564)
	if err != nil {
		h, err = d.readAt(0, 512)
		if err != nil {
			return nil, err
		}
	}
	if string(h[0:4]) != "!BDN" {
		return nil, &FormatError{Offset: 0, What: "it does not start with the PST signature", Err: ErrNotPST}
	}
	switch string(h[8:10]) {
	case "SM":
	case "SO":
		d.ost = true
	case "AB": // PAB files share the container; we treat them like PSTs
	default:
		return nil, &FormatError{Offset: 8, What: fmt.Sprintf("unknown content type %q", h[8:10]), Err: ErrNotPST}
	}
	ver := binary.LittleEndian.Uint16(h[10:12])
	var nbtIB, bbtIB int64
	var nbtBID, bbtBID uint64
	switch {
	case ver == 14 || ver == 15:
		d.format = FormatANSI
		d.pageSize = 512
		if got, want := msCRC(h[8:8+471]), binary.LittleEndian.Uint32(h[4:8]); got != want {
			return nil, &FormatError{Offset: 4, What: "header", Err: ErrHeaderChecksum}
		}
		nbtBID, nbtIB = uint64(binary.LittleEndian.Uint32(h[184:])), int64(binary.LittleEndian.Uint32(h[188:]))
		bbtBID, bbtIB = uint64(binary.LittleEndian.Uint32(h[192:])), int64(binary.LittleEndian.Uint32(h[196:]))
		d.crypt = Encryption(h[461])
	case ver >= 23:
		d.format = FormatUnicode
		d.pageSize = 512
		if ver >= 36 {
			d.format = FormatUnicode4K
			d.pageSize = 4096
		}
		if len(h) < 564 {
			return nil, &FormatError{Offset: 0, What: "header truncated"}
		}
		if got, want := msCRC(h[8:8+471]), binary.LittleEndian.Uint32(h[4:8]); got != want {
			return nil, &FormatError{Offset: 4, What: "header", Err: ErrHeaderChecksum}
		}
		nbtBID, nbtIB = binary.LittleEndian.Uint64(h[216:]), int64(binary.LittleEndian.Uint64(h[224:]))
		bbtBID, bbtIB = binary.LittleEndian.Uint64(h[232:]), int64(binary.LittleEndian.Uint64(h[240:]))
		d.crypt = Encryption(h[513])
	default:
		return nil, &FormatError{Offset: 10, What: fmt.Sprintf("unsupported format version %d", ver)}
	}
	_ = nbtBID
	_ = bbtBID
	switch d.crypt {
	case EncryptNone, EncryptPermute, EncryptCyclic:
	default:
		return nil, &FormatError{Offset: -1, What: fmt.Sprintf("unknown encryption method %d", d.crypt)}
	}
	// Sized for a typical file (about one block per 2 KiB, one node per
	// 8 KiB) so that loading rarely regrows the maps.
	d.nbt = make(map[uint32]nbtEntry, min(size/8192, 1<<20))
	d.bbt = make(map[uint64]bbtEntry, min(size/2048, 1<<22))
	// A damaged page costs the entries below it, not the file: its
	// siblings are still read, and the page is listed in d.damage.
	nbtDone := make(chan []error, 1)
	go func() {
		w := &treeWalk{d: d, ptype: ptypeNBT, seen: map[int64]bool{}}
		defer func() {
			if p := recover(); p != nil {
				w.damage = append(w.damage, &FormatError{Offset: nbtIB, What: "node B-tree", Err: fmt.Errorf("internal error: %v", p)})
			}
			nbtDone <- w.damage
		}()
		w.walk(nbtIB, 0, -1)
	}()
	bw := &treeWalk{d: d, ptype: ptypeBBT, seen: map[int64]bool{}}
	bw.walk(bbtIB, 0, -1)
	d.damage = append(bw.damage, <-nbtDone...)
	if !salvage {
		for _, err := range d.damage {
			if !errors.Is(err, errChecksum) {
				return nil, err
			}
		}
		d.damage = nil
		return d, nil
	}
	if len(d.damage) > 0 {
		// Only a damaged file is scanned: in an intact one, the pages a
		// scan finds beyond the trees are superseded copies.
		d.recovered = d.scanPages()
	}
	if len(d.damage) > 0 && !d.anyItem() {
		return nil, fmt.Errorf("pst: no item left to read: %w", d.damage[0])
	}
	return d, nil
}

// anyItem reports whether the node B-tree holds an item whose data the
// block B-tree can find: a damaged file without one has nothing to give.
func (d *ndb) anyItem() bool {
	for nid, e := range d.nbt {
		if _, ok := d.bbt[e.bidData&^1]; ok && nid&0x1F == nidTypeNormalMessage {
			return true
		}
	}
	return false
}

// Page types ([MS-PST] 2.2.2.7.1).
const (
	ptypeBBT  = 0x80
	ptypeNBT  = 0x81
	ptypeAMap = 0x84
)

// trailer returns where a page's type and CRC lie, and how many bytes
// the CRC covers; ok is false where the layout is not verified on a real
// file (4 KiB pages), and checksums are then not checked.
func (d *ndb) trailer() (ptypeAt, crcAt, crcLen int, ok bool) {
	switch d.format {
	case FormatANSI:
		return 500, 508, 500, true
	case FormatUnicode:
		return 496, 500, 496, true
	}
	return 4080, 4084, 4080, false
}

// pageCRCOK reports whether page's trailer CRC matches its contents (true
// where checksums are not checked).
func (d *ndb) pageCRCOK(page []byte) bool {
	_, crcAt, crcLen, ok := d.trailer()
	return !ok || msCRC(page[:crcLen]) == binary.LittleEndian.Uint32(page[crcAt:])
}

// treeWalk loads one B-tree, noting the pages it cannot read.
type treeWalk struct {
	d      *ndb
	ptype  byte
	seen   map[int64]bool
	damage []error
}

func (w *treeWalk) name() string {
	if w.ptype == ptypeNBT {
		return "node B-tree"
	}
	return "block B-tree"
}

// walk reads the page at ib, at depth depth below the root and, when
// level >= 0, expected at that level; a page that cannot be read is noted
// and skipped with everything below it.
func (w *treeWalk) walk(ib int64, depth, level int) {
	if err := w.d.walkBTree(ib, w.ptype, depth, level, w.seen, w.walk); err != nil {
		w.damage = append(w.damage, fmt.Errorf("pst: %s: %w; the entries below it are missing", w.name(), err))
	}
}

// walkBTree loads the leaf entries of the NBT (ptype 0x81) or BBT (0x80)
// page at ib into memory, and calls child for each page it points to. A
// page whose checksum is wrong is still used (one flipped bit in it
// should not cost its other entries) and reported in the error.
func (d *ndb) walkBTree(ib int64, ptype byte, depth, level int, seen map[int64]bool, child func(ib int64, depth, level int)) error {
	if depth > maxBTreeDepth {
		return &FormatError{Offset: ib, What: "B-tree too deep (loop?)"}
	}
	if seen[ib] {
		return &FormatError{Offset: ib, What: "B-tree page visited twice (loop)"}
	}
	seen[ib] = true
	page, err := d.readAt(ib, int(d.pageSize))
	if err != nil {
		return err
	}
	cEnt, cbEnt, cLevel, ptypeAt := d.pageHeader(page)
	if page[ptypeAt] != ptype || page[ptypeAt+1] != ptype {
		return &FormatError{Offset: ib, What: fmt.Sprintf("B-tree page type %#x, want %#x", page[ptypeAt], ptype)}
	}
	if cbEnt == 0 || cEnt*cbEnt > ptypeAt {
		return &FormatError{Offset: ib, What: fmt.Sprintf("B-tree page with %d entries of %d bytes", cEnt, cbEnt)}
	}
	if level >= 0 && cLevel != level {
		return &FormatError{Offset: ib, What: fmt.Sprintf("B-tree page at level %d, want %d", cLevel, level)}
	}
	var bad error
	if !d.pageCRCOK(page) {
		bad = &FormatError{Offset: ib, What: "B-tree page (its entries were used)", Err: errChecksum}
	}
	if cLevel == 0 {
		if err := d.leafEntries(page, ptype, cEnt, cbEnt, true); err != nil {
			return &FormatError{Offset: ib, What: err.Error()}
		}
		return bad
	}
	for i := 0; i < cEnt; i++ {
		e := page[i*cbEnt : (i+1)*cbEnt]
		var c int64
		if d.unicode() {
			if len(e) < 24 {
				return &FormatError{Offset: ib, What: "short BTENTRY"}
			}
			c = int64(binary.LittleEndian.Uint64(e[16:]))
		} else {
			if len(e) < 12 {
				return &FormatError{Offset: ib, What: "short BTENTRY"}
			}
			c = int64(binary.LittleEndian.Uint32(e[8:]))
		}
		child(c, depth+1, cLevel-1)
	}
	return bad
}

// pageHeader returns a B-tree page's entry count, entry size, level and
// where its trailer's type byte lies.
func (d *ndb) pageHeader(page []byte) (cEnt, cbEnt, cLevel, ptypeAt int) {
	switch d.format {
	case FormatANSI:
		return int(page[496]), int(page[498]), int(page[499]), 500
	case FormatUnicode:
		return int(page[488]), int(page[490]), int(page[491]), 496
	}
	return int(binary.LittleEndian.Uint16(page[4056:])), int(page[4060]), int(page[4061]), 4080
}

// leafEntries loads the cEnt entries of a leaf page into the NBT (ptype
// 0x81) or BBT map; with replace false, keys already there are kept and
// the number of new ones is returned.
func (d *ndb) leafEntries(page []byte, ptype byte, cEnt, cbEnt int, replace bool) error {
	_, err := d.addLeafEntries(page, ptype, cEnt, cbEnt, replace)
	return err
}

func (d *ndb) addLeafEntries(page []byte, ptype byte, cEnt, cbEnt int, replace bool) (added int, err error) {
	u := d.unicode()
	for i := 0; i < cEnt; i++ {
		e := page[i*cbEnt : (i+1)*cbEnt]
		if ptype == ptypeNBT {
			var n nbtEntry
			if u {
				if len(e) < 32 {
					return added, errors.New("short NBTENTRY")
				}
				n = nbtEntry{
					nid:     uint32(binary.LittleEndian.Uint64(e[0:])),
					bidData: binary.LittleEndian.Uint64(e[8:]),
					bidSub:  binary.LittleEndian.Uint64(e[16:]),
					parent:  binary.LittleEndian.Uint32(e[24:]),
				}
			} else {
				if len(e) < 16 {
					return added, errors.New("short NBTENTRY")
				}
				n = nbtEntry{
					nid:     binary.LittleEndian.Uint32(e[0:]),
					bidData: uint64(binary.LittleEndian.Uint32(e[4:])),
					bidSub:  uint64(binary.LittleEndian.Uint32(e[8:])),
					parent:  binary.LittleEndian.Uint32(e[12:]),
				}
			}
			if !replace {
				if _, ok := d.nbt[n.nid]; ok {
					continue
				}
				added++
			}
			d.nbt[n.nid] = n
			continue
		}
		var b bbtEntry
		if u {
			if len(e) < 20 {
				return added, errors.New("short BBTENTRY")
			}
			b = bbtEntry{bid: binary.LittleEndian.Uint64(e[0:]), ib: int64(binary.LittleEndian.Uint64(e[8:])), cb: binary.LittleEndian.Uint16(e[16:])}
		} else {
			if len(e) < 10 {
				return added, errors.New("short BBTENTRY")
			}
			b = bbtEntry{bid: uint64(binary.LittleEndian.Uint32(e[0:])), ib: int64(binary.LittleEndian.Uint32(e[4:])), cb: binary.LittleEndian.Uint16(e[8:])}
		}
		if !replace {
			if _, ok := d.bbt[b.bid&^1]; ok {
				continue
			}
			added++
		}
		d.bbt[b.bid&^1] = b
	}
	return added, nil
}

// AMap geometry ([MS-PST] 2.2.2.7.2): the first allocation map page lies
// at 0x4400, and each maps the amapSpan bytes from its own offset, one bit
// per 64 bytes, the high bit of a byte first.
const (
	amapFirst = 0x4400
	amapSpan  = 496 * 8 * 64
)

// scanPages looks at every page of a damaged file for B-tree leaf pages
// with a valid checksum (for the node B-tree: that the allocation map says
// are in use), and adds the entries the walk did not reach: the items under
// a lost B-tree page come back. Entries the walk found always win. It
// returns how many entries it added. (libpff and pffexport -m all recover
// items the same way.)
func (d *ndb) scanPages() int {
	ptypeAt, _, _, ok := d.trailer()
	if !ok {
		return 0 // checksums unverified on this layout: a scan could add garbage
	}
	ps := d.pageSize
	page := make([]byte, ps)
	var amap []byte // the allocation map page covering the current span
	amapAt := int64(-1)
	added := 0
	for off := int64(amapFirst); off+ps <= d.size; off += ps {
		if at := amapFirst + (off-amapFirst)/amapSpan*amapSpan; at != amapAt {
			amapAt, amap = at, nil
			if b, err := d.readAt(at, int(ps)); err == nil && b[ptypeAt] == ptypeAMap && b[ptypeAt+1] == ptypeAMap && d.pageCRCOK(b) {
				amap = b
			}
		}
		if off == amapAt {
			continue
		}
		if _, err := d.raw.ReadAt(page, off); err != nil && !errors.Is(err, io.EOF) {
			continue
		}
		pt := page[ptypeAt]
		if (pt != ptypeNBT && pt != ptypeBBT) || page[ptypeAt+1] != pt {
			continue
		}
		cEnt, cbEnt, cLevel, _ := d.pageHeader(page)
		if cLevel != 0 || cbEnt == 0 || cEnt*cbEnt > ptypeAt || !d.pageCRCOK(page) {
			continue
		}
		// A free node B-tree page is a superseded copy: its entries may
		// name items since deleted, or older versions. A free block B-tree
		// page is kept: a block id names the same bytes for the block's
		// whole life, so an entry only helps a node that still uses it.
		if amap != nil && pt == ptypeNBT {
			bit := (off - amapAt) / 64
			if amap[bit/8]&(0x80>>(bit%8)) == 0 {
				continue
			}
		}
		n, err := d.addLeafEntries(page, pt, cEnt, cbEnt, false)
		if err == nil {
			added += n
		}
	}
	return added
}

// block reads and decodes one block by id (raw: internal blocks are not
// decrypted).
func (d *ndb) block(bid uint64, a *arena) ([]byte, error) {
	e, err := d.blockEntry(bid)
	if err != nil {
		return nil, err
	}
	b := a.alloc(int(e.cb))
	if err := d.readBlock(b, bid, e); err != nil {
		return nil, err
	}
	return b, nil
}

// blockEntry looks a block up in the block B-tree.
func (d *ndb) blockEntry(bid uint64) (bbtEntry, error) {
	e, ok := d.bbt[bid&^1]
	if !ok {
		return e, &FormatError{Offset: -1, What: fmt.Sprintf("block %#x not in the block B-tree", bid)}
	}
	if int(e.cb) > maxBlockSize {
		return e, &FormatError{Offset: e.ib, What: fmt.Sprintf("block %#x claims %d bytes", bid, e.cb)}
	}
	return e, nil
}

// readBlock reads block bid, described by e, into dst (len(dst) == e.cb)
// and decodes it when it is a data block.
func (d *ndb) readBlock(dst []byte, bid uint64, e bbtEntry) error {
	if e.ib < 0 || e.ib+int64(len(dst)) > d.size {
		return &FormatError{Offset: e.ib, What: fmt.Sprintf("read of %d bytes past end of file (size %d)", len(dst), d.size), Err: ErrTruncated}
	}
	if d.mm != nil {
		d.decode(dst, d.mm[e.ib:e.ib+int64(len(dst))], bid, e)
		return nil
	}
	if d.cache != nil {
		// Decode straight out of the cache: one pass instead of a copy and
		// an in-place decode.
		if d.cache.withView(e.ib, len(dst), func(src []byte) { d.decode(dst, src, bid, e) }) {
			return nil
		}
	}
	if _, err := d.r.ReadAt(dst, e.ib); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("pst: read at %#x: %w", e.ib, err)
	}
	d.decode(dst, dst, bid, e)
	return nil
}

// decode writes block bid, whose bytes in the file are src, into dst;
// src may be dst. Data blocks are decrypted, internal blocks are stored
// as they are.
func (d *ndb) decode(dst, src []byte, bid uint64, e bbtEntry) {
	switch {
	case bid&2 == 0 && d.crypt == EncryptPermute:
		decodePermuteTo(dst, src)
	case bid&2 == 0 && d.crypt == EncryptCyclic:
		cryptCyclicTo(dst, src, uint32(e.bid))
	default:
		copy(dst, src)
	}
}

// dataBlocks returns the data blocks of a node's data tree in order,
// expanding XBLOCK/XXBLOCK. The blocks are consecutive slices of data,
// which holds the node's whole data: a stream needs no second copy.
func (d *ndb) dataBlocks(bid uint64, a *arena) (blocks [][]byte, data []byte, err error) {
	if bid == 0 {
		return nil, nil, nil
	}
	if bid&2 == 0 {
		b, err := d.block(bid, a)
		if err != nil {
			return nil, nil, err
		}
		return [][]byte{b}, b, nil
	}
	type leaf struct {
		bid uint64
		e   bbtEntry
	}
	var leaves []leaf
	total := 0
	var walk func(bid uint64, depth int) error
	walk = func(bid uint64, depth int) error {
		if bid&2 == 0 {
			e, err := d.blockEntry(bid)
			if err != nil {
				return err
			}
			total += int(e.cb)
			if total > maxNodeDataSize || int64(total) > d.size {
				return &FormatError{Offset: -1, What: "node data exceeds size limit"}
			}
			leaves = append(leaves, leaf{bid, e})
			return nil
		}
		b, err := d.block(bid, a)
		if err != nil {
			return err
		}
		if depth > 2 || len(b) < 8 || b[0] != 0x01 {
			return &FormatError{Offset: -1, What: fmt.Sprintf("bad XBLOCK %#x", bid)}
		}
		cEnt := int(binary.LittleEndian.Uint16(b[2:]))
		w := 4
		if d.unicode() {
			w = 8
		}
		if 8+cEnt*w > len(b) {
			return &FormatError{Offset: -1, What: fmt.Sprintf("XBLOCK %#x with %d entries overflows", bid, cEnt)}
		}
		for i := 0; i < cEnt; i++ {
			var child uint64
			if w == 8 {
				child = binary.LittleEndian.Uint64(b[8+i*8:])
			} else {
				child = uint64(binary.LittleEndian.Uint32(b[8+i*4:]))
			}
			if b[1] == 1 && child&2 != 0 {
				return &FormatError{Offset: -1, What: "XBLOCK refers to an internal block"}
			}
			if err := walk(child, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(bid, 0); err != nil {
		return nil, nil, err
	}
	data = a.alloc(total)
	blocks = make([][]byte, len(leaves))
	off := 0
	for i, l := range leaves {
		n := int(l.e.cb)
		dst := data[off : off+n : off+n]
		if err := d.readBlock(dst, l.bid, l.e); err != nil {
			return nil, nil, err
		}
		blocks[i] = dst
		off += n
	}
	return blocks, data, nil
}

type subnode struct {
	bidData uint64
	bidSub  uint64
}

// subnodes reads the SLBLOCK/SIBLOCK tree rooted at bid.
func (d *ndb) subnodes(bid uint64, a *arena) (map[uint32]subnode, error) {
	out := make(map[uint32]subnode)
	if bid == 0 {
		return out, nil
	}
	var walk func(bid uint64, depth int) error
	walk = func(bid uint64, depth int) error {
		if depth > maxSubnodeDepth {
			return &FormatError{Offset: -1, What: "subnode tree too deep"}
		}
		b, err := d.block(bid, a)
		if err != nil {
			return err
		}
		if len(b) < 4 || b[0] != 0x02 {
			return &FormatError{Offset: -1, What: fmt.Sprintf("bad subnode block %#x", bid)}
		}
		level := b[1]
		cEnt := int(binary.LittleEndian.Uint16(b[2:]))
		u := d.unicode()
		off, es := 4, 12
		if u {
			off, es = 8, 24
		}
		if level == 1 {
			es = 8
			if u {
				es = 16
			}
		}
		if off+cEnt*es > len(b) {
			return &FormatError{Offset: -1, What: fmt.Sprintf("subnode block %#x with %d entries overflows", bid, cEnt)}
		}
		for i := 0; i < cEnt; i++ {
			e := b[off+i*es:]
			if level == 0 {
				if u {
					out[uint32(binary.LittleEndian.Uint64(e))] = subnode{binary.LittleEndian.Uint64(e[8:]), binary.LittleEndian.Uint64(e[16:])}
				} else {
					out[binary.LittleEndian.Uint32(e)] = subnode{uint64(binary.LittleEndian.Uint32(e[4:])), uint64(binary.LittleEndian.Uint32(e[8:]))}
				}
				continue
			}
			var child uint64
			if u {
				child = binary.LittleEndian.Uint64(e[8:])
			} else {
				child = uint64(binary.LittleEndian.Uint32(e[4:]))
			}
			if err := walk(child, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return out, walk(bid, 0)
}
