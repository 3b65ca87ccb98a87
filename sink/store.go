package sink

import (
	"context"
	"errors"
	"io/fs"
)

// Store keeps bytes under keys: the snapshot store's lowest layer. Keys are
// slash-separated paths ("objects/ab/abcdef…", "revisions/00000042.json").
// A Store gives no meaning to them; the snapshot layer does.
//
// Implementations: the local folder store (the default; works on an SMB
// share) and S3 (minio-go). Every implementation passes the conformance
// suite in sink/storetest.
type Store interface {
	// Get returns the object's bytes and its ETag. A missing key gives an
	// error for which IsNotExist is true.
	Get(ctx context.Context, key string) (data []byte, etag string, err error)
	// Put stores data under key subject to cond and returns the new ETag.
	// When the condition does not hold, nothing is written and the error
	// satisfies IsPreconditionFailed. Put never leaves a partial object
	// visible.
	Put(ctx context.Context, key string, data []byte, cond Cond) (etag string, err error)
	// List returns the keys that start with prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// String names the store for messages ("/srv/pstsync", "s3://bucket/prefix").
	String() string
}

// Cond is the condition of a Put.
type Cond struct {
	// IfNoneMatch: write only when the key does not exist
	// (S3 If-None-Match: *, local exclusive create).
	IfNoneMatch bool
	// IfMatch: write only when the current ETag equals this value.
	IfMatch string
}

// ErrNotExist and ErrPrecondition are the sentinel errors a Store wraps.
var (
	ErrNotExist     = fs.ErrNotExist
	ErrPrecondition = errors.New("sink: precondition failed")
)

// IsNotExist reports whether err means the key does not exist.
func IsNotExist(err error) bool { return errors.Is(err, ErrNotExist) }

// IsPreconditionFailed reports whether a conditional Put lost.
func IsPreconditionFailed(err error) bool { return errors.Is(err, ErrPrecondition) }
