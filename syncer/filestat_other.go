//go:build !linux

package syncer

import (
	"fmt"
	"io"
	"os"

	"github.com/pstsync/pstsync/snapshot"
)

// fileStatOf knows nothing of a file here (no status-change time to tell
// a rewrite that kept the modification time): every source file is read
// in every run.
func fileStatOf(os.FileInfo) snapshot.FileStat { return snapshot.FileStat{} }

// openNeverBlocks: opening a FIFO here may wait for a writer, so every
// source file has its metadata checked (statRegular) before it is opened.
const openNeverBlocks = false

// readRegular reads the file p that statRegular accepted, at most max
// bytes: a file replaced meanwhile by anything but a regular file, or
// grown beyond max, is refused. It returns the metadata of the file
// opened, as it was before the content was read.
func readRegular(p string, max int64) ([]byte, os.FileInfo, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	// The file may have been replaced between Stat and Open.
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if err := regularWithin(st, max); err != nil {
		return nil, nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(data)) > max {
		return nil, nil, fmt.Errorf("more than the limit of %d bytes; skipped", max)
	}
	return data, st, nil
}
