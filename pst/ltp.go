package pst

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// node is one node's data (a heap or a stream) and its subnodes.
type node struct {
	d      *ndb
	arena  *arena // where this node and its subnodes get their buffers
	nid    uint32
	blocks [][]byte
	data   []byte // all blocks in one (blocks are slices of it)
	bidSub uint64
	subs   map[uint32]subnode
}

func (d *ndb) node(nid uint32, a *arena) (*node, error) {
	e, ok := d.nbt[nid]
	if !ok {
		return nil, &FormatError{Offset: -1, What: fmt.Sprintf("node %#x not in the node B-tree", nid)}
	}
	return d.nodeFrom(nid, e.bidData, e.bidSub, a)
}

func (d *ndb) nodeFrom(nid uint32, bidData, bidSub uint64, a *arena) (*node, error) {
	blocks, data, err := d.dataBlocks(bidData, a)
	if err != nil {
		return nil, fmt.Errorf("node %#x data: %w", nid, err)
	}
	return &node{d: d, arena: a, nid: nid, blocks: blocks, data: data, bidSub: bidSub}, nil
}

// sub opens subnode nid of n.
func (n *node) sub(nid uint32) (*node, error) {
	if n.subs == nil {
		s, err := n.d.subnodes(n.bidSub, n.arena)
		if err != nil {
			return nil, fmt.Errorf("subnodes of %#x: %w", n.nid, err)
		}
		n.subs = s
	}
	e, ok := n.subs[nid]
	if !ok {
		return nil, &FormatError{Offset: -1, What: fmt.Sprintf("subnode %#x of node %#x missing", nid, n.nid)}
	}
	return n.d.nodeFrom(nid, e.bidData, e.bidSub, n.arena)
}

func (n *node) hasSub(nid uint32) bool {
	if n.subs == nil {
		s, err := n.d.subnodes(n.bidSub, n.arena)
		if err != nil {
			return false
		}
		n.subs = s
	}
	_, ok := n.subs[nid]
	return ok
}

// heap is a heap-on-node ([MS-PST] 2.3.1).
type heap struct {
	n         *node
	clientSig byte
	userRoot  uint32
}

// Heap client signatures.
const (
	sigTC  = 0x7C
	sigBTH = 0xB5
	sigPC  = 0xBC
)

func (n *node) heap() (*heap, error) {
	if len(n.blocks) == 0 || len(n.blocks[0]) < 12 {
		return nil, &FormatError{Offset: -1, What: fmt.Sprintf("node %#x: empty heap", n.nid)}
	}
	b := n.blocks[0]
	if b[2] != 0xEC {
		return nil, &FormatError{Offset: -1, What: fmt.Sprintf("node %#x: bad heap signature %#x", n.nid, b[2])}
	}
	return &heap{n: n, clientSig: b[3], userRoot: binary.LittleEndian.Uint32(b[4:])}, nil
}

// get returns the heap allocation hid.
func (h *heap) get(hid uint32) ([]byte, error) {
	if hid&0x1F != 0 {
		return nil, fmt.Errorf("pst: %#x is not a heap id", hid)
	}
	idx := int((hid >> 5) & 0x7FF)
	bi := int(hid >> 16)
	if bi >= len(h.n.blocks) || idx == 0 {
		return nil, fmt.Errorf("pst: heap id %#x out of range in node %#x", hid, h.n.nid)
	}
	b := h.n.blocks[bi]
	if len(b) < 2 {
		return nil, fmt.Errorf("pst: heap block %d of node %#x too short", bi, h.n.nid)
	}
	pm := int(binary.LittleEndian.Uint16(b))
	if pm+4 > len(b) {
		return nil, fmt.Errorf("pst: heap page map of node %#x out of range", h.n.nid)
	}
	cAlloc := int(binary.LittleEndian.Uint16(b[pm:]))
	if idx > cAlloc || pm+4+2*(idx+1) > len(b) {
		return nil, fmt.Errorf("pst: heap id %#x beyond %d allocations in node %#x", hid, cAlloc, h.n.nid)
	}
	start := int(binary.LittleEndian.Uint16(b[pm+4+2*(idx-1):]))
	end := int(binary.LittleEndian.Uint16(b[pm+4+2*idx:]))
	if start > end || end > len(b) {
		return nil, fmt.Errorf("pst: heap allocation %#x [%d,%d) out of range in node %#x", hid, start, end, h.n.nid)
	}
	return b[start:end], nil
}

// hnid returns the bytes of a heap-or-node id: a heap allocation, or the
// whole data of a subnode.
func (h *heap) hnid(id uint32) ([]byte, error) {
	if id == 0 {
		return nil, nil
	}
	if id&0x1F == nidTypeHID {
		return h.get(id)
	}
	s, err := h.n.sub(id)
	if err != nil {
		return nil, err
	}
	return s.data, nil
}

// bth returns the leaf blocks of the BTH at hid: runs of records, each its
// key (cbKey bytes) followed by its data (cbEnt bytes). With bad non-nil,
// a lower level that cannot be read is skipped and named in *bad.
func (h *heap) bth(hid uint32, bad *[]string) (cbKey, cbEnt int, leaves [][]byte, err error) {
	hdr, err := h.get(hid)
	if err != nil {
		return 0, 0, nil, err
	}
	if len(hdr) < 8 || hdr[0] != sigBTH {
		return 0, 0, nil, fmt.Errorf("pst: bad BTH header in node %#x", h.n.nid)
	}
	cbKey, cbEnt = int(hdr[1]), int(hdr[2])
	levels := int(hdr[3])
	root := binary.LittleEndian.Uint32(hdr[4:])
	if cbKey == 0 || cbKey > 16 || levels > 8 {
		return 0, 0, nil, fmt.Errorf("pst: BTH with key size %d and %d levels in node %#x", cbKey, levels, h.n.nid)
	}
	var walk func(hid uint32, level int) error
	walk = func(hid uint32, level int) error {
		if hid == 0 {
			return nil
		}
		b, err := h.get(hid)
		if err != nil {
			return err
		}
		if level > 0 {
			rs := cbKey + 4
			for i := 0; i+rs <= len(b); i += rs {
				if err := walk(binary.LittleEndian.Uint32(b[i+cbKey:]), level-1); err != nil {
					if bad == nil {
						return err
					}
					*bad = append(*bad, fmt.Sprintf("properties: %v", err))
				}
			}
			return nil
		}
		leaves = append(leaves, b)
		return nil
	}
	return cbKey, cbEnt, leaves, walk(root, levels)
}

// rawProp is an undecoded property: type and value bytes.
type rawProp struct {
	id  uint16
	typ PropType
	val []byte
}

// propContext reads the PC stored in heap h ([MS-PST] 2.3.3). With bad
// nil, a value that cannot be read fails the whole context; otherwise the
// property (or the part of the BTH) is left out and named in *bad.
func (h *heap) propContext(dst []rawProp, bad *[]string) ([]rawProp, error) {
	if h.clientSig != sigPC {
		return nil, fmt.Errorf("pst: node %#x is not a property context (signature %#x)", h.n.nid, h.clientSig)
	}
	cbKey, cbEnt, leaves, err := h.bth(h.userRoot, bad)
	if err != nil {
		return nil, err
	}
	if cbKey != 2 || cbEnt != 6 {
		return nil, fmt.Errorf("pst: property context with key %d and entry %d bytes in node %#x", cbKey, cbEnt, h.n.nid)
	}
	const rs = 8
	n := 0
	for _, l := range leaves {
		n += len(l) / rs
	}
	out := slices.Grow(dst[:0], n)
	for _, l := range leaves {
		for ; len(l) >= rs; l = l[rs:] {
			id := binary.LittleEndian.Uint16(l)
			typ := PropType(binary.LittleEndian.Uint16(l[2:]))
			v := l[4:8:8]
			val := v
			switch typ {
			case TypeInt16, TypeInt32, TypeFloat32, TypeError, TypeBool:
			default:
				b, err := h.hnid(binary.LittleEndian.Uint32(v))
				if err != nil {
					if bad != nil {
						*bad = append(*bad, fmt.Sprintf("property %#04x: %v", id, err))
						continue
					}
					return nil, fmt.Errorf("property %#04x: %w", id, err)
				}
				val = b
			}
			out = append(out, rawProp{id: id, typ: typ, val: val})
		}
	}
	return out, nil
}

type tcColumn struct {
	id   uint16
	typ  PropType
	ib   int
	cb   int
	ibit int
}

// table is a decoded table context: rows of raw properties.
type table struct {
	cols []tcColumn
	rows [][]rawProp
}

// tableContext reads the TC stored in heap h ([MS-PST] 2.3.4). With a
// non-empty only, just those columns are read (a variable-size cell costs
// a heap or subnode lookup).
func (h *heap) tableContext(only ...uint16) (*table, error) {
	if h.clientSig != sigTC {
		return nil, fmt.Errorf("pst: node %#x is not a table context (signature %#x)", h.n.nid, h.clientSig)
	}
	info, err := h.get(h.userRoot)
	if err != nil {
		return nil, err
	}
	if len(info) < 22 || info[0] != sigTC {
		return nil, fmt.Errorf("pst: bad TCINFO in node %#x", h.n.nid)
	}
	nCols := int(info[1])
	if 22+8*nCols > len(info) {
		return nil, fmt.Errorf("pst: TCINFO of node %#x truncated", h.n.nid)
	}
	rowSize := int(binary.LittleEndian.Uint16(info[2+6:]))  // TCI_bm
	cebStart := int(binary.LittleEndian.Uint16(info[2+4:])) // TCI_1b
	hnidRows := binary.LittleEndian.Uint32(info[14:])
	t := &table{}
	for i := 0; i < nCols; i++ {
		c := info[22+8*i:]
		tag := binary.LittleEndian.Uint32(c)
		col := tcColumn{id: uint16(tag >> 16), typ: PropType(tag), ib: int(binary.LittleEndian.Uint16(c[4:])), cb: int(c[6]), ibit: int(c[7])}
		if col.ib+col.cb > rowSize || col.ibit/8+cebStart >= rowSize+1 {
			return nil, fmt.Errorf("pst: TC column %#04x outside the row in node %#x", col.id, h.n.nid)
		}
		if len(only) > 0 && !slices.Contains(only, col.id) {
			continue
		}
		t.cols = append(t.cols, col)
	}
	if hnidRows == 0 || rowSize == 0 {
		return t, nil
	}
	var chunks [][]byte
	if hnidRows&0x1F == nidTypeHID {
		b, err := h.get(hnidRows)
		if err != nil {
			return nil, err
		}
		chunks = [][]byte{b}
	} else {
		s, err := h.n.sub(hnidRows)
		if err != nil {
			return nil, err
		}
		chunks = s.blocks
	}
	// One backing array for all rows' cells.
	nRows := 0
	for _, chunk := range chunks {
		nRows += len(chunk) / rowSize
	}
	t.rows = make([][]rawProp, 0, nRows)
	cells := make([]rawProp, 0, nRows*len(t.cols))
	for _, chunk := range chunks {
		for off := 0; off+rowSize <= len(chunk); off += rowSize {
			row := chunk[off : off+rowSize]
			props := cells[len(cells) : len(cells) : len(cells)+len(t.cols)]
			for _, col := range t.cols {
				ceb := cebStart + col.ibit/8
				if ceb >= len(row) || row[ceb]&(0x80>>(col.ibit%8)) == 0 {
					continue
				}
				cell := row[col.ib : col.ib+col.cb]
				var val []byte
				switch {
				case col.typ == TypeInt16 || col.typ == TypeInt32 || col.typ == TypeFloat32 ||
					col.typ == TypeError || col.typ == TypeBool || col.cb == 8:
					val = cell
				case col.cb == 4:
					b, err := h.hnid(binary.LittleEndian.Uint32(cell))
					if err != nil {
						// one bad cell does not lose the row
						continue
					}
					val = b
				default:
					val = cell
				}
				props = append(props, rawProp{id: col.id, typ: col.typ, val: val})
			}
			cells = cells[:len(cells)+len(props)]
			t.rows = append(t.rows, props)
		}
	}
	return t, nil
}

// tableRows reads the table context stored in node n: every column, or
// only the listed ones.
func (n *node) tableRows(only ...uint16) ([][]rawProp, error) {
	h, err := n.heap()
	if err != nil {
		return nil, err
	}
	t, err := h.tableContext(only...)
	if err != nil {
		return nil, err
	}
	return t.rows, nil
}

// filetime converts a FILETIME to UTC.
func filetime(v uint64) time.Time {
	if v == 0 || v >= 0x7FFFFFFFFFFFFFFF {
		return time.Time{}
	}
	const epochDiff = 116444736000000000 // 1601 → 1970 in 100 ns
	if v < epochDiff {
		secs := -int64((epochDiff - v) / 1e7)
		return time.Unix(secs, 0).UTC()
	}
	d := v - epochDiff
	return time.Unix(int64(d/1e7), int64(d%1e7)*100).UTC()
}

func utf16le(b []byte) string {
	if len(b)%2 == 1 {
		b = b[:len(b)-1]
	}
	for len(b) >= 2 && b[len(b)-1] == 0 && b[len(b)-2] == 0 {
		b = b[:len(b)-2]
	}
	n := len(b) / 2
	if n == 0 {
		return ""
	}
	// Fast path: ASCII text goes straight to bytes, four units at a time;
	// the rest (from the first group holding a unit outside ASCII, or the
	// last units) is decoded unit by unit.
	out := make([]byte, n)
	i := 0
	for ; i+4 <= n; i += 4 {
		v := binary.LittleEndian.Uint64(b[2*i:])
		if v&0xFF80FF80FF80FF80 != 0 {
			break
		}
		out[i], out[i+1], out[i+2], out[i+3] = byte(v), byte(v>>16), byte(v>>32), byte(v>>48)
	}
	if i < n {
		out = out[:i]
		for i *= 2; i+1 < len(b); i += 2 {
			u := uint16(b[i]) | uint16(b[i+1])<<8
			if u < 0x80 {
				out = append(out, byte(u))
				continue
			}
			if utf16.IsSurrogate(rune(u)) && i+3 < len(b) {
				u2 := uint16(b[i+2]) | uint16(b[i+3])<<8
				if r := utf16.DecodeRune(rune(u), rune(u2)); r != utf8.RuneError {
					out = utf8.AppendRune(out, r)
					i += 2
					continue
				}
			}
			if utf16.IsSurrogate(rune(u)) {
				out = utf8.AppendRune(out, utf8.RuneError)
				continue
			}
			out = utf8.AppendRune(out, rune(u))
		}
	}
	// out is not used again: the string can share its memory.
	return unsafe.String(unsafe.SliceData(out), len(out))
}

// decodeValue turns raw value bytes of type typ into a Go value (see
// Property). String8 is decoded with code page cp.
func decodeValue(typ PropType, b []byte, cp int) (any, error) {
	need := func(n int) error {
		if len(b) < n {
			return fmt.Errorf("value of type %#04x has %d bytes, want %d", uint16(typ), len(b), n)
		}
		return nil
	}
	switch typ {
	case TypeInt16:
		if err := need(2); err != nil {
			return nil, err
		}
		return int16(binary.LittleEndian.Uint16(b)), nil
	case TypeInt32:
		if err := need(4); err != nil {
			return nil, err
		}
		return int32(binary.LittleEndian.Uint32(b)), nil
	case TypeError:
		if err := need(4); err != nil {
			return nil, err
		}
		return binary.LittleEndian.Uint32(b), nil
	case TypeFloat32:
		if err := need(4); err != nil {
			return nil, err
		}
		return math.Float32frombits(binary.LittleEndian.Uint32(b)), nil
	case TypeBool:
		if err := need(1); err != nil {
			return nil, err
		}
		return b[0] != 0, nil
	case TypeInt64, TypeCurrency:
		if err := need(8); err != nil {
			return nil, err
		}
		return int64(binary.LittleEndian.Uint64(b)), nil
	case TypeFloat64, TypeAppTime:
		if err := need(8); err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
	case TypeTime:
		if err := need(8); err != nil {
			return nil, err
		}
		return filetime(binary.LittleEndian.Uint64(b)), nil
	case TypeGUID:
		if err := need(16); err != nil {
			return nil, err
		}
		return GUIDFromBytes(b), nil
	case TypeString:
		return utf16le(b), nil
	case TypeString8:
		return DecodeCodePage(trimNUL(b), cp), nil
	case TypeBinary, TypeObject, TypeServerID:
		// b lies in buffers read for this one object (never the shared
		// page cache), so the value can keep it without a copy.
		return b, nil
	case TypeMultiInt16:
		out := make([]int16, len(b)/2)
		for i := range out {
			out[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
		}
		return out, nil
	case TypeMultiInt32:
		out := make([]int32, len(b)/4)
		for i := range out {
			out[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return out, nil
	case TypeMultiInt64, TypeMulti | TypeCurrency:
		out := make([]int64, len(b)/8)
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
		}
		return out, nil
	case TypeMultiFloat64, TypeMulti | TypeAppTime:
		out := make([]float64, len(b)/8)
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
		return out, nil
	case TypeMultiTime:
		out := make([]time.Time, len(b)/8)
		for i := range out {
			out[i] = filetime(binary.LittleEndian.Uint64(b[8*i:]))
		}
		return out, nil
	case TypeMultiGUID:
		out := make([]GUID, len(b)/16)
		for i := range out {
			out[i] = GUIDFromBytes(b[16*i:])
		}
		return out, nil
	case TypeMultiString, TypeMultiString8, TypeMultiBinary:
		parts, err := splitMulti(b)
		if err != nil {
			return nil, err
		}
		if typ == TypeMultiBinary {
			return parts, nil // slices of this object's own buffer
		}
		out := make([]string, len(parts))
		for i, p := range parts {
			if typ == TypeMultiString {
				out[i] = utf16le(p)
			} else {
				out[i] = DecodeCodePage(trimNUL(p), cp)
			}
		}
		return out, nil
	}
	return append([]byte(nil), b...), nil
}

// splitMulti splits a variable-size multi-valued property: a count, that
// many offsets, then the values ([MS-PST] 2.3.3.4.2).
func splitMulti(b []byte) ([][]byte, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if len(b) < 4 {
		return nil, fmt.Errorf("multi-valued property of %d bytes", len(b))
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n < 0 || n > (len(b)-4)/4 {
		return nil, fmt.Errorf("multi-valued property claims %d values in %d bytes", n, len(b))
	}
	out := make([][]byte, n)
	for i := 0; i < n; i++ {
		start := int(binary.LittleEndian.Uint32(b[4+4*i:]))
		end := len(b)
		if i+1 < n {
			end = int(binary.LittleEndian.Uint32(b[4+4*(i+1):]))
		}
		if start < 4+4*n || start > end || end > len(b) {
			return nil, fmt.Errorf("multi-valued property value %d at [%d,%d) out of range", i, start, end)
		}
		out[i] = b[start:end]
	}
	return out, nil
}

func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}
