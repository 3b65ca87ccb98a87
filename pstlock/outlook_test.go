package pstlock

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestIsOutlookImage(t *testing.T) {
	for name, want := range map[string]bool{
		"OUTLOOK.EXE": true, "outlook.exe": true, `C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE`: true,
		"outlook.exe.bak": false, "olk.exe": false, "notoutlook.exe": false, "": false,
	} {
		if got := isOutlookImage(name); got != want {
			t.Errorf("isOutlookImage(%q) = %v", name, got)
		}
	}
}

// TestHelperSleep is the body of the stand-in OUTLOOK.EXE below.
func TestHelperSleep(t *testing.T) {
	if os.Getenv("PSTLOCK_HELPER_SLEEP") != "1" {
		return
	}
	time.Sleep(30 * time.Second)
}

// TestOutlookRunning: no Outlook at first; then a copy of this test binary
// named OUTLOOK.EXE runs (on Windows, and under Wine) and is seen.
func TestOutlookRunning(t *testing.T) {
	running, err := OutlookRunning()
	if err != nil || running {
		t.Fatalf("OutlookRunning() = %v, %v before any Outlook", running, err)
	}
	if runtime.GOOS != "windows" {
		return // always false elsewhere, checked above
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	// Not t.TempDir: Windows (and Wine) may keep the image locked a moment
	// after the process ends; removal is retried and may leave it behind.
	dir, err := os.MkdirTemp("", "pstlock-outlook")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for i := 0; i < 20 && os.RemoveAll(dir) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	}()
	fake := filepath.Join(dir, "OUTLOOK.EXE")
	if err := os.WriteFile(fake, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(fake, "-test.run=^TestHelperSleep$")
	cmd.Env = append(os.Environ(), "PSTLOCK_HELPER_SLEEP=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if running, err = OutlookRunning(); err != nil || running || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || !running {
		t.Errorf("OutlookRunning() = %v, %v while OUTLOOK.EXE runs", running, err)
	}
}
