package merge

import (
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
