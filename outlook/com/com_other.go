//go:build !windows

package com

import (
	"context"

	"github.com/pstsync/pstsync/outlook"
)

// Open returns outlook.ErrNotWindows: Outlook's object model exists only
// on Windows.
func Open(ctx context.Context, opts Options) (outlook.Session, error) {
	return nil, outlook.ErrNotWindows
}
