//go:build !linux

package localstore

import (
	"errors"
	"os"
)

// renameNoReplace would rename without replacing; here the platform has no
// such call, and the hard link of putIfAbsent is used.
var renameNoReplace = func(from, to string) error {
	return &os.LinkError{Op: "rename", Old: from, New: to, Err: errors.ErrUnsupported}
}
