//go:build !unix

package localstore

// writeTempFast is writeTempSync without a flush.
func writeTempFast(dir, base string, data []byte) (string, error) {
	return writeTempSync(dir, base, data, false)
}
