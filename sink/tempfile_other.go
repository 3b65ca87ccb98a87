//go:build !unix

package sink

import (
	"os"
	"time"
)

type osTempFile struct{ *os.File }

func createTempFast(dir, base string) (tempFile, error) {
	f, err := createTemp(dir, base)
	if err != nil {
		return nil, err
	}
	return osTempFile{f}, nil
}

func (f osTempFile) SetMtime(t time.Time) error { return os.Chtimes(f.Name(), t, t) }

func (f osTempFile) Commit(path string) error {
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func (f osTempFile) Discard() {
	_ = f.Close()
	_ = os.Remove(f.Name())
}

func renameFile(from, to string) error { return os.Rename(from, to) }
