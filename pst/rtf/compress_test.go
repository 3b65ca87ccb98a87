package rtf

import "encoding/binary"

// compress is a test-only [MS-OXRTFCP] LZFu encoder: greedy longest match
// (lowest offset on ties) against the same 4096-byte dictionary the decoder
// keeps. It exists so that
// round-trip and fuzz tests can produce valid streams of any content.
func compress(raw []byte) []byte {
	var dict [dictSize]byte
	copy(dict[:], initialDict)
	wp := len(initialDict)

	// Dictionary offsets holding each byte value, as doubly linked lists, so
	// candidate matches are found without scanning all 4096 offsets.
	var head [256]int
	var next, prev [dictSize]int
	for c := range head {
		head[c] = -1
	}
	insert := func(off int) {
		c := dict[off]
		next[off], prev[off] = head[c], -1
		if head[c] >= 0 {
			prev[head[c]] = off
		}
		head[c] = off
	}
	set := func(off int, c byte) {
		old := dict[off]
		if prev[off] >= 0 {
			next[prev[off]] = next[off]
		} else {
			head[old] = next[off]
		}
		if next[off] >= 0 {
			prev[next[off]] = prev[off]
		}
		dict[off] = c
		insert(off)
	}
	for off := range dictSize {
		insert(off)
	}

	var content []byte
	ctrlAt, bit := -1, 8
	token := func(isRef bool, b ...byte) {
		if bit == 8 {
			ctrlAt, bit = len(content), 0
			content = append(content, 0)
		}
		if isRef {
			content[ctrlAt] |= 1 << bit
		}
		bit++
		content = append(content, b...)
	}

	for pos := 0; pos < len(raw); {
		bestOff, bestLen := 0, 0
		maxLen := min(17, len(raw)-pos)
		for off := head[raw[pos]]; off >= 0; off = next[off] {
			if off == wp {
				continue
			}
			// d is how far behind the write position the match starts; bytes
			// at k >= d are ones this very copy has written.
			d := (wp - off) & dictMask
			n := 0
			for n < maxLen {
				var c byte
				if n >= d {
					c = raw[pos+n-d]
				} else {
					c = dict[(off+n)&dictMask]
				}
				if c != raw[pos+n] {
					break
				}
				n++
			}
			// Longest match; the lowest offset among equals.
			if n > bestLen || n == bestLen && off < bestOff {
				bestOff, bestLen = off, n
			}
		}
		if bestLen >= 2 {
			ref := uint16(bestOff)<<4 | uint16(bestLen-2)
			token(true, byte(ref>>8), byte(ref))
		} else {
			bestLen = 1
			token(false, raw[pos])
		}
		for k := 0; k < bestLen; k++ {
			set(wp, raw[pos+k])
			wp = (wp + 1) & dictMask
		}
		pos += bestLen
	}
	// End marker: a reference to the current write position.
	end := uint16(wp) << 4
	token(true, byte(end>>8), byte(end))

	out := make([]byte, headerSize, headerSize+len(content))
	binary.LittleEndian.PutUint32(out[0:], uint32(len(content)+12))
	binary.LittleEndian.PutUint32(out[4:], uint32(len(raw)))
	binary.LittleEndian.PutUint32(out[8:], compTypeLZFu)
	binary.LittleEndian.PutUint32(out[12:], crc(content))
	return append(out, content...)
}

// store wraps raw in an uncompressed ("MELA") stream.
func store(raw []byte) []byte {
	out := make([]byte, headerSize, headerSize+len(raw))
	binary.LittleEndian.PutUint32(out[0:], uint32(len(raw)+12))
	binary.LittleEndian.PutUint32(out[4:], uint32(len(raw)))
	binary.LittleEndian.PutUint32(out[8:], compTypeMELA)
	return append(out, raw...)
}
