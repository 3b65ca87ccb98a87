package memstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/sink/memstore"
	"github.com/pstsync/pstsync/sink/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sink.Store { return memstore.New() })
}

func TestFault(t *testing.T) {
	s := memstore.New()
	boom := errors.New("boom")
	s.Fault = func(op memstore.Op, key string) error {
		if op == memstore.OpPut && key == "bad" {
			return boom
		}
		return nil
	}
	ctx := context.Background()
	if _, err := s.Put(ctx, "bad", []byte("x"), sink.Cond{}); !errors.Is(err, boom) {
		t.Fatalf("Put(bad) = %v, want boom", err)
	}
	if _, err := s.Put(ctx, "good", []byte("x"), sink.Cond{}); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 1 {
		t.Fatalf("Len = %d, want 1 (the failed Put wrote something)", s.Len())
	}
}

// TestFaultConcurrentWriter: a Fault hook can write to the store to play a
// writer who wins the race.
func TestFaultConcurrentWriter(t *testing.T) {
	s := memstore.New()
	ctx := context.Background()
	s.Fault = func(op memstore.Op, key string) error {
		if op == memstore.OpPut && key == "revisions/1" {
			s.Fault = nil
			_, err := s.Put(ctx, key, []byte("theirs"), sink.Cond{IfNoneMatch: true})
			return err
		}
		return nil
	}
	if _, err := s.Put(ctx, "revisions/1", []byte("ours"), sink.Cond{IfNoneMatch: true}); !sink.IsPreconditionFailed(err) {
		t.Fatalf("Put after the other writer = %v, want IsPreconditionFailed", err)
	}
	if data, _, err := s.Get(ctx, "revisions/1"); err != nil || string(data) != "theirs" {
		t.Fatalf("Get = %q, %v; want theirs", data, err)
	}
}

func BenchmarkMemPutGet(b *testing.B) { storetest.BenchPutGet(b, memstore.New()) }
