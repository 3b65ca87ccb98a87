package mail

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/pst"
)

// enronPath locates data/enron.pst inside the go-pst v6.0.2 module (the
// larger benchmark file named in the samples README), or "".
func enronPath(t testing.TB) string {
	if p := os.Getenv("PSTSYNC_ENRON"); p != "" {
		return p
	}
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return ""
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "github.com", "mooijtech", "go-pst", "v6@v6.0.2", "data", "enron.pst")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

func enronMessages(t testing.TB) []*pst.Message {
	p := enronPath(t)
	if p == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("enron.pst not found (CI=true requires it): go mod download github.com/mooijtech/go-pst/v6@v6.0.2, or set PSTSYNC_ENRON")
		}
		t.Skip("enron.pst not found (go-pst v6.0.2 module not in the module cache; set PSTSYNC_ENRON)")
	}
	f, err := pst.Open(p)
	if err != nil {
		t.Fatalf("open enron: %v", err)
	}
	defer f.Close()
	var msgs []*pst.Message
	err = f.Walk(context.Background(), func(fo *pst.Folder) error {
		refs, err := fo.Items()
		if err != nil {
			return nil
		}
		for _, r := range refs {
			if m, err := f.Message(r.NID); err == nil {
				msgs = append(msgs, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	return msgs
}

// TestEnronBuild builds and re-parses every item of the Enron sample.
func TestEnronBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	msgs := enronMessages(t)
	attachments := 0
	for _, m := range msgs {
		raw, err := Build(m, Options{Now: func() time.Time { return testDate }})
		if err != nil {
			t.Fatalf("%#x: %v", m.NID, err)
		}
		checkWire(t, raw)
		_, tree := parseStd(t, raw)
		for _, l := range tree.leaves() {
			if strings.HasPrefix(l.header.Get("Content-Disposition"), "attachment") {
				attachments++
			}
		}
	}
	t.Logf("%d items, %d attachments", len(msgs), attachments)
	if len(msgs) < 2000 {
		t.Errorf("only %d items read", len(msgs))
	}
}

func BenchmarkBuildEnron(b *testing.B) {
	msgs := enronMessages(b)
	b.ReportAllocs()
	b.ResetTimer()
	var n int64
	for i := 0; i < b.N; i++ {
		for _, m := range msgs {
			raw, err := Build(m, Options{})
			if err != nil {
				b.Fatal(err)
			}
			n += int64(len(raw))
		}
	}
	b.SetBytes(n / int64(b.N))
	b.ReportMetric(float64(len(msgs)), "msgs/op")
}
