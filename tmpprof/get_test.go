package main

import (
	"context"
	"testing"
	"time"

	"github.com/pstsync/pstsync/sink/localstore"
)

func TestGetTiming(t *testing.T) {
	st, _ := localstore.New("/tmp/pp/store")
	for _, k := range []string{"head.json", "revisions/000000000002.json", "users/bench/state.json"} {
		t0 := time.Now()
		d, _, err := st.Get(context.Background(), k)
		t.Log(k, len(d), err, time.Since(t0))
	}
}
