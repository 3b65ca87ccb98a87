package pst

import "golang.org/x/sys/cpu"

// permuteVBMI tells whether decodePermuteTo can use AVX-512 VBMI, whose
// VPERMI2B looks up 64 bytes at once in a 128-byte table: the 256-byte
// table is two such halves, chosen by each byte's top bit. It decodes 47
// GB/s against 3.4 GB/s for the byte loop (BenchmarkDecodePermute, data
// in cache), which took an eighth of an export's CPU time.
var permuteVBMI = cpu.X86.HasAVX512VBMI && cpu.X86.HasAVX512BW

// decodePermuteVBMI decodes n bytes from src into dst with table, n a
// positive multiple of 64 (crypt_amd64.s).
//
//go:noescape
func decodePermuteVBMI(dst, src *byte, n int, table *[256]byte)

// decodePermuteTo undoes NDB_CRYPT_PERMUTE ([MS-PST] 5.1), writing the
// decoding of src into dst (len(dst) >= len(src); dst may be src).
func decodePermuteTo(dst, src []byte) {
	dst = dst[:len(src)]
	if n := len(src) &^ 63; permuteVBMI && n > 0 {
		decodePermuteVBMI(&dst[0], &src[0], n, &mpbbI)
		dst, src = dst[n:], src[n:]
	}
	decodePermuteGeneric(dst, src)
}
