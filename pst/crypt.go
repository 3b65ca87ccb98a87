package pst

// encodePermute applies NDB_CRYPT_PERMUTE in place (tests and fuzz seeds).
func encodePermute(b []byte) {
	for i, c := range b {
		b[i] = mpbbR[c]
	}
}

// cryptCyclic applies NDB_CRYPT_CYCLIC ([MS-PST] 5.2) in place; the
// transformation is its own inverse. key is the low 32 bits of the block id.
func cryptCyclic(b []byte, key uint32) {
	w := uint16(key ^ (key >> 16))
	for i, c := range b {
		c += byte(w)
		c = mpbbR[c]
		c += byte(w >> 8)
		c = mpbbS[c]
		c -= byte(w >> 8)
		c = mpbbI[c]
		c -= byte(w)
		b[i] = c
		w++
	}
}

// decodePermuteGeneric is decodePermuteTo one byte at a time
// (len(dst) >= len(src)); where the CPU allows, decodePermuteTo does most
// of the work with vector instructions (crypt_amd64.go).
func decodePermuteGeneric(dst, src []byte) {
	dst = dst[:len(src)]
	for i, c := range src {
		dst[i] = mpbbI[c]
	}
}

// cryptCyclicTo is cryptCyclic from src into dst (len(dst) >= len(src);
// dst may be src).
func cryptCyclicTo(dst, src []byte, key uint32) {
	copy(dst, src)
	cryptCyclic(dst[:len(src)], key)
}
