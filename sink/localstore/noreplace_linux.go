package localstore

import (
	"os"

	"golang.org/x/sys/unix"
)

// renameNoReplace renames from to to unless to exists (an error matching
// fs.ErrExist then): renameat2 with RENAME_NOREPLACE, one atomic step.
// File systems without it (NFS, SMB, older kernels) give EINVAL, ENOSYS
// or EOPNOTSUPP (isUnsupported). A variable for the tests.
var renameNoReplace = func(from, to string) error {
	if err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}
