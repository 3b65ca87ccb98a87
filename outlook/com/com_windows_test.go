//go:build windows

package com

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/pstsync/pstsync/outlook"
)

// TestOpenWithoutOutlook runs under Wine (scripts/windows-test sets
// PSTSYNC_NO_OUTLOOK=1): COM initialises, and Outlook.Application is not
// registered, so both attaching and starting say "not installed". On a PC
// with Outlook it accepts a session or "not running".
func TestOpenWithoutOutlook(t *testing.T) {
	ctx := context.Background()
	for _, start := range []bool{false, true} {
		s, err := Open(ctx, Options{Start: start, Timeout: 30 * time.Second})
		if os.Getenv("PSTSYNC_NO_OUTLOOK") == "1" {
			if !errors.Is(err, outlook.ErrNotInstalled) {
				t.Errorf("start=%v: err %v, want ErrNotInstalled", start, err)
			}
			if err != nil {
				t.Logf("start=%v: %v", start, err)
			}
			continue
		}
		switch {
		case err == nil:
			s.Close()
		case errors.Is(err, outlook.ErrNotRunning) && !start, errors.Is(err, outlook.ErrNotInstalled):
		default:
			t.Errorf("start=%v: %v", start, err)
		}
	}
}

// TestBlockedCallTimesOut stands in for a call blocked behind Outlook's
// security prompt or a hung Outlook: the caller gets ErrTimeout after the
// timeout, and every later call is refused at once.
func TestBlockedCallTimesOut(t *testing.T) {
	s := &session{timeout: 200 * time.Millisecond, calls: make(chan func()), done: make(chan struct{})}
	ready := make(chan error, 1)
	go s.loop(ready)
	if err := <-ready; err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	defer close(release)
	t0 := time.Now()
	err := s.do(context.Background(), func() error { <-release; return nil })
	if !errors.Is(err, outlook.ErrTimeout) || time.Since(t0) > 5*time.Second {
		t.Fatalf("blocked call: %v after %v", err, time.Since(t0))
	}
	if err := s.do(context.Background(), func() error { return nil }); !errors.Is(err, outlook.ErrTimeout) {
		t.Errorf("call after a blocked one: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}
