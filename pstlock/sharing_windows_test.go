//go:build windows

package pstlock

import (
	"os"
	"testing"
)

// A plain os.Open of a file Outlook holds fails with the raw sharing
// violation; IsLocked must recognise it without our wrapper.
func TestIsLockedRawSharingViolation(t *testing.T) {
	src, _ := fakePST(t)
	holdInOtherProcess(t, src, "exclusive")
	f, err := os.Open(src)
	if err == nil {
		f.Close()
		t.Fatal("opened a file another process holds exclusively")
	}
	if !IsLocked(err) {
		t.Fatalf("IsLocked(%v) = false", err)
	}
}
