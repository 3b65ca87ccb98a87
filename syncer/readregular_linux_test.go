package syncer

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadRegularFIFO: a FIFO in a source file's place (no writer ever
// comes) is refused, not waited for: a file the listing gives as regular
// is opened with no stat first.
func TestReadRegularFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo.ics")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, _, err := readRegular(fifo, 1000); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file (p") {
			t.Fatalf("FIFO: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("reading a FIFO blocked")
	}
}
