//go:build !unix

package sink

import "os"

// writeFileDirect creates or replaces the file p with data, without a
// flush.
func writeFileDirect(p string, data []byte) error {
	return os.WriteFile(p, data, FileMode)
}
