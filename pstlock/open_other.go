//go:build !unix && !windows

package pstlock

import (
	"errors"
	"os"
)

var errWouldBlock = errors.New("would block")

func openShared(path string) (*os.File, error) { return os.Open(path) }

func isOSLocked(error) bool { return false }
