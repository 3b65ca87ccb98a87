package sink

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/mail"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func ctx() context.Context { return context.Background() }

// testMessage builds a CRLF message whose body is body (CRLF lines).
func testMessage(subject, body string) []byte {
	return []byte("From: Alice Example <alice@example.com>\r\n" +
		"To: bob@example.com\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: Mon, 02 Jan 2006 15:04:05 +0000\r\n" +
		"Message-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@example.com>\r\n" +
		"\r\n" + body)
}

var trickyBody = "Hello,\r\nFrom here on it is tricky:\r\n>From quoted once\r\n>>From quoted twice\r\nFrom \r\nFromage is not a From_ line\r\n\r\nFrom the end"

// readMboxrd splits an mboxrd file into messages, removing one level of
// '>' quoting, and returns the From_ lines too.
func readMboxrd(t *testing.T, path string) (froms []string, msgs []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("\r\n")) {
		t.Errorf("%s contains CRLF", path)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var cur []string
	flush := func() {
		if cur == nil {
			return
		}
		// The separator adds one empty line at the end.
		if len(cur) == 0 || cur[len(cur)-1] != "" {
			t.Errorf("message not followed by an empty line: %q", cur)
		} else {
			cur = cur[:len(cur)-1]
		}
		msgs = append(msgs, strings.Join(cur, "\n")+"\n")
	}
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "From ") {
			flush()
			froms = append(froms, line)
			cur = []string{}
			continue
		}
		if cur == nil {
			t.Fatalf("%s does not start with a From_ line", path)
		}
		if isFromLine([]byte(line)) && strings.HasPrefix(line, ">") {
			line = line[1:]
		}
		cur = append(cur, line)
	}
	flush()
	return froms, msgs
}

func TestMboxWriter(t *testing.T) {
	dir := t.TempDir()
	w, err := NewMboxWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2024, 3, 5, 7, 8, 9, 0, time.FixedZone("X", 3600))
	items := []MailItem{
		{Raw: testMessage("one", trickyBody), Date: date, Flags: FlagSeen | FlagAnswered | FlagFlagged},
		{Raw: []byte("Return-Path: <bounce@example.org>\r\nStatus: O\r\nX-Status: \r\n  continued\r\nSubject: two\r\n\r\nbody without final newline"), Flags: 0},
		{Raw: testMessage("three", "x\r\n")},
	}
	for _, it := range items[:2] {
		if err := w.Add(ctx(), []string{"Inbox"}, it); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Add(ctx(), []string{"Inbox", "Sub/Folder"}, items[2]); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(ctx(), nil, items[2]); err != nil {
		t.Fatal(err)
	}
	// Nothing final before Close.
	if _, err := os.Stat(filepath.Join(dir, "Inbox.mbox")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("mbox visible before Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	assertNoTemp(t, dir)
	files := listFiles(t, dir)
	sort.Strings(files)
	if want := []string{"Inbox.mbox", "Inbox/Sub_Folder.mbox", "root.mbox"}; !reflect.DeepEqual(files, want) {
		t.Fatalf("files = %q, want %q", files, want)
	}

	froms, msgs := readMboxrd(t, filepath.Join(dir, "Inbox.mbox"))
	if len(msgs) != 2 {
		t.Fatalf("got %d messages", len(msgs))
	}
	if froms[0] != "From alice@example.com Tue Mar  5 06:08:09 2024" {
		t.Errorf("From_ line = %q", froms[0])
	}
	if froms[1] != "From bounce@example.org Thu Jan  1 00:00:00 1970" {
		t.Errorf("From_ line = %q", froms[1])
	}
	m0, err := mail.ReadMessage(strings.NewReader(msgs[0]))
	if err != nil {
		t.Fatal(err)
	}
	if m0.Header.Get("Status") != "RO" || m0.Header.Get("X-Status") != "AF" {
		t.Errorf("flags headers: Status=%q X-Status=%q", m0.Header.Get("Status"), m0.Header.Get("X-Status"))
	}
	var body bytes.Buffer
	body.ReadFrom(m0.Body)
	if want := strings.ReplaceAll(trickyBody, "\r\n", "\n") + "\n"; body.String() != want {
		t.Errorf("body after unquoting:\n%q\nwant\n%q", body.String(), want)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "Inbox.mbox"))
	for _, want := range []string{"\n>From here on", "\n>>From quoted once", "\n>>>From quoted twice", "\n>From \n", "\nFromage", "\n>From the end\n\n"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("mbox lacks %q", want)
		}
	}
	m1, err := mail.ReadMessage(strings.NewReader(msgs[1]))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m1.Header["Status"]; ok {
		t.Errorf("old Status header kept for an unread message: %v", m1.Header)
	}
	if _, ok := m1.Header["X-Status"]; ok {
		t.Errorf("old X-Status header kept: %v", m1.Header)
	}
	if m1.Header.Get("Subject") != "two" {
		t.Errorf("continuation handling broke the header: %v", m1.Header)
	}
}

// TestMboxWriterBatch: with a Batch the mbox files are the same, are not
// fsynced one by one, and are left to the batch's Sync, which knows them.
func TestMboxWriterBatch(t *testing.T) {
	write := func(b *Batch) string {
		dir := t.TempDir()
		w, err := NewMboxWriter(dir)
		if err != nil {
			t.Fatal(err)
		}
		if b != nil {
			w.UseBatch(b)
		}
		for _, f := range [][]string{{"Inbox"}, {"Inbox"}, {"Inbox", "Sub"}, nil} {
			if err := w.Add(ctx(), f, MailItem{Raw: testMessage("s", "body\r\n")}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	b := NewBatch()
	plain, batched := write(nil), write(b)
	files := listFiles(t, plain)
	sort.Strings(files)
	if got := listFiles(t, batched); len(got) != len(files) {
		t.Fatalf("with a batch: files %q, without: %q", got, files)
	}
	var want []string
	for _, f := range files {
		p, q := filepath.Join(plain, f), filepath.Join(batched, f)
		a, _ := os.ReadFile(p)
		c, err := os.ReadFile(q)
		if err != nil || !bytes.Equal(a, c) {
			t.Errorf("%s differs with a batch (%v)", f, err)
		}
		want = append(want, q)
	}
	got := append([]string(nil), b.files...)
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("batch knows %q, want %q", got, want)
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
}

func TestMboxRerunAndAbort(t *testing.T) {
	dir := t.TempDir()
	run := func(n int) {
		w, err := NewMboxWriter(dir)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			if err := w.Add(ctx(), []string{"Inbox"}, MailItem{Raw: testMessage("m", "x\r\n")}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	run(3)
	first, _ := os.ReadFile(filepath.Join(dir, "Inbox.mbox"))
	run(3)
	second, _ := os.ReadFile(filepath.Join(dir, "Inbox.mbox"))
	if !bytes.Equal(first, second) {
		t.Error("re-run changed the mbox (appended?)")
	}
	if _, msgs := readMboxrd(t, filepath.Join(dir, "Inbox.mbox")); len(msgs) != 3 {
		t.Errorf("got %d messages after re-run", len(msgs))
	}
	// Abort keeps the previous file and removes temporaries.
	w, _ := NewMboxWriter(dir)
	if err := w.Add(ctx(), []string{"Inbox"}, MailItem{Raw: testMessage("new", "y\r\n")}); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "Inbox.mbox"))
	if !bytes.Equal(after, first) {
		t.Error("Abort changed the committed mbox")
	}
	assertNoTemp(t, dir)
	if err := w.Add(ctx(), []string{"Inbox"}, MailItem{}); err == nil {
		t.Error("Add after Abort accepted")
	}
}

func TestMboxManyFolders(t *testing.T) {
	dir := t.TempDir()
	w, _ := NewMboxWriter(dir)
	const n = maxOpenMbox*2 + 5
	for round := 0; round < 2; round++ {
		for i := 0; i < n; i++ {
			if err := w.Add(ctx(), []string{"F", strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('0'+i/26))}, MailItem{Raw: testMessage("m", "x\r\n")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if w.open > maxOpenMbox {
		t.Errorf("%d files open, limit %d", w.open, maxOpenMbox)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files := listFiles(t, dir)
	if len(files) != n {
		t.Fatalf("got %d files, want %d", len(files), n)
	}
	for _, f := range files {
		if _, msgs := readMboxrd(t, filepath.Join(dir, f)); len(msgs) != 2 {
			t.Errorf("%s: %d messages, want 2", f, len(msgs))
		}
	}
}

func FuzzFormatMbox(f *testing.F) {
	f.Add([]byte(trickyBody))
	f.Add([]byte("From x\r\n\r\nFrom y"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, raw []byte) {
		out := formatMboxMessage(MailItem{Raw: raw, Flags: FlagSeen})
		if !bytes.HasPrefix(out, []byte("From ")) || !bytes.HasSuffix(out, []byte("\n\n")) {
			t.Fatalf("bad framing: %q", out)
		}
		// No line other than the first may start with "From ".
		lines := bytes.Split(out, []byte("\n"))
		for _, l := range lines[1:] {
			if bytes.HasPrefix(l, []byte("From ")) {
				t.Fatalf("unquoted From_ line in %q", out)
			}
		}
	})
}

func TestEMLWriter(t *testing.T) {
	dir := t.TempDir()
	date := time.Date(2023, 7, 1, 12, 0, 0, 0, time.UTC)
	run := func() {
		w, err := NewEMLWriter(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range []struct {
			folder []string
			m      MailItem
		}{
			{[]string{"Inbox"}, MailItem{Raw: testMessage("a", "x\r\n"), Name: "Re: Hello / World?", Date: date}},
			{[]string{"Inbox"}, MailItem{Raw: testMessage("b", "y\r\n"), Name: "Re: Hello / World?"}},
			{[]string{"inbox"}, MailItem{Raw: testMessage("c", "z\r\n"), Name: ""}},
			{[]string{"Sent Items", ".."}, MailItem{Raw: testMessage("d", "z\r\n"), Name: "CON"}},
			{nil, MailItem{Raw: testMessage("e", "z\r\n"), Name: strings.Repeat("Ж", 100)}},
		} {
			if err := w.Add(ctx(), it.folder, it.m); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	run()
	files := listFiles(t, dir)
	sort.Strings(files)
	want := []string{
		"000001-" + strings.Repeat("Ж", 30) + ".eml",
		"Inbox/000001-Re_ Hello _ World_.eml",
		"Inbox/000002-Re_ Hello _ World_.eml",
		"Sent Items/_/000001-CON_.eml",
		"inbox/000003-message.eml",
	}
	sort.Strings(want)
	if !reflect.DeepEqual(files, want) {
		t.Fatalf("files:\n%q\nwant\n%q", files, want)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "Inbox", "000001-Re_ Hello _ World_.eml"))
	if !bytes.Equal(got, testMessage("a", "x\r\n")) {
		t.Error("EML content changed")
	}
	if st, _ := os.Stat(filepath.Join(dir, "Inbox", "000001-Re_ Hello _ World_.eml")); !st.ModTime().Equal(date) {
		t.Errorf("mtime = %v, want %v", st.ModTime(), date)
	}
	run()
	if again := listFiles(t, dir); len(again) != len(files) {
		t.Errorf("re-run changed the file set: %q", again)
	}
}

func TestMaildirWriter(t *testing.T) {
	dir := t.TempDir()
	date := time.Unix(1700000000, 0)
	write := func(flags MailFlags, body string) {
		w, err := NewMaildirWriter(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Add(ctx(), []string{"Inbox"}, MailItem{Raw: testMessage("a", body), Date: date, Flags: flags, Key: "nid:2097188"}); err != nil {
			t.Fatal(err)
		}
		// Two identical messages without a key stay two messages.
		for i := 0; i < 2; i++ {
			if err := w.Add(ctx(), []string{"Inbox"}, MailItem{Raw: testMessage("dup", "d\r\n")}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Add(ctx(), []string{"Inbox", "tmp"}, MailItem{Raw: testMessage("c", "c\r\n"), Key: "k2", Flags: FlagDraft | FlagDeleted | FlagForwarded}); err != nil {
			t.Fatal(err)
		}
		if err := w.Add(ctx(), []string{"Inbox"}, MailItem{Raw: testMessage("a", body), Key: "nid:2097188"}); err == nil {
			t.Error("duplicate key in one run accepted")
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	write(FlagSeen|FlagFlagged|FlagAnswered, "first\r\n")
	files := listFiles(t, dir)
	if len(files) != 4 {
		t.Fatalf("files = %q", files)
	}
	var keyed string
	for _, f := range files {
		switch {
		case strings.HasPrefix(f, "Inbox/cur/1700000000.K"):
			keyed = f
			if !strings.HasSuffix(f, ".pstsync:2,FRS") {
				t.Errorf("bad name %q", f)
			}
		case strings.HasPrefix(f, "Inbox/tmp_/cur/0.K"):
			if !strings.HasSuffix(f, ":2,DPT") {
				t.Errorf("bad flags in %q", f)
			}
		case strings.HasPrefix(f, "Inbox/cur/0.K") && strings.HasSuffix(f, ".pstsync:2,"):
		default:
			t.Errorf("unexpected file %q", f)
		}
	}
	for _, sub := range []string{"Inbox/new", "Inbox/tmp", "Inbox/tmp_/tmp"} {
		if st, err := os.Stat(filepath.Join(dir, sub)); err != nil || !st.IsDir() {
			t.Errorf("missing Maildir dir %s", sub)
		}
	}
	got, _ := os.ReadFile(filepath.Join(dir, keyed))
	if bytes.Contains(got, []byte("\r\n")) || !bytes.HasSuffix(got, []byte("\nfirst\n")) {
		t.Errorf("Maildir content not LF: %q", got)
	}
	if st, _ := os.Stat(filepath.Join(dir, keyed)); !st.ModTime().Equal(date) {
		t.Errorf("mtime = %v", st.ModTime())
	}

	// Re-run with other flags and content: replaced, not duplicated.
	write(FlagSeen, "second\r\n")
	files2 := listFiles(t, dir)
	if len(files2) != 4 {
		t.Fatalf("re-run: files = %q", files2)
	}
	wantName := strings.TrimSuffix(keyed, "FRS") + "S"
	got, err := os.ReadFile(filepath.Join(dir, wantName))
	if err != nil || !bytes.HasSuffix(got, []byte("\nsecond\n")) {
		t.Errorf("re-run did not replace %s: %v %q", wantName, err, got)
	}
	// Identical re-run: identical file set.
	write(FlagSeen, "second\r\n")
	if files3 := listFiles(t, dir); !reflect.DeepEqual(files3, files2) {
		t.Errorf("idempotent re-run changed files:\n%q\n%q", files2, files3)
	}
}

func TestMaildirFlags(t *testing.T) {
	tests := []struct {
		f    MailFlags
		want string
	}{
		{0, ""},
		{FlagSeen, "S"},
		{FlagSeen | FlagAnswered | FlagFlagged | FlagDraft | FlagForwarded | FlagDeleted, "DFPRST"},
		{FlagAnswered | FlagDraft, "DR"},
	}
	for _, tc := range tests {
		if got := tc.f.Maildir(); got != tc.want {
			t.Errorf("%08b.Maildir() = %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestNewMailWriter(t *testing.T) {
	for _, f := range []string{"eml", "MBOX", "maildir"} {
		w, err := NewMailWriter(f, t.TempDir())
		if err != nil || w == nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	}
	if _, err := NewMailWriter("pst", t.TempDir()); err == nil {
		t.Error("unknown format accepted")
	}
	c, cancel := context.WithCancel(ctx())
	cancel()
	w, _ := NewEMLWriter(t.TempDir())
	if err := w.Add(c, nil, MailItem{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestSeqPrefix(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 99999, 100000, 999999, 1000000, 1234567890} {
		if got, want := seqPrefix(n), fmt.Sprintf("%06d-", n); got != want {
			t.Errorf("seqPrefix(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestMailItemWrite: a message given by its Write function lands on disk
// exactly as the same message given as Raw, in every format.
func TestMailItemWrite(t *testing.T) {
	raw := []byte("From: a@example.com\r\nSubject: streamed\r\nDate: Mon, 2 Jan 2006 15:04:05 +0000\r\n\r\nFrom the start\r\nbody\r\n")
	date := time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)
	for _, format := range []string{FormatEML, FormatMbox, FormatMaildir} {
		t.Run(format, func(t *testing.T) {
			dirs := [2]string{t.TempDir(), t.TempDir()}
			for i, dir := range dirs {
				w, err := NewMailWriter(format, dir)
				if err != nil {
					t.Fatal(err)
				}
				m := MailItem{Raw: raw, Date: date, Name: "streamed", Seq: 1, Key: "k1"}
				if i == 1 {
					m.Raw = nil
					m.Write = func(w io.Writer) error { _, err := w.Write(raw); return err }
				}
				if err := w.Add(t.Context(), []string{"Inbox"}, m); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
			}
			a, b := readTree(t, dirs[0]), readTree(t, dirs[1])
			if len(a) == 0 || !maps.Equal(a, b) {
				t.Errorf("Raw gave %v\nWrite gave %v", a, b)
			}
		})
	}
}

// readTree maps the relative path of every file under dir to its content.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
