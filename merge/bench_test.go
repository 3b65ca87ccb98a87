package merge

import (
	"fmt"
	"testing"
	"time"
)

// benchCollections builds n contacts and n events (half each) with ~1% of
// the items changed on each side (a different 1%, plus a few on both).
func benchCollections(n int) (base, ours, theirs map[string]*Doc) {
	base = make(map[string]*Doc, n)
	ours = make(map[string]*Doc, n)
	theirs = make(map[string]*Doc, n)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		uid := fmt.Sprintf("uid-%07d", i)
		var d *Doc
		if i%2 == 0 {
			d = mk(uid, KindContact, "FN:Person "+uid, "N:"+uid+";P;;;", "EMAIL="+uid+"@example.com:"+uid+"@example.com",
				"TEL=5550"+uid[4:]+":555-0"+uid[4:], "ORG:Example", "TITLE:Staff", "NOTE:note", "CATEGORIES=work:Work")
		} else {
			d = mk(uid, KindEvent, "SUMMARY:Meeting "+uid, "DTSTART:20240101T100000Z", "DTEND:20240101T110000Z",
				"LOCATION:Room", "ATTENDEE=a@example.com:mailto:a@example.com", "ATTENDEE=b@example.com:mailto:b@example.com",
				"RRULE:FREQ=WEEKLY", "EXDATE=20240108T100000Z:20240108T100000Z", "RID=20240115T100000Z/SUMMARY:moved")
		}
		d.Modified = t0
		base[uid] = d
		o, t := d, d
		switch i % 100 {
		case 1: // ours edits
			o = d.Clone()
			o.Fields["NOTE"] = Field{Name: "NOTE", Value: "ours"}
		case 2: // theirs edits
			t = d.Clone()
			t.Fields["LOCATION"] = Field{Name: "LOCATION", Value: "theirs"}
		case 3: // both edit different fields
			o, t = d.Clone(), d.Clone()
			o.Fields["TITLE"] = Field{Name: "TITLE", Value: "o"}
			t.Fields["X-EXTRA"] = Field{Name: "X-EXTRA", Value: "t"}
		}
		if i%1000 == 5 { // both edit the same field: conflict
			o, t = d.Clone(), d.Clone()
			o.Fields["FN"] = Field{Name: "FN", Value: "o"}
			t.Fields["FN"] = Field{Name: "FN", Value: "t"}
		}
		if i%500 != 7 { // ours deletes a few
			ours[uid] = o
		}
		theirs[uid] = t
	}
	for i := 0; i < n/200; i++ { // additions on both sides
		u := fmt.Sprintf("new-o-%d", i)
		ours[u] = mk(u, KindContact, "FN:"+u)
		u = fmt.Sprintf("new-t-%d", i)
		theirs[u] = mk(u, KindContact, "FN:"+u)
	}
	return base, ours, theirs
}

func BenchmarkMergeCollection100k(b *testing.B) {
	base, ours, theirs := benchCollections(100_000)
	opts := Options{Collection: "bench", OursBy: "alice", TheirsBy: "bob", Now: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)}
	b.ReportAllocs()
	b.ResetTimer()
	var r Result
	for i := 0; i < b.N; i++ {
		r = MergeCollection(base, ours, theirs, opts)
	}
	b.StopTimer()
	if r.Stats.Conflicts != 100 || r.Stats.Ours.Deleted != 200 {
		b.Fatalf("stats %+v", r.Stats)
	}
}
