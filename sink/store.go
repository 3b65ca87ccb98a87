package sink

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
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

// Sentinel errors for a store that cannot be used at all. Backends wrap them
// (with errors.Is working) in messages that name the store and say what to
// do; the CLI maps them to exit codes.
var (
	// ErrInvalidKey: the key breaks the rules of CheckKey.
	ErrInvalidKey = errors.New("sink: invalid store key")
	// ErrStoreMissing: the store itself is not there (S3 bucket missing,
	// local folder missing or share not mounted).
	ErrStoreMissing = errors.New("sink: store not found")
	// ErrAccessDenied: the credentials are missing, wrong or lack
	// permission (S3 AccessDenied, InvalidAccessKeyId,
	// SignatureDoesNotMatch; local permission denied).
	ErrAccessDenied = errors.New("sink: access to the store denied")
	// ErrUnavailable: the store did not answer (connection refused, DNS,
	// TLS, timeout).
	ErrUnavailable = errors.New("sink: store unavailable")
)

// MaxKeyLen is the longest key a Store accepts (S3's limit).
const MaxKeyLen = 1024

// CheckKey reports whether key is a valid Store key, with an error wrapping
// ErrInvalidKey when it is not. Every backend applies the same rules, so a
// store's content can move between backends (and between Windows and
// Linux): a key is one or more "/"-separated segments, each non-empty, not
// starting with "." (hidden names are reserved for a backend's temporary and
// lock files; this also excludes "." and ".."), without a backslash,
// control character or any of : * ? " < > | (not portable to Windows), and
// not ending in a space or "." (Windows drops those). The whole key is
// valid UTF-8 of at most MaxKeyLen bytes. Nothing is ever sanitised.
func CheckKey(key string) error {
	if err := checkKey(key); err != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, err)
	}
	return nil
}

func checkKey(key string) string {
	switch {
	case key == "":
		return "empty"
	case len(key) > MaxKeyLen:
		return fmt.Sprintf("longer than %d bytes", MaxKeyLen)
	case !utf8.ValidString(key):
		return "not valid UTF-8"
	case key[0] == '/':
		return "absolute (starts with /)"
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" {
			return "empty path segment"
		}
		if seg[0] == '.' {
			return fmt.Sprintf("segment %q starts with a dot", seg)
		}
		if last := seg[len(seg)-1]; last == '.' || last == ' ' {
			return fmt.Sprintf("segment %q ends with a dot or space", seg)
		}
		for _, r := range seg {
			if r < 0x20 || r == 0x7f {
				return "control character"
			}
			if strings.ContainsRune(`\:*?"<>|`, r) {
				return fmt.Sprintf("character %q is not allowed", r)
			}
		}
	}
	return ""
}

// CheckPrefix validates a List prefix: empty, a valid key, or a valid key
// followed by "/".
func CheckPrefix(prefix string) error {
	p := strings.TrimSuffix(prefix, "/")
	if p == "" && prefix == "" {
		return nil
	}
	if err := checkKey(p); err != "" {
		return fmt.Errorf("%w: list prefix %q: %s", ErrInvalidKey, prefix, err)
	}
	return nil
}

// IsNotExist reports whether err means the key does not exist.
func IsNotExist(err error) bool { return errors.Is(err, ErrNotExist) }

// IsPreconditionFailed reports whether a conditional Put lost.
func IsPreconditionFailed(err error) bool { return errors.Is(err, ErrPrecondition) }

// Item is one key and its bytes, for BatchPutter.
type Item struct {
	Key  string
	Data []byte
}

// BatchPutter is a Store that writes many new keys together: each item is
// stored unless its key exists (like Put with IfNoneMatch; an existing key
// is left alone and is not an error), and every item is durable when
// PutNew returns, without a flush per item. No key becomes visible before
// its bytes are durable.
type BatchPutter interface {
	PutNew(ctx context.Context, items []Item) error
}

// PutNewParallel is PutNew for any Store: up to workers Puts with
// IfNoneMatch at once; an existing key is not an error. It stops at the
// first failure.
func PutNewParallel(ctx context.Context, s Store, items []Item, workers int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	work := make(chan Item)
	for range min(workers, len(items)) {
		wg.Go(func() {
			for it := range work {
				_, err := s.Put(ctx, it.Key, it.Data, Cond{IfNoneMatch: true})
				if err != nil && !IsPreconditionFailed(err) {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
						cancel()
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, it := range items {
		if ctx.Err() != nil {
			break
		}
		work <- it
	}
	close(work)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// userinfoRE matches the credentials part of a URL ("scheme://USER:PASS@")
// anywhere in a text.
var userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\s"']*@`)

// RedactURL returns s with the credentials of every URL in it (user and
// password, as in http://KEY:SECRET@host) replaced by "<redacted>", so that
// errors, logs and `pstsync config check` never echo them. s may be a URL
// or a whole message.
func RedactURL(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return userinfoRE.ReplaceAllString(s, "${1}<redacted>@")
}
