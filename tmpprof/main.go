package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/pstsync/pstsync/sink/localstore"
	"github.com/pstsync/pstsync/snapshot"
	"github.com/pstsync/pstsync/syncer"
)

func main() {
	src, store, mb, prof := os.Args[1], os.Args[2], os.Args[3], os.Args[4]
	os.MkdirAll(store, 0o755)
	var best []byte
	var bestInuse uint64
	stop := make(chan bool)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > bestInuse {
				bestInuse = ms.HeapInuse
				var b bytes.Buffer
				pprof.WriteHeapProfile(&b)
				best = b.Bytes()
			}
		}
	}()
	t0 := time.Now()
	ctx := context.Background()
	st, _ := localstore.New(store)
	repo, err := snapshot.Open(ctx, st)
	if err != nil {
		panic(err)
	}
	t1 := time.Now()
	res, err := syncer.Sync(ctx, syncer.Options{User: "bench", Host: "h", Source: src, Repo: repo, Mailbox: mb})
	if err != nil {
		panic(err)
	}
	close(stop)
	os.WriteFile(prof, best, 0o644)
	fmt.Println("open", t1.Sub(t0), "sync", time.Since(t1), res.Added, "peak heap inuse MB", bestInuse>>20)
}
