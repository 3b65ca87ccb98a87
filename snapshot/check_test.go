package snapshot

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/pstsync/pstsync/sink"
)

// checkFixture builds a repository of four revisions and two user states.
// Object "A" is referenced only by revision 1; "B" and "C" by all.
func checkFixture(t *testing.T, s sink.Store) *Repo {
	t.Helper()
	ctx := context.Background()
	r := openRepo(t, s)
	commit(t, r, 0, alice, items{"calendar": {"e1": "A", "e2": "B"}, "contacts": {"c1": "C"}})
	commit(t, r, 1, alice, items{"calendar": {"e1": "A2", "e2": "B"}, "contacts": {"c1": "C"}})
	cols := build(t, r, items{"calendar": {"e1": "A2", "e2": "B", "e3": "D"}, "contacts": {"c1": "C"}})
	if _, err := r.Commit(ctx, &Manifest{Parent: 2, Author: alice, Time: t0, Collections: cols,
		Conflicts: json.RawMessage(`[{"uid":"e3"}]`)}); err != nil {
		t.Fatal(err)
	}
	commit(t, r, 3, Author{User: "bob"}, items{"calendar": {"e1": "A2", "e2": "B", "e3": "D"}, "contacts": {"c1": "C", "c2": "E"}})
	for _, u := range []string{"alice", "bob"} {
		if _, err := r.SaveState(ctx, u, &UserState{User: u, BaseRev: 4, Updated: t0}, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.PutObject(ctx, []byte("unreferenced (a lost commit race)")); err != nil {
		t.Fatal(err)
	}
	return r
}

type damage func(t *testing.T, s sink.Store)

func objKey(content string) string { return ObjectKey(HashOf([]byte(content))) }

func del(key string) damage {
	return func(t *testing.T, s sink.Store) {
		if err := s.Delete(context.Background(), key); err != nil {
			t.Fatal(err)
		}
	}
}

func rewrite(key string, f func([]byte) []byte) damage {
	return func(t *testing.T, s sink.Store) {
		ctx := context.Background()
		data, _, err := s.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, key, f(data), sink.Cond{}); err != nil {
			t.Fatal(err)
		}
	}
}

func flipByte(key string) damage {
	return rewrite(key, func(b []byte) []byte { b[len(b)/2] ^= 0x20; return b })
}

func truncate(key string) damage {
	return rewrite(key, func(b []byte) []byte { return b[:len(b)/2] })
}

type want struct {
	kind ProblemKind
	key  string
}

func checkCases() []struct {
	name    string
	damages []damage
	want    []want
} {
	return []struct {
		name    string
		damages []damage
		want    []want
	}{
		{"intact", nil, nil},
		{"object deleted", []damage{del(objKey("B"))}, []want{{ObjectMissing, objKey("B")}}},
		{"object byte flipped", []damage{flipByte(objKey("C"))}, []want{{ObjectCorrupt, objKey("C")}}},
		{"conflicts object deleted", []damage{del(objKey(`[{"uid":"e3"}]`))}, []want{{ObjectMissing, objKey(`[{"uid":"e3"}]`)}}},
		{"conflicts copy deleted (the object remains)", []damage{del(ConflictsKey(3))}, nil},
		{"unreferenced object deleted", []damage{del(objKey("unreferenced (a lost commit race)"))}, nil},
		{"manifest truncated", []damage{truncate(RevisionKey(2))}, []want{{ManifestUnreadable, RevisionKey(2)}}},
		{"latest manifest truncated", []damage{truncate(RevisionKey(4))}, []want{{ManifestUnreadable, RevisionKey(4)}}},
		{"manifest truncated, its only object gone", []damage{truncate(RevisionKey(1)), del(objKey("A"))},
			[]want{{ManifestUnreadable, RevisionKey(1)}}},
		{"middle revision removed", []damage{del(RevisionKey(2))}, []want{{RevisionNeeded, RevisionKey(2)}, {RevisionGap, RevisionKey(2)}}},
		{"two middle revisions removed", []damage{del(RevisionKey(2)), del(RevisionKey(3))}, []want{{RevisionNeeded, RevisionKey(3)}, {RevisionGap, RevisionKey(2)}}},
		{"first revision removed", []damage{del(RevisionKey(1))}, []want{{RevisionNeeded, RevisionKey(1)}, {RevisionGap, RevisionKey(1)}}},
		{"state garbage", []damage{rewrite(StateKey("bob"), func([]byte) []byte { return []byte("{\"user\":") })},
			[]want{{StateUnreadable, StateKey("bob")}}},
		{"state of another user", []damage{rewrite(StateKey("bob"), func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"bob"`, `"alice"`, 1))
		})}, []want{{StateUnreadable, StateKey("bob")}}},
		{"everything at once", []damage{del(objKey("B")), flipByte(objKey("C")), truncate(RevisionKey(3)),
			del(RevisionKey(2)), truncate(StateKey("alice"))},
			[]want{{ManifestUnreadable, RevisionKey(3)}, {RevisionGap, RevisionKey(2)},
				{ObjectMissing, objKey("B")}, {ObjectCorrupt, objKey("C")}, {StateUnreadable, StateKey("alice")}}},
	}
}

func runCheckCases(t *testing.T, newStore func(t *testing.T) sink.Store) {
	for _, tc := range checkCases() {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			checkFixture(t, s)
			for _, d := range tc.damages {
				d(t, s)
			}
			probs, err := openRepo(t, s).Check(context.Background())
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			var got []want
			for _, p := range probs {
				got = append(got, want{p.Kind, p.Key})
				if p.Detail == "" || p.Repair == "" {
					t.Errorf("problem without detail or repair hint: %v", p)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems:\n got %v\nwant %v\n%s", got, tc.want, fmt.Sprint(probs))
			}
		})
	}
}

func TestCheck(t *testing.T) {
	runCheckCases(t, func(*testing.T) sink.Store { return newMemStore() })
}

func TestCheckDetails(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	checkFixture(t, s)
	del(objKey("B"))(t, s)
	del(RevisionKey(2))(t, s)
	del(RevisionKey(3))(t, s)
	probs, err := openRepo(t, s).Check(ctx)
	if err != nil || len(probs) != 3 {
		t.Fatalf("Check = %v, %v", probs, err)
	}
	if !strings.Contains(probs[0].Detail, "revision 3 is missing but revision 4") {
		t.Errorf("needed revision detail: %q", probs[0].Detail)
	}
	if !strings.Contains(probs[1].Detail, "revisions 2 to 3") {
		t.Errorf("gap detail: %q", probs[1].Detail)
	}
	if d := probs[2].Detail; !strings.Contains(d, "calendar/e2") || !strings.Contains(d, "revision 1") {
		t.Errorf("missing object detail: %q", d)
	}
}
