//go:build unix

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pstsync/pstsync/internal/testutil"
	"golang.org/x/sys/unix"
)

// TestSyncSkipsLockedPST: while another program holds the PST exclusively
// (Outlook on Windows; here an exclusive flock, which pstlock treats the
// same way), the run is skipped with exit 6, and neither the store nor the
// mailbox changes. Once the lock is gone the next run syncs.
func TestSyncSkipsLockedPST(t *testing.T) {
	dir := syncEnv(t)
	pstPath := filepath.Join(dir, "alice.pst")
	data, err := os.ReadFile(testutil.Sample(t, "java-libpst__dist-list.pst"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pstPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	store, mailbox := filepath.Join(dir, "store"), filepath.Join(dir, "mailbox")
	args := []string{"pstsync", "sync", "--init", "--quiet", "--user", "alice", "--pst", pstPath, "--store", store, "--mailbox", mailbox}

	holder, err := os.Open(pstPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(holder.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	if code != exitLocked {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitLocked, errb.String())
	}
	if !strings.Contains(errb.String(), "in use by another program") || !strings.Contains(errb.String(), pstPath) {
		t.Errorf("stderr %q", errb.String())
	}
	if entries, _ := os.ReadDir(filepath.Join(store, "revisions")); len(entries) != 0 {
		t.Errorf("a locked run wrote revisions: %v", entries)
	}
	for _, f := range []string{"calendar.ics", "contacts.vcf"} {
		if _, err := os.Stat(filepath.Join(mailbox, f)); err == nil {
			t.Errorf("a locked run wrote %s", f)
		}
	}

	holder.Close() // Outlook closed
	out.Reset()
	errb.Reset()
	if code := run(args, &out, &errb); code != exitOK {
		t.Fatalf("after unlock: exit %d; stderr %s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(mailbox, "calendar.ics")); err != nil {
		t.Error(err)
	}
}
