package merge

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkDecodeForeign decodes every foreign item's canonical form (the
// snapshot objects a sync reads back).
func BenchmarkDecodeForeign(b *testing.B) {
	var cards, cals [][]byte
	for _, ext := range []string{".vcf", ".ics"} {
		paths, _ := filepath.Glob("testdata/foreign/*/*" + ext)
		for _, p := range paths {
			data, _ := os.ReadFile(p)
			if ext == ".vcf" {
				for _, d := range ReadVCFFile(data).Docs {
					if d.UID == "" {
						d.UID = "x"
					}
					cards = append(cards, Canonical(d))
				}
			} else {
				for _, d := range ReadICSFile(data).Docs {
					if d.UID == "" {
						d.UID = "x"
					}
					cals = append(cals, Canonical(d))
				}
			}
		}
	}
	b.ResetTimer()
	for range b.N {
		for _, c := range cards {
			if _, err := DecodeVCard(c); err != nil {
				b.Fatal(err)
			}
		}
		for _, c := range cals {
			if _, err := DecodeCalendar(c); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benchEvent is one event file as scripts/bench-sync writes them.
func benchEvent(i int) []byte {
	d := i%28 + 1
	return fmt.Appendf(nil, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//bench//EN\r\nBEGIN:VEVENT\r\nUID:ev-%06d@bench\r\n"+
		"DTSTAMP:20250101T000000Z\r\nDTSTART:202503%02dT%02d0000Z\r\nDTEND:202503%02dT%02d3000Z\r\nSUMMARY:Meeting %d about item %d\r\n"+
		"LOCATION:Room %d\r\nDESCRIPTION:Generated event %d for the sync benchmark.\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		i, d, i%10+8, d, i%10+8, i, i*7, i%40, i)
}

// BenchmarkReadEventFile: what a first sync does with each event file of
// scripts/bench-sync: read it and encode it canonically.
func BenchmarkReadEventFile(b *testing.B) {
	files := make([][]byte, 1000)
	for i := range files {
		files[i] = benchEvent(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		fi := ReadICSFile(files[i%len(files)])
		if len(fi.Docs) != 1 {
			b.Fatal(fi.Problems)
		}
		_ = Canonical(fi.Docs[0])
		i++
	}
}

// BenchmarkParseEventObject: decoding a stored event object.
func BenchmarkParseEventObject(b *testing.B) {
	objs := make([][]byte, 1000)
	for i := range objs {
		objs[i] = Canonical(ReadICSFile(benchEvent(i)).Docs[0])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := ParseObject(objs[i%len(objs)], KindEvent); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
