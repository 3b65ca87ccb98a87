package fake_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/outlook"
	"github.com/pstsync/pstsync/outlook/fake"
)

// modelEvent is a small event of the model: a UID, a day, a title, a
// privacy flag and optionally a weekly series.
func modelEvent(t *rapid.T, uid string) *merge.Doc {
	day := rapid.IntRange(1, 28).Draw(t, "day")
	hour := rapid.IntRange(6, 21).Draw(t, "hour") // outside DST gaps: a time that does not exist moves
	// No leading or trailing blanks: the PST converters trim them (a
	// title "x " reads back as "x", through the PST and Outlook alike).
	title := rapid.StringMatching(`[A-Za-zäöü,;]([A-Za-zäöü ,;]{0,18}[A-Za-zäöü,;])?`).Draw(t, "title")
	class := rapid.SampledFrom([]string{"PUBLIC", "PRIVATE"}).Draw(t, "class")
	zone := rapid.SampledFrom([]string{"Europe/Berlin", "America/New_York", "Asia/Tokyo"}).Draw(t, "zone")
	rrule := rapid.SampledFrom([]string{"", "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=5\r\n", "RRULE:FREQ=DAILY;INTERVAL=2;COUNT=3\r\n"}).Draw(t, "rrule")
	start := fmt.Sprintf("202703%02dT%02d0000", day, hour)
	end := fmt.Sprintf("202703%02dT%02d3000", day, hour)
	text := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20270101T000000Z\r\n" +
		"DTSTART;TZID=" + zone + ":" + start + "\r\nDTEND;TZID=" + zone + ":" + end + "\r\n" + rrule +
		"SUMMARY:" + strings.NewReplacer(",", `\,`, ";", `\;`).Replace(title) + "\r\nCLASS:" + class + "\r\n" +
		"PRIORITY:5\r\nTRANSP:OPAQUE\r\nX-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	d, err := merge.DecodeCalendar([]byte(text))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	return d
}

// TestBridgeModel drives the fake Outlook with random deliveries, updates,
// removals and user edits, and checks after every step what a sync relies
// on: every delivered item reads back unchanged by its marker (no
// spurious change) and equal to what was delivered when read in full; a
// user's edit is seen; no UID is in the folder twice; a private item is
// never changed or removed by a delivery.
func TestBridgeModel(t *testing.T) {
	testutil.RapidDefaults(t)
	ctx := context.Background()
	cal := outlook.FolderRef{Kind: outlook.Calendar}
	rapid.Check(t, func(t *rapid.T) {
		o := fake.New()
		clock := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		o.Now = func() time.Time { clock = clock.Add(400 * time.Millisecond); return clock }
		delivered := map[string]outlook.Entry{} // key → entry as delivered
		docs := map[string]*merge.Doc{}         // key → doc as delivered
		edited := map[string]bool{}
		fresh := map[string]bool{} // delivered since the last full check
		n := 0
		t.Repeat(map[string]func(*rapid.T){
			"deliver new": func(t *rapid.T) {
				n++
				d := modelEvent(t, fmt.Sprintf("uid-%d", n))
				e, err := outlook.Deliver(ctx, o, cal, "", d)
				if err != nil {
					t.Fatal(err)
				}
				delivered[outlook.Key(e)], docs[outlook.Key(e)] = e, d
				fresh[outlook.Key(e)] = true
			},
			"deliver update": func(t *rapid.T) {
				if len(docs) == 0 {
					t.Skip("nothing delivered")
				}
				key := rapid.SampledFrom(sortedKeys(docs)).Draw(t, "key")
				d := modelEvent(t, docs[key].UID)
				old, _ := o.Read(ctx, cal, strings.TrimPrefix(key, outlook.KeyPrefix))
				e, err := outlook.Deliver(ctx, o, cal, key, d)
				switch {
				case old != nil && old.Private():
					if err == nil {
						t.Fatal("a private item was overwritten")
					}
				case err != nil:
					t.Fatal(err)
				default:
					delivered[key], docs[key] = e, d
					delete(edited, key)
					fresh[key] = true
				}
			},
			"user edits": func(t *rapid.T) {
				if len(docs) == 0 {
					t.Skip("nothing delivered")
				}
				key := rapid.SampledFrom(sortedKeys(docs)).Draw(t, "key")
				w, err := outlook.FromDoc(docs[key])
				if err != nil {
					t.Fatal(err)
				}
				w.Fields["Subject"] = "edited in Outlook"
				if _, err := o.Write(ctx, cal, strings.TrimPrefix(key, outlook.KeyPrefix), w); err != nil {
					t.Fatal(err)
				}
				edited[key] = true
				fresh[key] = true
			},
			"remove": func(t *rapid.T) {
				if len(docs) == 0 {
					t.Skip("nothing delivered")
				}
				key := rapid.SampledFrom(sortedKeys(docs)).Draw(t, "key")
				err := outlook.Remove(ctx, o, cal, key)
				if docs[key].Fields["CLASS"].Value == "PRIVATE" && !edited[key] {
					if err == nil {
						t.Fatal("a private item was removed")
					}
					return
				}
				if err != nil && docs[key].Fields["CLASS"].Value != "PRIVATE" {
					t.Fatal(err)
				}
				if err == nil {
					delete(delivered, key)
					delete(docs, key)
					delete(edited, key)
				}
			},
			"": func(t *rapid.T) {
				unchanged := func(e outlook.Entry) bool {
					d, ok := delivered[outlook.Key(e)]
					return ok && d.Modified.Equal(e.Modified) && d.ChangeKey == e.ChangeKey
				}
				items, complete, errs, err := outlook.ReadFolder(ctx, o, cal, unchanged)
				if err != nil || !complete || len(errs) > 0 {
					t.Fatalf("read: %v %v %v", complete, errs, err)
				}
				if len(items) != len(docs) {
					t.Fatalf("%d items in Outlook, %d delivered", len(items), len(docs))
				}
				uids := map[string]bool{}
				for _, it := range items {
					if _, ok := docs[it.Key]; !ok {
						t.Fatalf("unknown item %s", it.Key)
					}
					if it.Entry.UID == "" || uids[it.Entry.UID] {
						t.Fatalf("UID %q missing or twice", it.Entry.UID)
					}
					uids[it.Entry.UID] = true
					if (it.Doc != nil) != edited[it.Key] {
						t.Fatalf("%s: read %v, edited by the user %v", it.Key, it.Doc != nil, edited[it.Key])
					}
				}
				// Read in full, an item delivered or edited since the last
				// check is what was delivered, or carries the edit.
				for key := range fresh {
					if docs[key] == nil {
						continue
					}
					it, err := o.Read(ctx, cal, strings.TrimPrefix(key, outlook.KeyPrefix))
					if err != nil {
						t.Fatal(err)
					}
					d, err := outlook.ToDoc(it)
					if err != nil {
						t.Fatal(err)
					}
					if edited[key] {
						if d.Fields["SUMMARY"].Value != "edited in Outlook" {
							t.Fatalf("edit lost: %v", d.Fields["SUMMARY"])
						}
						continue
					}
					if diffs := outlook.Diff(docs[key], d); len(diffs) > 0 {
						t.Fatalf("%s came back changed: %v", key, diffs)
					}
				}
				clear(fresh)
			},
		})
	})
}

func sortedKeys(m map[string]*merge.Doc) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
