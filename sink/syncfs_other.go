//go:build !linux

package sink

import "errors"

// syncFS is not available here; Batch.Sync falls back to per-file fsync.
func syncFS(string) error { return errors.ErrUnsupported }
