package main

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/outlook"
	"github.com/pstsync/pstsync/outlook/com"
	"github.com/pstsync/pstsync/outlook/fake"
)

// withOutlook makes the commands open s (or fail with err) instead of the
// real Outlook, for one test.
func withOutlook(t *testing.T, s outlook.Session, err error) {
	t.Helper()
	old := openOutlook
	openOutlook = func(context.Context, com.Options) (outlook.Session, error) { return s, err }
	t.Cleanup(func() { openOutlook = old })
}

func TestOutlookSelftestAgainstFake(t *testing.T) {
	o := fake.New()
	withOutlook(t, o, nil)
	code, out, errOut := runCLI(t, "outlook", "selftest")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"weekly series, one moved, one deleted occurrence  pass", "all-day event", "private event",
		"contact with photo and three addresses", "all 4 items came back unchanged"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := len(o.Folders()); n != 3 {
		t.Errorf("folders left: %v", o.Folders())
	}
}

func TestOutlookSelftestFailure(t *testing.T) {
	o := fake.New()
	calls := 0
	o.Fail = func(op string) error {
		if op == "Write" {
			calls++
			if calls == 2 {
				return outlook.ErrRefused
			}
		}
		return nil
	}
	withOutlook(t, o, nil)
	code, out, errOut := runCLI(t, "outlook", "selftest")
	if code != exitPartial || !strings.Contains(out, "all-day event") || !strings.Contains(out, "FAIL: write: outlook: Outlook refused the item") ||
		!strings.Contains(errOut, "1 of 4 items did not come back unchanged") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
	if n := len(o.Folders()); n != 3 {
		t.Errorf("a failed selftest left folders: %v", o.Folders())
	}
}

// TestOutlookErrors checks the one-line messages and exit codes of an
// Outlook that cannot be used.
func TestOutlookErrors(t *testing.T) {
	blocked := fake.New()
	blocked.Fail = func(string) error { return outlook.ErrBlocked }
	hung := fake.New()
	hung.Fail = func(op string) error {
		if op == "List" {
			return outlook.ErrTimeout
		}
		return nil
	}
	tests := []struct {
		name string
		s    outlook.Session
		err  error
		args []string
		code int
		msg  string
	}{
		{"not installed", nil, outlook.ErrNotInstalled, []string{"outlook", "status"}, exitOutlook, "not installed on this PC"},
		{"not running", nil, outlook.ErrNotRunning, []string{"outlook", "selftest"}, exitOutlook, "Outlook is not running: start Outlook"},
		{"blocked", blocked, nil, []string{"outlook", "selftest"}, exitOutlookBlocked, "Programmatic Access"},
		{"hung", hung, nil, []string{"outlook", "status"}, exitOutlookBlocked, "no answer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			withOutlook(t, tc.s, tc.err)
			code, _, errOut := runCLI(t, tc.args...)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if code != tc.code || len(lines) != 1 || !strings.Contains(errOut, tc.msg) {
				t.Errorf("exit %d, stderr %q; want %d and one line with %q", code, errOut, tc.code, tc.msg)
			}
		})
	}
}

func TestOutlookStatusFake(t *testing.T) {
	o := fake.New()
	o.AddStore("Archive 2019")
	ctx := context.Background()
	w, _ := outlook.FromDoc(mustSelftestDoc(t, 1))
	o.Write(ctx, outlook.FolderRef{Kind: outlook.Calendar}, "", w)
	withOutlook(t, o, nil)
	code, out, errOut := runCLI(t, "outlook", "status")
	if code != exitOK || !strings.Contains(out, "stores: Outlook Data File; Archive 2019") || !strings.Contains(out, "several stores") ||
		!strings.Contains(out, "Calendar: 1 items, 1 written by pstsync") || !strings.Contains(out, "Contacts: 0 items") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

func mustSelftestDoc(t *testing.T, i int) *merge.Doc {
	set, err := outlook.SelftestSet(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return set[i].Doc
}

// TestOutlookRealOnThisSystem runs the real adapter: elsewhere than on
// Windows it must say the bridge needs Windows (exit 10); on Windows
// without Outlook (Wine, see scripts/windows-test) that it is not
// installed.
func TestOutlookRealOnThisSystem(t *testing.T) {
	code, out, errOut := runCLI(t, "outlook", "status")
	switch {
	case runtime.GOOS != "windows":
		if code != exitOutlook || !strings.Contains(errOut, "needs Windows") {
			t.Errorf("exit %d, %q", code, errOut)
		}
	case code == exitOK: // a PC with Outlook
		if !strings.Contains(out, "Outlook: reachable") {
			t.Errorf("status: %q", out)
		}
	case code != exitOutlook:
		t.Errorf("exit %d, %q", code, errOut)
	}
}

// TestOutlookFlags: --start and --timeout reach the opener, after the
// subcommand as people type them, or before it.
func TestOutlookFlags(t *testing.T) {
	for _, args := range [][]string{
		{"outlook", "selftest", "--start", "--timeout", "5s"},
		{"outlook", "--start", "--timeout", "5s", "status"},
	} {
		var got com.Options
		old := openOutlook
		openOutlook = func(_ context.Context, o com.Options) (outlook.Session, error) {
			got = o
			return nil, outlook.ErrNotRunning
		}
		code, _, errOut := runCLI(t, args...)
		openOutlook = old
		if code != exitOutlook || !got.Start || got.Timeout != 5*time.Second {
			t.Errorf("%v: exit %d, options %+v, %s", args, code, got, errOut)
		}
	}
}
