package main

import (
	"context"
	"testing"
	"time"

	"github.com/pstsync/pstsync/sink/localstore"
	"github.com/pstsync/pstsync/snapshot"
)

func TestGetTiming(t *testing.T) {
	ctx := context.Background()
	st, _ := localstore.New("/tmp/pp/store")
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		r, err := snapshot.Open(ctx, st)
		t1 := time.Now()
		_, _, err2 := r.LoadState(ctx, "bench")
		t.Log("open", t1.Sub(t0), err, "state", time.Since(t1), err2)
	}
}
