// Package damage makes damaged copies of PST files for the recovery tests
// and scripts/compare-readers: B-tree pages zeroed, bits flipped, runs of
// bytes zeroed, the file cut short, each at several offsets. The copies
// depend only on the file's name and bytes, so every run makes the same
// set.
package damage

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"math/rand"
	"sort"
)

// Copy is one damaged copy of a file.
type Copy struct {
	Name string // e.g. "tika__testPST.flip-3.pst": which file, which damage
	What string // the damage, in words
	Data []byte
}

// PerFile is how many copies Make returns for a PST (fewer for a file
// too small to hold that many distinct pages).
const PerFile = 30

// Make returns the damaged copies of the PST named name (without .pst)
// whose bytes are orig:
//   - page-N: one B-tree page (node or block index) zeroed (4 copies);
//   - flip-N: one bit flipped in a used part of the file (8);
//   - bytes-N: 16 bytes overwritten with random values (4);
//   - zero-N: a run of 512 or 4,096 bytes zeroed (6);
//   - cut-N: the file truncated at 20% to 95% of its size (6);
//   - root-nbt, root-bbt: the root page of either B-tree zeroed (2).
func Make(name string, orig []byte) []Copy {
	h := fnv.New64a()
	h.Write([]byte(name))
	rng := rand.New(rand.NewSource(int64(h.Sum64())))
	var out []Copy
	add := func(tag, what string, data []byte) {
		out = append(out, Copy{Name: fmt.Sprintf("%s.%s.pst", name, tag), What: what, Data: data})
	}
	clone := func() []byte { return append([]byte(nil), orig...) }
	used := usedChunks(orig)
	if len(used) == 0 {
		return nil
	}
	pick := func() int { return used[rng.Intn(len(used))] }

	pages, nbtRoot, bbtRoot, pageSize := btreePages(orig)
	if nbtRoot > 0 {
		d := clone()
		clear(d[nbtRoot : nbtRoot+pageSize])
		add("root-nbt", fmt.Sprintf("node B-tree root page at %#x zeroed", nbtRoot), d)
	}
	if bbtRoot > 0 {
		d := clone()
		clear(d[bbtRoot : bbtRoot+pageSize])
		add("root-bbt", fmt.Sprintf("block B-tree root page at %#x zeroed", bbtRoot), d)
	}
	for i := 0; i < 4 && len(pages) > 0; i++ {
		off := pages[(i*len(pages))/4+rng.Intn(max(1, len(pages)/4))%len(pages)]
		d := clone()
		clear(d[off : off+pageSize])
		add(fmt.Sprintf("page-%d", i), fmt.Sprintf("B-tree page at %#x zeroed", off), d)
	}
	for i := 0; i < 8; i++ {
		off := pick() + rng.Intn(64)
		bit := rng.Intn(8)
		d := clone()
		d[off] ^= 1 << bit
		add(fmt.Sprintf("flip-%d", i), fmt.Sprintf("bit %d of byte %#x flipped", bit, off), d)
	}
	for i := 0; i < 4; i++ {
		off := pick()
		d := clone()
		for j := 0; j < 16 && off+j < len(d); j++ {
			d[off+j] = byte(rng.Intn(256))
		}
		add(fmt.Sprintf("bytes-%d", i), fmt.Sprintf("16 bytes at %#x overwritten", off), d)
	}
	for i := 0; i < 6; i++ {
		n := 512
		if i%2 == 1 {
			n = 4096
		}
		off := pick() &^ 511
		d := clone()
		clear(d[off:min(off+n, len(d))])
		add(fmt.Sprintf("zero-%d", i), fmt.Sprintf("%d bytes at %#x zeroed", n, off), d)
	}
	for i, pct := range []int{20, 35, 50, 65, 80, 95} {
		n := len(orig) * pct / 100 &^ 511
		add(fmt.Sprintf("cut-%d", i), fmt.Sprintf("truncated to %d bytes (%d%%)", n, pct), clone()[:n])
	}
	return out
}

// usedChunks returns the offsets of the 64-byte chunks past the header
// region that hold anything but zeros: damage there reaches a structure.
func usedChunks(b []byte) []int {
	var out []int
	for off := 0x4400; off+64 <= len(b); off += 64 {
		for _, c := range b[off : off+64] {
			if c != 0 {
				out = append(out, off)
				break
			}
		}
	}
	return out
}

// btreePages returns the offsets of the file's B-tree pages (a page type
// of 0x80 or 0x81 and a valid checksum), the two root pages and the page
// size; all zero for a file this does not understand.
func btreePages(b []byte) (pages []int, nbtRoot, bbtRoot, pageSize int) {
	if len(b) < 564 || string(b[:4]) != "!BDN" {
		return nil, 0, 0, 0
	}
	ver := binary.LittleEndian.Uint16(b[10:])
	var ptypeAt, crcAt int
	switch {
	case ver == 14 || ver == 15:
		nbtRoot, bbtRoot = int(binary.LittleEndian.Uint32(b[188:])), int(binary.LittleEndian.Uint32(b[196:]))
		ptypeAt, crcAt = 500, 508
	case ver >= 23 && ver < 36:
		nbtRoot, bbtRoot = int(binary.LittleEndian.Uint64(b[224:])), int(binary.LittleEndian.Uint64(b[240:]))
		ptypeAt, crcAt = 496, 500
	default:
		return nil, 0, 0, 0
	}
	pageSize = 512
	for off := 0x4400; off+pageSize <= len(b); off += pageSize {
		p := b[off : off+pageSize]
		if (p[ptypeAt] == 0x80 || p[ptypeAt] == 0x81) && p[ptypeAt+1] == p[ptypeAt] &&
			^crc32.Update(0xFFFFFFFF, crc32.IEEETable, p[:ptypeAt]) == binary.LittleEndian.Uint32(p[crcAt:]) {
			pages = append(pages, off)
		}
	}
	sort.Ints(pages)
	if nbtRoot+pageSize > len(b) || nbtRoot < 0 {
		nbtRoot = 0
	}
	if bbtRoot+pageSize > len(b) || bbtRoot < 0 {
		bbtRoot = 0
	}
	return pages, nbtRoot, bbtRoot, pageSize
}

// Samples are the repository's sample PSTs (testdata/pst-samples) the
// damaged set is made from: both formats, mail, contacts, calendars,
// distribution lists, large and small.
var Samples = []string{
	"aspose__Test_part1",
	"tika__testPST",
	"aspose__PersonalStorageFile1",
	"java-libpst__dist-list",
	"pstsdk__sample2",
	"go-pst__32-bit",
}
