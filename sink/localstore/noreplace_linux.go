package localstore

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// renameNoReplace renames from to to, both in d, unless to exists (an
// error matching fs.ErrExist then): renameat2 with RENAME_NOREPLACE, one
// atomic step. File systems without it (NFS, SMB, older kernels) give
// EINVAL, ENOSYS or EOPNOTSUPP (isUnsupported). A variable for the tests.
var renameNoReplace = func(d dirHandle, from, to string) error {
	fd, f := d.at(from)
	_, t := d.at(to)
	if err := unix.Renameat2(fd, f, fd, t, unix.RENAME_NOREPLACE); err != nil {
		return &os.LinkError{Op: "rename", Old: filepath.Join(d.path, from), New: filepath.Join(d.path, to), Err: err}
	}
	return nil
}

// newFolders: a new folder can be filled as a hidden twin and renamed into
// place without replacing one made meanwhile (renameDirNoReplace).
const newFolders = true

// renameDirNoReplace renames the folder from to to unless to exists (an
// error matching fs.ErrExist then, as an empty folder there would be
// replaced by a plain rename).
// A variable for the tests.
var renameDirNoReplace = func(from, to string) error {
	if err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}
