package cryptstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pstsync/pstsync/sink"
)

// MarkerKey is the clear-text file that says a conversion is under way:
// pstsync refuses to sync while it is there, and a conversion that was
// interrupted resumes when `pstsync store encrypt` runs again. It is in
// keys/, so that one listing (Probe) tells a clear, an encrypted and a
// converting store apart.
const MarkerKey = KeysPrefix + "encrypting"

// Marker is the content of MarkerKey.
type Marker struct {
	User  string    `json:"user"`
	Host  string    `json:"host"`
	Since time.Time `json:"since"`
}

// ReadMarker returns the conversion marker of st, or nil.
func ReadMarker(ctx context.Context, st sink.Store) (*Marker, error) {
	data, _, err := st.Get(ctx, MarkerKey)
	if sink.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m Marker
	if err := json.Unmarshal(data, &m); err != nil {
		return &Marker{}, nil
	}
	return &m, nil
}

// WriteMarker writes the conversion marker (put-if-absent: an existing
// marker of an interrupted conversion is kept).
func WriteMarker(ctx context.Context, st sink.Store, m Marker) error {
	data, _ := json.Marshal(m)
	_, err := st.Put(ctx, MarkerKey, data, sink.Cond{IfNoneMatch: true})
	if err != nil && !sink.IsPreconditionFailed(err) {
		return fmt.Errorf("writing %s: %w", MarkerKey, err)
	}
	return nil
}

// ConvertStats counts what Convert did.
type ConvertStats struct {
	Files  int // clear files encrypted
	Passes int
}

// Convert encrypts every clear-text file of the underlying store into s,
// reads each back and compares it, and repeats until a pass finds nothing
// new or changed (a file written meanwhile by an older pstsync is taken
// too); then it deletes the clear files and the marker. It never deletes a
// clear file whose encrypted copy was not verified. Objects are immutable
// and written put-if-absent; every other file is replaced by the clear
// file's current bytes, so an interrupted conversion resumes.
func Convert(ctx context.Context, s *Store, progress func(done, total int)) (ConvertStats, error) {
	var st ConvertStats
	if err := s.wait(ctx); err != nil {
		return st, err
	}
	copied := map[string]string{} // clear key -> etag copied
	for {
		st.Passes++
		keys, err := s.clearKeys(ctx)
		if err != nil {
			return st, err
		}
		n := 0
		var batch []sink.Item
		for i, k := range keys {
			if progress != nil {
				progress(i, len(keys))
			}
			data, etag, err := s.inner.Get(ctx, k)
			if sink.IsNotExist(err) {
				continue
			}
			if err != nil {
				return st, fmt.Errorf("reading %s: %w", k, err)
			}
			if e, ok := copied[k]; ok && e == etag {
				continue
			}
			n++
			if _, ok := parseObjectKey(k); ok {
				batch = append(batch, sink.Item{Key: k, Data: data})
				if len(batch) >= 256 {
					if err := s.PutNew(ctx, batch); err != nil {
						return st, fmt.Errorf("encrypting objects: %w", err)
					}
					batch = batch[:0]
				}
			} else if _, err := s.Put(ctx, k, data, sink.Cond{}); err != nil {
				return st, fmt.Errorf("encrypting %s: %w", k, err)
			}
			copied[k] = etag
		}
		if err := s.PutNew(ctx, batch); err != nil {
			return st, fmt.Errorf("encrypting objects: %w", err)
		}
		st.Files += n
		if n == 0 {
			break
		}
	}
	// verify every copy before deleting its clear file
	keys, err := s.clearKeys(ctx)
	if err != nil {
		return st, err
	}
	for _, k := range keys {
		clear, _, err := s.inner.Get(ctx, k)
		if sink.IsNotExist(err) {
			continue
		}
		if err != nil {
			return st, fmt.Errorf("reading %s: %w", k, err)
		}
		enc, _, err := s.Get(ctx, k)
		if err != nil {
			return st, fmt.Errorf("verifying the encrypted copy of %s: %w", k, err)
		}
		if !bytes.Equal(clear, enc) {
			return st, fmt.Errorf("the encrypted copy of %s differs from it (changed during the conversion?); run pstsync store encrypt again", k)
		}
	}
	for _, k := range keys {
		if err := s.inner.Delete(ctx, k); err != nil {
			return st, fmt.Errorf("deleting the clear-text %s: %w", k, err)
		}
	}
	if err := s.inner.Delete(ctx, MarkerKey); err != nil {
		return st, fmt.Errorf("deleting %s: %w", MarkerKey, err)
	}
	return st, nil
}

// clearKeys lists the clear-text snapshot files of the underlying store.
func (s *Store) clearKeys(ctx context.Context) ([]string, error) {
	all, err := s.inner.List(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("listing the store: %w", err)
	}
	var out []string
	for _, k := range all {
		if strings.HasPrefix(k, KeysPrefix) || strings.HasPrefix(k, DataPrefix) {
			continue
		}
		out = append(out, k)
	}
	return out, nil
}
