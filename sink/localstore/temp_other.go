//go:build !unix

package localstore

import (
	"errors"
	"os"
	"path/filepath"
)

// dirHandle is a folder a batch writes into (by path here).
type dirHandle struct{ path string }

func openDirHandle(path string) dirHandle { return dirHandle{path: path} }

func (d dirHandle) close() {}

// exists reports whether d holds base (of any type).
func (d dirHandle) exists(base string) bool {
	_, err := os.Lstat(filepath.Join(d.path, base))
	return err == nil
}

// writeTemp is writeTempSync without a flush; it returns the temporary
// file's name in d.
func (d dirHandle) writeTemp(base string, data []byte) (string, error) {
	name, err := writeTempSync(d.path, base, data, false)
	if err != nil {
		return "", err
	}
	return filepath.Base(name), nil
}

// writeNew is not used here: new folders are made in place (newFolders
// is false), so no file is written under its own name in a twin.
func (d dirHandle) writeNew(base string, data []byte) error {
	return &os.PathError{Op: "create", Path: filepath.Join(d.path, base), Err: errors.ErrUnsupported}
}
