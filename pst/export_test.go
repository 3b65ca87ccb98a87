package pst

// EncodePermuteForTest applies NDB_CRYPT_PERMUTE to a copy of b.
func EncodePermuteForTest(b []byte) []byte {
	c := append([]byte(nil), b...)
	encodePermute(c)
	return c
}

// Mapped reports whether f reads a file mapped into memory.
func (f *File) Mapped() bool { return f.d.mm != nil }
