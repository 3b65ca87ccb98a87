package pst_test

import (
	"os"
	"testing"

	"github.com/pstsync/pstsync/internal/testutil"
)

func BenchmarkExerciseSample(b *testing.B) {
	data, err := os.ReadFile(testutil.Sample(b, "java-libpst__dist-list.pst"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		exercise(b, data)
	}
}
