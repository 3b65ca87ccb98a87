package sink

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pstsync/pstsync/internal/testutil"
)

// missingTool skips the test, or fails it under CI=true, when a real client
// needed by the test is not installed.
func missingTool(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// icaljsChecker returns the node binary and check.js path, skipping (or
// failing under CI) when node or scripts/js/node_modules are missing.
func icaljsChecker(t *testing.T) (node, script string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missingTool(t, "node not found in PATH; install Node.js to check output with ical.js")
	}
	js := filepath.Join(testutil.Root(t), "scripts", "js")
	if _, err := os.Stat(filepath.Join(js, "node_modules", "ical.js", "package.json")); err != nil {
		missingTool(t, "ical.js not installed: run `npm ci --prefix %s`", js)
	}
	return node, filepath.Join(js, "check.js")
}

// checkWithICALJS runs scripts/js/check.js --strict over paths and fails the
// test on any failure it reports.
func checkWithICALJS(t *testing.T, paths ...string) {
	t.Helper()
	node, script := icaljsChecker(t)
	out, err := exec.Command(node, append([]string{script, "--strict"}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ical.js check failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), " 0 failed") {
		t.Fatalf("unexpected check.js output:\n%s", out)
	}
}

// parseWithICALJS parses one file with ical.js (strict checks on) and
// returns its jCal/jCard: a component is [name, [props...], [children...]],
// a property [name, {params}, type, value...].
func parseWithICALJS(t *testing.T, path string) []any {
	t.Helper()
	node, script := icaljsChecker(t)
	cmd := exec.Command(node, script, "--strict", "--dump", path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ical.js check of %s failed: %v\n%s", path, err, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte("{")) {
			continue
		}
		var rec struct {
			File string `json:"file"`
			JCal []any  `json:"jcal"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("bad dump line: %v", err)
		}
		return rec.JCal
	}
	t.Fatalf("no dump from check.js:\n%s", out)
	return nil
}

// jProps returns the properties named name (lower case) of a jCal
// component.
func jProps(comp []any, name string) [][]any {
	var out [][]any
	props, _ := comp[1].([]any)
	for _, p := range props {
		pp, _ := p.([]any)
		if len(pp) >= 4 && pp[0] == name {
			out = append(out, pp)
		}
	}
	return out
}

// jChildren returns the sub-components of a jCal component.
func jChildren(comp []any) [][]any {
	var out [][]any
	if len(comp) < 3 {
		return nil
	}
	kids, _ := comp[2].([]any)
	for _, k := range kids {
		if kk, ok := k.([]any); ok {
			out = append(out, kk)
		}
	}
	return out
}

// TestCheckJSRejectsBrokenFiles makes sure the checker itself can fail.
func TestCheckJSRejectsBrokenFiles(t *testing.T) {
	node, script := icaljsChecker(t)
	dir := t.TempDir()
	cases := map[string]string{
		"unterminated.ics": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\n",
		"longline.ics":     "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nX-LONG:" + strings.Repeat("a", 80) + "\r\nEND:VCALENDAR\r\n",
		"lf.vcf":           "BEGIN:VCARD\nVERSION:4.0\nFN:x\nEND:VCARD\n",
		"notz.ics":         "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTAMP:20240101T000000Z\r\nDTSTART;TZID=Nowhere/Zone:20240101T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
	}
	for name, content := range cases {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(node, script, "--strict", p).CombinedOutput()
		if err == nil {
			t.Errorf("%s: check.js accepted a broken file:\n%s", name, out)
		}
		if !strings.Contains(string(out), "FAIL "+p) {
			t.Errorf("%s: no FAIL line:\n%s", name, out)
		}
	}
}

// TestMaildirNotmuch indexes a written Maildir tree with notmuch, when
// installed, and checks message count and flag synchronisation.
func TestMaildirNotmuch(t *testing.T) {
	nm, err := exec.LookPath("notmuch")
	if err != nil {
		missingTool(t, "notmuch not installed (scripts/test installs it)")
	}
	dir := t.TempDir()
	mdir := filepath.Join(dir, "mail")
	w, err := NewMaildirWriter(mdir)
	if err != nil {
		t.Fatal(err)
	}
	items := []struct {
		folder []string
		m      MailItem
	}{
		{[]string{"Inbox"}, MailItem{Raw: testMessage("one", trickyBody), Flags: FlagSeen | FlagFlagged, Key: "1"}},
		{[]string{"Inbox"}, MailItem{Raw: testMessage("two", "b\r\n"), Key: "2"}},
		{[]string{"Inbox", "Sub"}, MailItem{Raw: testMessage("three", "c\r\n"), Flags: FlagSeen | FlagAnswered, Key: "3"}},
	}
	for _, it := range items {
		if err := w.Add(ctx(), it.folder, it.m); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "notmuch-config")
	conf := "[database]\npath=" + mdir + "\n[new]\ntags=\n[maildir]\nsynchronize_flags=true\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		cmd := exec.Command(nm, append([]string{"--config=" + cfg}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+dir, "NOTMUCH_CONFIG="+cfg)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("notmuch %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("new", "--quiet")
	for q, want := range map[string]string{
		"*":             "3",
		"tag:unread":    "1",
		"tag:flagged":   "1",
		"tag:replied":   "1",
		"folder:Inbox":  "2",
		"subject:three": "1",
	} {
		if got := run("count", q); got != want {
			t.Errorf("notmuch count %s = %s, want %s", q, got, want)
		}
	}
}
