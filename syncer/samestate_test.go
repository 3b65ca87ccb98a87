package syncer

import (
	"testing"
	"time"

	"github.com/pstsync/pstsync/snapshot"
)

// TestSameState: states that encode the same are the same whatever the
// order of their lists or the time; any other difference makes them
// differ (the field-by-field shortcut agrees with the encoding).
func TestSameState(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	h := func(s string) string { return snapshot.HashOf([]byte(s)) }
	link := func(key, uid, hash string) snapshot.Link {
		return snapshot.Link{Key: key, UID: uid, Collection: Calendar, Marker: snapshot.Marker{LastModified: t0, Hash: hash}, Source: key}
	}
	base := func() *snapshot.UserState {
		return &snapshot.UserState{User: "anna", BaseRev: 7, Machine: "m1", Updated: t0,
			Links:     []snapshot.Link{link("a.ics#A", "A", h("h1")), link("b.ics#B", "B", h("h2"))},
			Delivered: []snapshot.Delivered{{Collection: Calendar, UID: "A", Hash: h("h1")}, {Collection: Calendar, UID: "B", Hash: h("h2")}},
			Sources:   []snapshot.Source{{Key: "a.ics", Clean: true, Hash: h("s1"), Items: 1}, {Key: "b.ics", Clean: true, Hash: h("s2"), Items: 1}}}
	}
	tests := []struct {
		name string
		edit func(*snapshot.UserState)
		same bool
	}{
		{"identical", func(*snapshot.UserState) {}, true},
		{"later time", func(s *snapshot.UserState) { s.Updated = t0.Add(time.Hour) }, true},
		{"lists reordered", func(s *snapshot.UserState) {
			s.Links[0], s.Links[1] = s.Links[1], s.Links[0]
			s.Delivered[0], s.Delivered[1] = s.Delivered[1], s.Delivered[0]
			s.Sources[0], s.Sources[1] = s.Sources[1], s.Sources[0]
		}, true},
		{"same instant in another zone", func(s *snapshot.UserState) {
			s.Links[0].Marker.LastModified = t0.In(time.FixedZone("X", 3600))
		}, false},
		{"no delivered versions", func(s *snapshot.UserState) { s.Delivered = nil }, false},
		{"sources gone", func(s *snapshot.UserState) {
			s.Sources = []snapshot.Source{}
		}, false},
		{"another marker", func(s *snapshot.UserState) { s.Links[1].Marker.Hash = h("h3") }, false},
		{"another delivered version", func(s *snapshot.UserState) { s.Delivered[0].Hash = h("h9") }, false},
		{"a source read differently", func(s *snapshot.UserState) { s.Sources[0].Clean = false }, false},
		{"another base", func(s *snapshot.UserState) { s.BaseRev = 8 }, false},
		{"another machine", func(s *snapshot.UserState) { s.Machine = "m2" }, false},
		{"a link fewer", func(s *snapshot.UserState) { s.Links = s.Links[:1] }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := base(), base()
			tc.edit(b)
			if got := sameState(a, b); got != tc.same {
				t.Errorf("sameState = %v, want %v", got, tc.same)
			}
			// The shortcut agrees with comparing the encodings.
			x, err1 := a.Encode()
			c := *b
			c.Updated = a.Updated
			y, err2 := c.Encode()
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if enc := string(x) == string(y); enc != tc.same {
				t.Errorf("encodings equal = %v, want %v", enc, tc.same)
			}
		})
	}
}
