//go:build !unix

package localstore

import (
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

// writeNew writes data to the new file base in d, without a flush (an
// error matching fs.ErrExist when base exists). On failure nothing is left
// behind.
func (d dirHandle) writeNew(base string, data []byte) (err error) {
	name := filepath.Join(d.path, base)
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(name)
		}
	}()
	if err = failWrite(name); err != nil {
		return err
	}
	_, err = f.Write(data)
	return err
}
