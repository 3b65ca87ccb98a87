//go:build !amd64

package pst

// permuteVBMI: no vector decoding on this architecture.
var permuteVBMI = false

// decodePermuteTo undoes NDB_CRYPT_PERMUTE ([MS-PST] 5.1), writing the
// decoding of src into dst (len(dst) >= len(src); dst may be src).
func decodePermuteTo(dst, src []byte) {
	decodePermuteGeneric(dst[:len(src)], src)
}
