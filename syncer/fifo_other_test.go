//go:build !unix

package syncer

import "errors"

func mkfifo(string) error { return errors.New("no FIFOs on this system") }
