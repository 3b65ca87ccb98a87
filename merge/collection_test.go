package merge

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func coll(docs ...*Doc) map[string]*Doc {
	m := map[string]*Doc{}
	for _, d := range docs {
		m[d.UID] = d
	}
	return m
}

func TestMergeCollection(t *testing.T) {
	c := func(uid string, kv ...string) *Doc {
		return mk(uid, KindContact, append([]string{"FN:" + uid}, kv...)...)
	}
	base := coll(c("same"), c("edit-o"), c("del-o"), c("del-t"), c("delmod"), c("moddel"), c("both-del"))
	ours := coll(c("same"), c("edit-o", "NOTE:o"), c("del-t"), c("delmod", "NOTE:changed"), c("add-o"), c("add-both", "TITLE:x"))
	theirs := coll(c("same"), c("edit-o"), c("del-o"), c("moddel", "NOTE:changed"), c("add-t"), c("add-both", "ROLE:y"))
	res := MergeCollection(base, ours, theirs, Options{Collection: "contacts", OursBy: "alice", TheirsBy: "bob"})

	want := []string{"add-both", "add-o", "add-t", "delmod", "edit-o", "moddel", "same"}
	if got := slices.Sorted(maps.Keys(res.Merged)); !reflect.DeepEqual(got, want) {
		t.Errorf("merged = %q, want %q", got, want)
	}
	if res.Merged["same"] != theirs["same"] || res.Merged["add-o"] != ours["add-o"] {
		t.Error("unchanged items should be the input pointers")
	}
	if f := res.Merged["add-both"].Fields; f["TITLE"].Value != "x" || f["ROLE"].Value != "y" {
		t.Errorf("add-both = %v", fieldKeys(res.Merged["add-both"]))
	}
	if res.Merged["delmod"].Fields["NOTE"].Value != "changed" || res.Merged["moddel"].Fields["NOTE"].Value != "changed" {
		t.Error("delete-vs-modify lost the modification")
	}
	var kinds []string
	for _, cf := range res.Conflicts {
		kinds = append(kinds, cf.UID+"/"+string(cf.Kind)+"/"+string(cf.Resolution))
		if cf.Collection != "contacts" || cf.OursBy != "alice" || cf.TheirsBy != "bob" {
			t.Errorf("conflict meta %+v", cf)
		}
	}
	if w := []string{"delmod/delete-modify/kept-modified", "moddel/delete-modify/kept-modified"}; !reflect.DeepEqual(kinds, w) {
		t.Errorf("conflicts = %q, want %q", kinds, w)
	}
	wantStats := Stats{
		Ours:      SideStats{Added: 1, Changed: 2, Deleted: 1},
		Theirs:    SideStats{Added: 1, Changed: 1, Deleted: 1},
		Conflicts: 2, BaseItems: 7, OursItems: 6, TheirsItems: 6,
	}
	if res.Stats != wantStats {
		t.Errorf("stats = %+v\nwant    %+v", res.Stats, wantStats)
	}
}

func TestMergeCollectionModes(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	base := mk("u", KindEvent, "SUMMARY:Lunch", "LOCATION:Cafe", "DESCRIPTION:d")
	ours := mk("u", KindEvent, "SUMMARY:Lunch", "LOCATION:Bistro", "DESCRIPTION:d2")
	ours.Modified = t0.Add(2 * time.Hour)
	theirs := mk("u", KindEvent, "SUMMARY:Lunch", "LOCATION:Canteen", "DESCRIPTION:d")
	theirs.Modified = t0.Add(time.Hour)
	now := t0.Add(24 * time.Hour)
	run := func(mode OnConflict, o, th *Doc) Result {
		return MergeCollection(coll(base), coll(o), coll(th), Options{OnConflict: mode, OursBy: "alice", TheirsBy: "bob", Now: now})
	}
	newerTheirs := theirs.Clone()
	newerTheirs.Modified = t0.Add(3 * time.Hour)
	tests := []struct {
		mode     OnConflict
		o, th    *Doc
		location string
		res      Resolution
		items    int
	}{
		{KeepBoth, ours, theirs, "Bistro", ResKeepBoth, 2},
		{"", ours, theirs, "Bistro", ResKeepBoth, 2},
		{Mine, ours, theirs, "Bistro", ResOurs, 1},
		{Theirs, ours, theirs, "Canteen", ResTheirs, 1},
		{Newest, ours, theirs, "Bistro", ResOurs, 1},
		{Newest, ours, newerTheirs, "Canteen", ResTheirs, 1},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode)+"/"+tt.th.Modified.Format("15"), func(t *testing.T) {
			r := run(tt.mode, tt.o, tt.th)
			m := r.Merged["u"]
			if m.Fields["LOCATION"].Value != tt.location || m.Fields["DESCRIPTION"].Value != "d2" {
				t.Errorf("LOCATION %q DESCRIPTION %q", m.Fields["LOCATION"].Value, m.Fields["DESCRIPTION"].Value)
			}
			// A result equal to one side is that side; a combination gets Now.
			if m != tt.o && m != tt.th && !m.Modified.Equal(now) {
				t.Errorf("Modified = %v, want Now", m.Modified)
			}
			if tt.res == ResTheirs && m.Modified != now {
				t.Errorf("combined result: Modified = %v, want Now", m.Modified)
			}
			if len(r.Merged) != tt.items || len(r.Conflicts) != 1 || r.Conflicts[0].Resolution != tt.res {
				t.Fatalf("items %d conflicts %+v", len(r.Merged), r.Conflicts)
			}
			if tt.res != ResKeepBoth {
				return
			}
			cp := r.Merged[r.Conflicts[0].Copy]
			if cp == nil || !strings.HasPrefix(cp.UID, "u-conflict-") || len(cp.UID) != len("u-conflict-")+12 {
				t.Fatalf("copy %q missing: %v", r.Conflicts[0].Copy, slices.Sorted(maps.Keys(r.Merged)))
			}
			if cp.Fields["SUMMARY"].Value != "Lunch (conflict copy from bob)" || cp.Fields["LOCATION"].Value != "Canteen" {
				t.Errorf("copy fields %+v", cp.Fields)
			}
			if r.Stats.Copies != 1 || r.Stats.Conflicts != 1 {
				t.Errorf("stats %+v", r.Stats)
			}
			// Determinism: the same conflict gives the same copy.
			r2 := run(tt.mode, tt.o.Clone(), tt.th.Clone())
			if r2.Conflicts[0].Copy != r.Conflicts[0].Copy || Hash(r2.Merged[cp.UID]) != Hash(cp) {
				t.Error("conflict copy not deterministic")
			}
		})
	}
}

func TestKeepBothContactTitle(t *testing.T) {
	base := mk("c", KindContact, "FN:Ann", "TITLE:a")
	r := MergeCollection(coll(base), coll(mk("c", KindContact, "FN:Ann", "TITLE:b")), coll(mk("c", KindContact, "FN:Ann", "TITLE:c")), Options{})
	cp := r.Merged[r.Conflicts[0].Copy]
	if cp == nil || cp.Fields["FN"].Value != "Ann (conflict copy)" || cp.Fields["TITLE"].Value != "c" || r.Merged["c"].Fields["TITLE"].Value != "b" {
		t.Errorf("copy %+v", cp)
	}
	// Re-merging the result with itself changes nothing and adds no copy.
	r2 := MergeCollection(r.Merged, r.Merged, r.Merged, Options{})
	if len(r2.Merged) != 2 || len(r2.Conflicts) != 0 {
		t.Errorf("re-merge: %d items, %d conflicts", len(r2.Merged), len(r2.Conflicts))
	}
}

func TestMassDelete(t *testing.T) {
	base := map[string]*Doc{}
	theirs := map[string]*Doc{}
	ours := map[string]*Doc{}
	for i := 0; i < 30; i++ {
		d := mk("u"+itoa(i), KindContact, "FN:x")
		base[d.UID], theirs[d.UID] = d, d
		if i >= 20 {
			ours[d.UID] = d
		}
	}
	r := MergeCollection(base, ours, theirs, Options{})
	if r.Stats.Ours.Deleted != 20 || len(r.Merged) != 10 {
		t.Fatalf("stats %+v", r.Stats)
	}
	if !r.Stats.MassDelete(SideOurs) || r.Stats.MassDelete(SideTheirs) {
		t.Error("mass delete not flagged")
	}
	if f := r.Stats.DeletedFraction(SideOurs); f < 0.66 || f > 0.67 {
		t.Errorf("fraction %v", f)
	}
	small := Stats{Ours: SideStats{Deleted: 10}, TheirsItems: 12}
	if small.MassDelete(SideOurs) {
		t.Error("10 deletions are under the guard")
	}
	for _, s := range []string{"", "keep-both", "Newest", "mine", "theirs"} {
		if _, err := ParseOnConflict(s); err != nil {
			t.Error(err)
		}
	}
	if _, err := ParseOnConflict("random"); err == nil {
		t.Error("bad rule accepted")
	}
}
