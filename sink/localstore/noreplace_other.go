//go:build !linux

package localstore

import (
	"errors"
	"os"
	"path/filepath"
)

// renameNoReplace would rename without replacing; here the platform has no
// such call, and the hard link of putIfAbsent is used.
var renameNoReplace = func(d dirHandle, from, to string) error {
	return &os.LinkError{Op: "rename", Old: filepath.Join(d.path, from), New: filepath.Join(d.path, to), Err: errors.ErrUnsupported}
}

// newFolders: here a folder cannot be renamed without possibly replacing
// one, so new folders are made in place.
const newFolders = false

var renameDirNoReplace = func(from, to string) error {
	return &os.LinkError{Op: "rename", Old: from, New: to, Err: errors.ErrUnsupported}
}
