//go:build !linux

package sink

import "errors"

// canSyncFS: no syncfs here.
const canSyncFS = false

// syncFS is not available here; Batch.Sync falls back to per-file fsync.
func syncFS(string) error { return errors.ErrUnsupported }
