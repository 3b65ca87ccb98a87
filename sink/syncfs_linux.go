package sink

import (
	"os"

	"golang.org/x/sys/unix"
)

// canSyncFS: syncfs(2) flushes a whole file system in one call.
const canSyncFS = true

// syncFS flushes the whole file system holding dir with one syncfs(2).
func syncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Syncfs(int(d.Fd()))
}
