package pst

// EncodePermuteForTest applies NDB_CRYPT_PERMUTE to a copy of b.
func EncodePermuteForTest(b []byte) []byte {
	c := append([]byte(nil), b...)
	encodePermute(c)
	return c
}
