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

func renameFile(from, to string) error { return os.Rename(from, to) }
