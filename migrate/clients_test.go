package migrate_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/migrate"
)

// exportAll exports every sample once per mail format and caches the
// result for the tests of this package.
var exported = map[string]struct {
	dir string
	rep *migrate.Report
}{}

func exportAll(t *testing.T, format string) (string, *migrate.Report) {
	t.Helper()
	if e, ok := exported[format]; ok {
		return e.dir, e.rep
	}
	dir, err := os.MkdirTemp("", "pstsync-export-"+format+"-")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := migrate.Export(context.Background(), testutil.AllSamples(t), migrate.Options{Out: dir, Mail: format})
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	exported[format] = struct {
		dir string
		rep *migrate.Report
	}{dir, rep}
	return dir, rep
}

// pinned returns the figure pinned for every sample when the shared
// samples are there (always under CI=true), else the figure for the
// repository's testdata/pst-samples alone.
func pinned(t *testing.T, all, repoOnly int) int {
	t.Helper()
	if testutil.SharedSamplesDir(t) != "" {
		return all
	}
	return repoOnly
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, e := range exported {
		os.RemoveAll(e.dir)
	}
	os.Exit(code)
}

func files(t *testing.T, root, ext string) []string {
	t.Helper()
	var out []string
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.HasSuffix(p, ext) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestExportReport(t *testing.T) {
	dir, rep := exportAll(t, "eml")
	var raw bytes.Buffer
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	raw.Write(b)
	var back migrate.Report
	if err := json.Unmarshal(raw.Bytes(), &back); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	if back.Totals != rep.Totals {
		t.Errorf("report.json totals %+v, in memory %+v", back.Totals, rep.Totals)
	}
	for _, f := range rep.Files {
		base := filepath.Base(f.File)
		switch {
		case strings.Contains(base, "AddingBulkMessages"):
			if f.Error == "" || !strings.Contains(f.Error, "checksum") {
				t.Errorf("%s: error %q, want a header checksum error", base, f.Error)
			}
		case f.Error != "":
			t.Errorf("%s: not opened: %s", base, f.Error)
		case !f.Complete || f.Totals.Failed != 0 || f.Totals.Written != f.Totals.Read:
			t.Errorf("%s: incomplete: %+v, failures %v", base, f.Totals, f.Failures)
		}
	}
	if rep.Complete {
		t.Error("report claims complete although one file could not be opened")
	}
	if want := pinned(t, 561, 184); rep.Totals.Written != want {
		t.Errorf("written %d items over all samples, want %d", rep.Totals.Written, want)
	}
	if n, want := len(files(t, dir, ".eml")), pinned(t, 418, 66); n != want {
		t.Errorf("%d .eml files, want %d", n, want)
	}
}

func TestICALJSParsesEverything(t *testing.T) {
	node, js := testutil.NeedICALJS(t)
	check := filepath.Join(js, "check.js")
	dir, _ := exportAll(t, "eml")
	nICS, nVCF := len(files(t, dir, ".ics")), len(files(t, dir, ".vcf"))
	out, err := exec.Command(node, check, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("ical.js rejected output: %v\n%s", err, out)
	}
	want := fmt.Sprintf("%d files, %d ok, 0 failed", nICS+nVCF, nICS+nVCF)
	if !strings.Contains(string(out), want) {
		t.Errorf("ical.js: %s, want %q", out, want)
	}
	if wantICS, wantVCF := pinned(t, 35, 13), pinned(t, 108, 105); nICS != wantICS || nVCF != wantVCF {
		t.Errorf("%d .ics and %d .vcf files, want %d and %d", nICS, nVCF, wantICS, wantVCF)
	}
}

func TestKhardListsEveryContact(t *testing.T) {
	khard := testutil.NeedTool(t, "khard")
	dir, _ := exportAll(t, "eml")
	// one address book per folder holding .vcf files
	books := map[string]int{}
	for _, p := range files(t, dir, ".vcf") {
		books[filepath.Dir(p)]++
	}
	var conf strings.Builder
	conf.WriteString("[addressbooks]\n")
	i := 0
	for d := range books {
		i++
		fmt.Fprintf(&conf, "[[book%d]]\npath = %s\n", i, d)
	}
	conf.WriteString("[general]\ndebug = no\ndefault_action = list\neditor = true\nmerge_editor = true\n[contact table]\ndisplay = formatted_name\n")
	cfg := filepath.Join(t.TempDir(), "khard.conf")
	if err := os.WriteFile(cfg, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(khard, "-c", cfg, "list", "--parsable")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("khard: %v\n%s", err, out)
	}
	lines := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			lines++
		}
	}
	total := 0
	for _, n := range books {
		total += n
	}
	if lines != total {
		t.Errorf("khard lists %d contacts, we wrote %d vCards:\n%s", lines, total, out)
	}
	// the named contact of ContactCalendar-test.pst, as khard shows it
	if testutil.SharedSamplesDir(t) == "" {
		return // only the shared samples hold that file
	}
	cmd = exec.Command(khard, "-c", cfg, "show", "--format", "yaml", "programmevitam")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	show, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("khard show: %v\n%s", err, show)
	}
	for _, want := range []string{"test@programmevitam.fr", "test-a@programmevitam.fr", "test-b@programmevitam.fr",
		"Mobile number", "Home number", "Office number", "Fax number", "Home town", "Office town"} {
		if !bytes.Contains(show, []byte(want)) {
			t.Errorf("khard show lacks %q:\n%s", want, show)
		}
	}
}

func TestKhalParsesEveryEvent(t *testing.T) {
	khal := testutil.NeedTool(t, "khal")
	dir, _ := exportAll(t, "eml")
	tmp := t.TempDir()
	cfg := filepath.Join(tmp, "config")
	conf := fmt.Sprintf("[calendars]\n[[c]]\npath = %s\ntype = calendar\n[default]\ndefault_calendar = c\n[sqlite]\npath = %s\n[locale]\ntimeformat = %%H:%%M\ndateformat = %%Y-%%m-%%d\nlongdateformat = %%Y-%%m-%%d\ndatetimeformat = %%Y-%%m-%%d %%H:%%M\nlongdatetimeformat = %%Y-%%m-%%d %%H:%%M\n", tmp, filepath.Join(tmp, "khal.db"))
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	found := regexp.MustCompile(`(\d+) events? found`)
	events, want := 0, pinned(t, 33, 13)
	defer func() {
		if events != want {
			t.Errorf("khal read events from %d files, want %d", events, want)
		}
	}()
	for _, p := range files(t, dir, ".ics") {
		cmd := exec.Command(khal, "-c", cfg, "printics", p)
		cmd.Env = append(os.Environ(), "TZ=UTC", "HOME="+tmp)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("khal printics %s: %v\n%s", p, err, out)
			continue
		}
		m := found.FindSubmatch(out)
		if m == nil {
			t.Errorf("khal printics %s: %s", p, out)
			continue
		}
		// tasks and journal entries hold no VEVENT; every event file
		// must yield at least one event
		n, _ := strconv.Atoi(string(m[1]))
		if hasEvent := bytes.Contains(mustRead(t, p), []byte("BEGIN:VEVENT")); hasEvent && n == 0 {
			t.Errorf("khal found no event in %s", p)
		} else if hasEvent {
			events++
		}
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNotmuchIndexesMaildir(t *testing.T) {
	notmuch := testutil.NeedTool(t, "notmuch")
	dir, rep := exportAll(t, "maildir")
	mails := 0
	for _, f := range rep.Files {
		for _, fo := range f.Folders {
			for class, c := range fo.Classes {
				if k := kindOf(class); k == "mail" || k == "other" {
					mails += c.Written
				}
			}
		}
	}
	tmp := t.TempDir()
	cfg := filepath.Join(tmp, "notmuch-config")
	os.WriteFile(cfg, []byte("[database]\npath="+dir+"\n[user]\nname=T\nprimary_email=t@example.com\n[new]\ntags=new\n"), 0o644)
	env := append(os.Environ(), "NOTMUCH_CONFIG="+cfg, "HOME="+tmp)
	run := func(args ...string) string {
		cmd := exec.Command(notmuch, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("notmuch %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("new")
	nfiles, _ := strconv.Atoi(strings.TrimSpace(run("count", "--output=files", "*")))
	if nfiles != mails {
		t.Errorf("notmuch indexed %d files, we wrote %d messages", nfiles, mails)
	}
	// Distinct messages: the same mail stored in two sample PSTs (the
	// pst2john twins share theirs) is one message to notmuch, so compare
	// with the distinct Message-IDs we wrote. Synthesized ids must not
	// merge distinct items: the 294 identical drafts of the Outlook 97
	// sample stay 294 messages.
	ids := map[string]bool{}
	var walkErr error
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || filepath.Base(filepath.Dir(p)) != "cur" {
			return nil
		}
		msg, err := mail.ReadMessage(bytes.NewReader(mustRead(t, p)))
		if err != nil {
			walkErr = fmt.Errorf("%s: %w", p, err)
			return nil
		}
		ids[msg.Header.Get("Message-ID")] = true
		return nil
	})
	if walkErr != nil {
		t.Fatal(walkErr)
	}
	nmsgs, _ := strconv.Atoi(strings.TrimSpace(run("count", "--output=messages", "*")))
	if nmsgs != len(ids) || nmsgs < pinned(t, 400, 60) {
		t.Errorf("notmuch sees %d distinct messages, we wrote %d distinct Message-IDs", nmsgs, len(ids))
	}
	// the Outlook 97 sample is only in the shared samples
	if testutil.SharedSamplesDir(t) != "" {
		if n, _ := strconv.Atoi(strings.TrimSpace(run("count", "--output=messages", `folder:"pst2john__97_outlook_pass12345/Top of Personal Folders/Inbox"`))); n != 170 {
			t.Errorf("notmuch sees %d messages in the Outlook 97 Inbox, want 170", n)
		}
	}
	// a folder with a Japanese name, found by its path (Xapian does not
	// segment Japanese words, so the subject itself is checked in
	// TestEmbeddedJapaneseSubject)
	if out := run("search", "--output=files", `folder:"ruby-msg__msgInMsg/Outlook データ ファイルのトップ"`); !strings.Contains(out, "msgInMsg") {
		t.Errorf("Japanese folder not found by notmuch: %q", out)
	}
}

func TestMuttReadsMbox(t *testing.T) {
	mutt := testutil.NeedTool(t, "mutt")
	tmux := testutil.NeedTool(t, "tmux")
	dir, rep := exportAll(t, "mbox")
	want := map[string]int{} // mbox file → messages written into it
	for _, f := range rep.Files {
		for _, fo := range f.Folders {
			n := 0
			for class, c := range fo.Classes {
				if k := kindOf(class); k == "mail" || k == "other" {
					n += c.Written
				}
			}
			if n > 0 {
				want[fo.Path+"|"+f.Out] = n
			}
		}
	}
	mboxes := files(t, dir, ".mbox")
	if len(mboxes) != len(want) {
		t.Errorf("%d mbox files for %d folders with mail", len(mboxes), len(want))
	}
	tmp := t.TempDir()
	rc := filepath.Join(tmp, "muttrc")
	os.WriteFile(rc, []byte("set folder="+tmp+"\nset sort=mailbox-order\nset status_format=\"msgs=%m\"\nset check_new=no\n"), 0o644)
	status := regexp.MustCompile(`msgs=(\d+)`)
	checked := 0
	for _, mb := range mboxes {
		if checked >= 12 { // each start costs a second; a dozen folders cover every sample kind
			break
		}
		fromLines := bytes.Count(append([]byte("\n"), mustRead(t, mb)...), []byte("\nFrom "))
		session := fmt.Sprintf("pstsync-test-%d-%d", os.Getpid(), checked)
		// argv form: no shell, so folder names with quotes are safe
		// one server per run: a server whose last session was killed is
		// still exiting when the next client would connect to it
		cmd := exec.Command(tmux, "-L", session, "-f", "/dev/null", "new-session", "-d", "-s", session,
			"-x", "200", "-y", "50", "-e", "HOME="+tmp, mutt, "-n", "-F", rc, "-R", "-f", mb)
		cmd.Env = append(os.Environ(), "TERM=xterm")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("tmux: %v\n%s", err, out)
		}
		var m [][]byte
		for i := 0; i < 50 && m == nil; i++ {
			time.Sleep(100 * time.Millisecond)
			screen, _ := exec.Command(tmux, "-L", session, "capture-pane", "-p", "-t", session).Output()
			m = status.FindSubmatch(screen)
		}
		exec.Command(tmux, "-L", session, "kill-server").Run()
		if m == nil {
			t.Errorf("mutt did not open %s", mb)
			continue
		}
		n, _ := strconv.Atoi(string(m[1]))
		if n != fromLines || n == 0 {
			t.Errorf("mutt reads %d messages in %s, which has %d From_ lines", n, mb, fromLines)
		}
		checked++
	}
}

func kindOf(class string) string {
	c := strings.ToUpper(class)
	for _, p := range []string{"IPM.CONTACT", "IPM.DISTLIST", "IPM.APPOINTMENT", "IPM.TASK", "IPM.ACTIVITY", "IPM.STICKYNOTE"} {
		if c == p || strings.HasPrefix(c, p+".") {
			return "item"
		}
	}
	if strings.HasPrefix(c, "IPM.MICROSOFT") {
		return "other"
	}
	return "mail"
}

// TestEmbeddedJapaneseSubject parses the exported message of msgInMsg.pst
// with the standard library: the attached message/rfc822 part carries the
// Japanese subject, RFC 2047-encoded.
func TestEmbeddedJapaneseSubject(t *testing.T) {
	dir, _ := exportAll(t, "eml")
	var emls []string
	for _, p := range files(t, dir, ".eml") {
		if strings.Contains(p, "msgInMsg") {
			emls = append(emls, p)
		}
	}
	if len(emls) != 1 {
		t.Fatalf("%d messages exported from msgInMsg.pst, want 1", len(emls))
	}
	msg, err := mail.ReadMessage(bytes.NewReader(mustRead(t, emls[0])))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var subjects []string
	for {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		if strings.HasPrefix(part.Header.Get("Content-Type"), "message/rfc822") {
			inner, err := mail.ReadMessage(part)
			if err != nil {
				t.Fatal(err)
			}
			s, err := new(mime.WordDecoder).DecodeHeader(inner.Header.Get("Subject"))
			if err != nil {
				t.Fatal(err)
			}
			subjects = append(subjects, s)
		}
	}
	if len(subjects) != 1 || subjects[0] != "Microsoft Outlook テスト メッセージ" {
		t.Errorf("embedded subjects %q", subjects)
	}
}
