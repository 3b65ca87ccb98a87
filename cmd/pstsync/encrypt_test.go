package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/config"
	"github.com/pstsync/pstsync/sink/cryptstore"
	"github.com/pstsync/pstsync/sink/localstore"
	"github.com/pstsync/pstsync/snapshot"
)

// storeFiles returns every file below dir with its bytes.
func storeFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertSecretsAbsent fails when a file's name or content holds a secret.
func assertSecretsAbsent(t *testing.T, files map[string][]byte, secrets []string) {
	t.Helper()
	if len(files) == 0 {
		t.Fatal("no files")
	}
	for p, b := range files {
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) || strings.Contains(p, s) {
				t.Errorf("%s holds %q", p, s)
			}
		}
	}
}

func TestEncryptedStoreEndToEnd(t *testing.T) {
	dir := syncEnv(t)
	t.Setenv("PSTSYNC_TEST_CHEAP_KDF", "1")
	t.Setenv("PSTSYNC_PASSPHRASE", "")
	t.Setenv("PSTSYNC_NEW_PASSPHRASE", "")
	store := filepath.Join(dir, "store")
	sync := func(user string, extra ...string) (int, string) {
		t.Helper()
		args := append([]string{"sync", "--user", user, "--source", filepath.Join(dir, user),
			"--store", store, "--mailbox", filepath.Join(dir, "mb-"+user), "--quiet", "--init"}, extra...)
		code, out, errb := runCLI(t, args...)
		return code, out + errb
	}
	const marker = "MARKER-q8z4k1"
	var secrets []string
	for i, user := range []string{"alice", "bob"} {
		for j := range 5 {
			uid := fmt.Sprintf("uid-%s-%d-7c1d@example.org", user, j)
			body := ev(uid, fmt.Sprintf("%s %d %d", marker, i, j))
			writeSrc(t, filepath.Join(dir, user), fmt.Sprintf("e%d.ics", j), body, 3*time.Hour)
			secrets = append(secrets, uid)
		}
	}
	sum := sha256.Sum256([]byte(marker))
	secrets = append(secrets, marker, hex.EncodeToString(sum[:]))

	// a clear store first: it works as before
	if code, out := sync("alice"); code != exitOK {
		t.Fatalf("clear sync: %d %s", code, out)
	}
	// encrypt needs a passphrase
	if code, _, errb := runCLI(t, "store", "encrypt", "--store", store); code != exitConfig || !strings.Contains(errb, "passphrase") {
		t.Fatalf("encrypt without passphrase: %d %s", code, errb)
	}
	t.Setenv("PSTSYNC_PASSPHRASE", "office secret one")
	// with a passphrase configured, a clear store is refused
	if code, out := sync("alice"); code != exitConfig || !strings.Contains(out, "store encrypt") {
		t.Fatalf("passphrase on a clear store: %d %s", code, out)
	}
	if code, out, errb := runCLI(t, "store", "encrypt", "--store", store); code != exitOK {
		t.Fatalf("encrypt: %d %s %s", code, out, errb)
	}
	for _, user := range []string{"bob", "alice", "bob"} {
		if code, out := sync(user); code != exitOK {
			t.Fatalf("encrypted sync %s: %d %s", user, code, out)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "mb-alice", "calendar", "uid-bob-3-7c1d@example.org.ics"))
	if err != nil || !strings.Contains(string(data), marker+" 1 3") {
		t.Fatalf("bob's item did not reach alice through the encrypted store: %v %s", err, data)
	}
	assertSecretsAbsent(t, storeFiles(t, store), secrets)
	if code, out, errb := runCLI(t, "check", "--store", store); code != exitOK {
		t.Fatalf("check: %d %s %s", code, out, errb)
	}

	// a wrong or missing passphrase: one line, exit code, nothing written
	before := storeFiles(t, store)
	for _, pass := range []string{"wrong", ""} {
		t.Setenv("PSTSYNC_PASSPHRASE", pass)
		writeSrc(t, filepath.Join(dir, "alice"), "new.ics", ev("new-item", "new"), 3*time.Hour)
		code, out := sync("alice")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if last := lines[len(lines)-1]; code != exitPassphrase || !strings.HasPrefix(last, "pstsync: store ") || !strings.Contains(last, "passphrase") {
			t.Fatalf("passphrase %q: exit %d, %q", pass, code, out)
		}
		after := storeFiles(t, store)
		if len(after) != len(before) {
			t.Fatalf("passphrase %q: %d files, before %d", pass, len(after), len(before))
		}
		for p, b := range before {
			if !bytes.Equal(after[p], b) {
				t.Fatalf("passphrase %q changed %s", pass, p)
			}
		}
	}
	t.Setenv("PSTSYNC_PASSPHRASE", "office secret one")

	// keys: add, list, passwd, remove
	t.Setenv("PSTSYNC_NEW_PASSPHRASE", "bob's own")
	if code, out, errb := runCLI(t, "key", "add", "--store", store, "--user", "bob"); code != exitOK || !strings.Contains(out, "added") {
		t.Fatalf("key add: %d %s %s", code, out, errb)
	}
	_, list, _ := runCLI(t, "key", "list", "--store", store)
	if strings.Count(list, "\n") != 2 || !strings.Contains(list, "* ") || !regexp.MustCompile(`(?m)^  [0-9a-f]+  bob `).MatchString(list) {
		t.Fatalf("key list:\n%s", list)
	}
	t.Setenv("PSTSYNC_PASSPHRASE", "bob's own")
	if code, out := sync("bob"); code != exitOK {
		t.Fatalf("sync with the second key: %d %s", code, out)
	}
	t.Setenv("PSTSYNC_NEW_PASSPHRASE", "bob's next")
	if code, out, errb := runCLI(t, "key", "passwd", "--store", store); code != exitOK {
		t.Fatalf("key passwd: %d %s %s", code, out, errb)
	}
	if code, out := sync("bob"); code != exitPassphrase {
		t.Fatalf("old passphrase after passwd: %d %s", code, out)
	}
	t.Setenv("PSTSYNC_PASSPHRASE", "bob's next")
	if code, out := sync("bob"); code != exitOK {
		t.Fatalf("new passphrase after passwd: %d %s", code, out)
	}
	_, list, _ = runCLI(t, "key", "list", "--store", store)
	var other, mine string
	for _, l := range strings.Split(strings.TrimSpace(list), "\n") {
		f := strings.Fields(l)
		if f[0] == "*" {
			mine = f[1]
		} else {
			other = f[0]
		}
	}
	if code, _, _ := runCLI(t, "key", "remove", "--store", store, mine); code == exitOK {
		t.Fatal("removed the key in use")
	}
	if code, out, errb := runCLI(t, "key", "remove", "--store", store, other); code != exitOK {
		t.Fatalf("key remove: %d %s %s", code, out, errb)
	}
	t.Setenv("PSTSYNC_PASSPHRASE", "office secret one")
	if code, _ := sync("alice"); code != exitPassphrase {
		t.Fatalf("removed key still opens: %d", code)
	}
	t.Setenv("PSTSYNC_PASSPHRASE", "bob's next")

	// a flipped byte anywhere is reported by check, by name
	files := storeFiles(t, store)
	for p, b := range files {
		flipped := bytes.Clone(b)
		flipped[len(b)/2] ^= 0x20
		os.WriteFile(p, flipped, 0o644)
		code, out, errb := runCLI(t, "check", "--store", store)
		rel, _ := filepath.Rel(store, p)
		if code == exitOK || !strings.Contains(out+errb, filepath.ToSlash(rel)) {
			t.Errorf("flipped byte in %s: exit %d\n%s%s", rel, code, out, errb)
		}
		os.WriteFile(p, b, 0o644)
	}
	if code, out, errb := runCLI(t, "check", "--store", store); code != exitOK {
		t.Fatalf("check after restoring: %d %s %s", code, out, errb)
	}
}

// TestSyncKilledAtAnyMomentEncrypted is the crash test on a store that
// starts encrypted (its first sync has a passphrase).
func TestSyncKilledAtAnyMomentEncrypted(t *testing.T) {
	t.Setenv("PSTSYNC_PASSPHRASE", "crash test passphrase")
	t.Setenv("PSTSYNC_TEST_CHEAP_KDF", "1")
	TestSyncKilledAtAnyMoment(t)
}

func TestFirstSyncWithPassphraseStartsEncrypted(t *testing.T) {
	dir := syncEnv(t)
	t.Setenv("PSTSYNC_PASSPHRASE", "from the start")
	t.Setenv("PSTSYNC_TEST_CHEAP_KDF", "1")
	store := filepath.Join(dir, "store")
	writeSrc(t, filepath.Join(dir, "alice"), "e.ics", ev("uid-first-9q@x", "SECRET-SUMMARY-31"), 3*time.Hour)
	code, out, errb := runCLI(t, "sync", "--user", "alice", "--source", filepath.Join(dir, "alice"), "--store", store,
		"--mailbox", filepath.Join(dir, "mb"), "--quiet", "--init")
	if code != exitOK {
		t.Fatalf("first sync: %d %s %s", code, out, errb)
	}
	if _, err := os.Stat(filepath.Join(store, "keys", "0000000000000001")); err != nil {
		t.Fatalf("no key file: %v", err)
	}
	assertSecretsAbsent(t, storeFiles(t, store), []string{"uid-first-9q@x", "SECRET-SUMMARY-31"})
}

// TestSyncAfterKeyFileCut: a first sync with a passphrase killed while it
// wrote its key file leaves the store empty but for a hidden temporary
// file. check says so in one line; the next sync, --init or not (the
// scheduled one), starts the store encrypted.
func TestSyncAfterKeyFileCut(t *testing.T) {
	for _, init := range []bool{false, true} {
		t.Run(fmt.Sprintf("init %v", init), func(t *testing.T) {
			dir := syncEnv(t)
			t.Setenv("PSTSYNC_PASSPHRASE", "cut short")
			t.Setenv("PSTSYNC_TEST_CHEAP_KDF", "1")
			store := filepath.Join(dir, "store")
			if err := os.MkdirAll(filepath.Join(store, "keys"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(store, "keys", ".0000000000000001.3k2j.pstsync-tmp"), []byte(`{"version":1`), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errb := runCLI(t, "check", "--store", store)
			if code != exitConfig || !strings.Contains(errb, "holds nothing yet") {
				t.Fatalf("check of the empty store: %d %s %s", code, out, errb)
			}
			writeSrc(t, filepath.Join(dir, "alice"), "e.ics", ev("uid-cut-1@x", "SECRET-CUT-7"), 3*time.Hour)
			args := []string{"sync", "--user", "alice", "--source", filepath.Join(dir, "alice"), "--store", store,
				"--mailbox", filepath.Join(dir, "mb"), "--quiet"}
			if init {
				args = append(args, "--init")
			}
			if code, out, errb := runCLI(t, args...); code != exitOK {
				t.Fatalf("sync: %d %s %s", code, out, errb)
			}
			if _, err := os.Stat(filepath.Join(store, "keys", "0000000000000001")); err != nil {
				t.Fatalf("no key file: %v", err)
			}
			assertSecretsAbsent(t, storeFiles(t, store), []string{"uid-cut-1@x", "SECRET-CUT-7"})
			if code, out, errb := runCLI(t, "check", "--store", store); code != exitOK {
				t.Fatalf("check: %d %s %s", code, out, errb)
			}
		})
	}
}

// TestLogItemAfterPrune: the history of an item whose objects prune
// removed is still shown (on an encrypted store), and exported as JSON and
// CSV with --since.
func TestLogItemAfterPrune(t *testing.T) {
	dir := syncEnv(t)
	t.Setenv("PSTSYNC_PASSPHRASE", "audit")
	t.Setenv("PSTSYNC_TEST_CHEAP_KDF", "1")
	store := filepath.Join(dir, "store")
	cli := func(args ...string) (int, string) {
		code, out, errb := runCLI(t, args...)
		return code, out + errb
	}
	for i, title := range []string{"Alpha one", "Alpha two", "Alpha three"} {
		writeSrc(t, filepath.Join(dir, "alice"), "a.ics", ev("A-uid", title), time.Duration(3-i)*time.Hour)
		if i == 1 {
			writeSrc(t, filepath.Join(dir, "alice"), "b.ics", ev("B-uid", "Beta"), 2*time.Hour)
		}
		if code, out := cli("sync", "--user", "alice", "--source", filepath.Join(dir, "alice"), "--store", store,
			"--mailbox", filepath.Join(dir, "mb"), "--quiet", "--init", "--prune-every", "0s"); code != exitOK {
			t.Fatalf("sync: %d %s", code, out)
		}
	}
	if code, out := cli("forget", "--keep-within", "0d", "--keep-daily", "0", "--keep-monthly", "0", "--grace", "0s", "--store", store); code != exitOK {
		t.Fatalf("forget: %d %s", code, out)
	}
	code, out := cli("log", "--item", "A-uid", "--store", store)
	if code != exitOK || strings.Count(out, "A-uid") != 3 || strings.Count(out, "pruned") != 2 ||
		!strings.Contains(out, `"Alpha one"`) || !strings.Contains(out, "add") || strings.Contains(out, "B-uid") {
		t.Fatalf("log --item: %d\n%s", code, out)
	}
	if code, out := cli("log", "--item", "nope", "--store", store); code == exitOK || !strings.Contains(out, "nope") {
		t.Fatalf("log --item of an unknown UID: %d %s", code, out)
	}
	code, out = cli("log", "--json", "--store", store)
	var events []map[string]any
	if err := json.Unmarshal([]byte(out), &events); code != exitOK || err != nil || len(events) != 4 {
		t.Fatalf("log --json: %d %v\n%s", code, err, out)
	}
	code, out = cli("log", "--csv", "--since", time.Now().Add(24*time.Hour).Format("2006-01-02"), "--store", store)
	if code != exitOK || strings.TrimSpace(out) != strings.Join(eventsCSVHeader, ",") {
		t.Fatalf("log --csv --since tomorrow: %d\n%s", code, out)
	}
	code, out = cli("log", "--csv", "--since", "2000-01-01", "--store", store)
	if code != exitOK || strings.Count(out, "\n") != 5 || !strings.Contains(out, ",alice,") {
		t.Fatalf("log --csv: %d\n%s", code, out)
	}
	if code, _ := cli("log", "--since", "yesterday", "--store", store); code != exitUsage {
		t.Fatalf("bad --since: %d", code)
	}
}

// TestLogItemFields: log --item, --json and --csv name the fields each
// edit changed (property names, never values), also after prune removed
// the revisions; a private item's record names busy-time fields only and
// keeps its title private.
func TestLogItemFields(t *testing.T) {
	dir := syncEnv(t)
	t.Setenv("PSTSYNC_PASSPHRASE", "fields")
	t.Setenv("PSTSYNC_TEST_CHEAP_KDF", "1")
	store := filepath.Join(dir, "store")
	cli := func(args ...string) (int, string) {
		code, out, errb := runCLI(t, args...)
		return code, out + errb
	}
	withProps := func(ics string, props ...string) string {
		return strings.Replace(ics, "END:VEVENT", strings.Join(props, "\r\n")+"\r\nEND:VEVENT", 1)
	}
	steps := []struct{ a, p string }{
		{withProps(ev("A-uid", "Alpha"), "LOCATION:Room 1", "DESCRIPTION:agenda"),
			withProps(ev("P-uid", "Dentist Smith"), "CLASS:PRIVATE", "LOCATION:Clinic 7")},
		{withProps(ev("A-uid", "Alpha moved"), "LOCATION:Room 2", "DESCRIPTION:agenda"),
			strings.Replace(withProps(ev("P-uid", "Dentist Jones"), "CLASS:PRIVATE", "LOCATION:Clinic 9"),
				"DTEND:20250301T110000Z", "DTEND:20250301T113000Z", 1)},
	}
	for i, s := range steps {
		writeSrc(t, filepath.Join(dir, "alice"), "a.ics", s.a, time.Duration(3-i)*time.Hour)
		writeSrc(t, filepath.Join(dir, "alice"), "p.ics", s.p, time.Duration(3-i)*time.Hour)
		if code, out := cli("sync", "--user", "alice", "--source", filepath.Join(dir, "alice"), "--store", store,
			"--mailbox", filepath.Join(dir, "mb"), "--quiet", "--init", "--prune-every", "0s"); code != exitOK {
			t.Fatalf("sync %d: %d %s", i, code, out)
		}
	}
	// a later revision, so that prune removes both of the edits
	writeSrc(t, filepath.Join(dir, "alice"), "b.ics", ev("B-uid", "Beta"), time.Hour)
	if code, out := cli("sync", "--user", "alice", "--source", filepath.Join(dir, "alice"), "--store", store,
		"--mailbox", filepath.Join(dir, "mb"), "--quiet", "--prune-every", "0s"); code != exitOK {
		t.Fatalf("sync: %d %s", code, out)
	}
	check := func(when string, pruned bool) {
		t.Helper()
		code, out := cli("log", "--item", "A-uid", "--store", store)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != exitOK || len(lines) != 2 || strings.Contains(lines[0], "fields:") ||
			!strings.Contains(lines[1], `"Alpha moved" fields: LOCATION,SUMMARY`) || strings.Contains(out, "pruned") != pruned {
			t.Fatalf("%s: log --item A-uid: %d\n%s", when, code, out)
		}
		code, out = cli("log", "--item", "P-uid", "--store", store)
		lines = strings.Split(strings.TrimSpace(out), "\n")
		if code != exitOK || len(lines) != 2 || !strings.Contains(lines[1], `"Private appointment" fields: DTEND`) ||
			strings.Contains(out, "pruned") != pruned {
			t.Fatalf("%s: log --item P-uid: %d\n%s", when, code, out)
		}
		code, out = cli("log", "--json", "--store", store)
		var events []snapshot.Event
		if err := json.Unmarshal([]byte(out), &events); code != exitOK || err != nil || len(events) != 5 {
			t.Fatalf("%s: log --json: %d %v\n%s", when, code, err, out)
		}
		if e := events[2]; e.UID != "A-uid" || !slices.Equal(e.Fields, []string{"LOCATION", "SUMMARY"}) || e.Pruned != pruned {
			t.Fatalf("%s: log --json: %+v", when, events)
		}
		code, csvOut := cli("log", "--csv", "--store", store)
		if code != exitOK || !strings.Contains(csvOut, ",A-uid,Alpha moved,modify,LOCATION;SUMMARY,false,") ||
			!strings.Contains(csvOut, ",P-uid,Private appointment,modify,DTEND,false,") {
			t.Fatalf("%s: log --csv: %d\n%s", when, code, csvOut)
		}
		for _, secret := range []string{"Dentist", "Smith", "Jones", "Clinic", "LOCATION;", "DESCRIPTION"} {
			if strings.Contains(out, secret) || strings.Contains(strings.ReplaceAll(csvOut, "LOCATION;SUMMARY", ""), secret) {
				t.Errorf("%s: the audit trail reveals %q", when, secret)
			}
		}
	}
	check("before prune", false)
	if code, out := cli("forget", "--keep-within", "0d", "--keep-daily", "0", "--keep-monthly", "0", "--grace", "0s", "--store", store); code != exitOK {
		t.Fatalf("forget: %d %s", code, out)
	}
	if code, out := cli("log", "--store", store); code != exitOK || strings.Count(out, "pruned") != 2 {
		t.Fatalf("log after prune: %d\n%s", code, out)
	}
	check("after prune", true)
}

// TestStoreEncryptInterrupted: while a conversion's marker is there, syncs
// are skipped (exit code 9, nothing written); store encrypt resumes it.
func TestStoreEncryptInterrupted(t *testing.T) {
	dir := syncEnv(t)
	t.Setenv("PSTSYNC_PASSPHRASE", "")
	t.Setenv("PSTSYNC_TEST_CHEAP_KDF", "1")
	store := filepath.Join(dir, "store")
	writeSrc(t, filepath.Join(dir, "alice"), "a.ics", ev("A-uid", "Alpha"), 3*time.Hour)
	sync := func() (int, string) {
		code, out, errb := runCLI(t, "sync", "--user", "alice", "--source", filepath.Join(dir, "alice"), "--store", store,
			"--mailbox", filepath.Join(dir, "mb"), "--quiet", "--init")
		return code, out + errb
	}
	if code, out := sync(); code != exitOK {
		t.Fatalf("sync: %d %s", code, out)
	}
	// an interrupted conversion: marker and first key written, nothing copied
	startConversion(t, store, "p")
	before := storeFiles(t, store)
	t.Setenv("PSTSYNC_PASSPHRASE", "p")
	if code, out := sync(); code != exitRunning || !strings.Contains(out, "being encrypted (by admin on pc") {
		t.Fatalf("sync during conversion: %d %s", code, out)
	}
	if after := storeFiles(t, store); len(after) != len(before) {
		t.Fatalf("sync during conversion wrote files")
	}
	if code, out, errb := runCLI(t, "store", "encrypt", "--store", store); code != exitOK || !strings.Contains(out, "resuming") {
		t.Fatalf("store encrypt: %d %s %s", code, out, errb)
	}
	if code, out := sync(); code != exitOK {
		t.Fatalf("sync after conversion: %d %s", code, out)
	}
	if code, out, errb := runCLI(t, "log", "--item", "A-uid", "--store", store); code != exitOK || !strings.Contains(out, `"Alpha"`) {
		t.Fatalf("history after conversion: %d %s %s", code, out, errb)
	}
	assertSecretsAbsent(t, storeFiles(t, store), []string{"A-uid", "Alpha"})
	if code, out, errb := runCLI(t, "store", "encrypt", "--store", store); code != exitConfig || !strings.Contains(errb, "already encrypted") {
		t.Fatalf("second store encrypt: %d %s %s", code, out, errb)
	}
}

// TestLogItemConflict: a conflict is shown in the item's history.
func TestLogItemConflict(t *testing.T) {
	dir := syncEnv(t)
	t.Setenv("PSTSYNC_PASSPHRASE", "")
	store := filepath.Join(dir, "store")
	sync := func(user string) int {
		code, _, _ := runCLI(t, "sync", "--user", user, "--source", filepath.Join(dir, user), "--store", store,
			"--mailbox", filepath.Join(dir, "mb-"+user), "--quiet", "--init")
		return code
	}
	writeSrc(t, filepath.Join(dir, "alice"), "e.ics", ev("E", "Lunch"), 3*time.Hour)
	sync("alice")
	data, err := os.ReadFile(filepath.Join(dir, "mb-alice", "calendar", "E.ics"))
	if err != nil {
		t.Fatal(err)
	}
	writeSrc(t, filepath.Join(dir, "bob"), "E.ics", string(data), 2*time.Hour)
	sync("bob")
	writeSrc(t, filepath.Join(dir, "alice"), "e.ics", ev("E", "Lunch at noon"), time.Hour)
	writeSrc(t, filepath.Join(dir, "bob"), "E.ics", ev("E", "Lunch at one"), time.Hour)
	sync("alice")
	if code := sync("bob"); code != exitConflicts {
		t.Fatalf("no conflict: %d", code)
	}
	code, out, errb := runCLI(t, "log", "--item", "E", "--store", store)
	if code != exitOK || !strings.Contains(out, "conflict") || !strings.Contains(out, `"Lunch at noon"`) {
		t.Fatalf("log --item E: %d\n%s%s", code, out, errb)
	}
	_, out, _ = runCLI(t, "log", "--csv", "--store", store)
	if !strings.Contains(out, ",E,Lunch at one,modify,SUMMARY,true,false") {
		t.Fatalf("log --csv:\n%s", out)
	}
}

func TestConfigInitProtectPassphrase(t *testing.T) {
	dir := syncEnv(t)
	t.Setenv("PSTSYNC_NEW_PASSPHRASE", "dpapi test")
	path := filepath.Join(dir, "c.toml")
	code, out, errb := runCLI(t, "config", "init", "--config", path, "--protect-passphrase")
	if runtime.GOOS != "windows" {
		if code != exitUsage || !strings.Contains(errb, "Windows") {
			t.Fatalf("elsewhere: %d %s %s", code, out, errb)
		}
		return
	}
	if code != exitOK {
		t.Fatalf("config init: %d %s %s", code, out, errb)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), `passphrase = "dpapi:`) || strings.Contains(string(data), "dpapi test") {
		t.Fatalf("config file:\n%s", data)
	}
	cfg, _, err := config.Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if p, err := cfg.StorePassphrase(); err != nil || p != "dpapi test" {
		t.Fatalf("read back: %q %v", p, err)
	}
}

func TestConfigCheckWrongPassphrase(t *testing.T) {
	dir := syncEnv(t)
	t.Setenv("PSTSYNC_TEST_CHEAP_KDF", "1")
	t.Setenv("PSTSYNC_PASSPHRASE", "right")
	store := filepath.Join(dir, "store")
	writeSrc(t, filepath.Join(dir, "alice"), "a.ics", ev("A", "Alpha"), 3*time.Hour)
	if code, out, errb := runCLI(t, "sync", "--user", "alice", "--source", filepath.Join(dir, "alice"), "--store", store,
		"--mailbox", filepath.Join(dir, "mb"), "--quiet", "--init"); code != exitOK {
		t.Fatalf("sync: %d %s %s", code, out, errb)
	}
	if code, out, errb := runCLI(t, "config", "check", "--store", store, "--user", "alice", "--source", filepath.Join(dir, "alice"), "--mailbox", filepath.Join(dir, "mb")); code != exitOK || strings.Contains(out, "right") || !strings.Contains(out, "passphrase") {
		t.Fatalf("config check: %d %s %s", code, out, errb)
	}
	t.Setenv("PSTSYNC_PASSPHRASE", "wrong")
	if code, out, errb := runCLI(t, "config", "check", "--store", store, "--user", "alice", "--source", filepath.Join(dir, "alice"), "--mailbox", filepath.Join(dir, "mb")); code != exitPassphrase || strings.Contains(out, "right") || strings.Contains(out, "wrong") {
		t.Fatalf("config check, wrong passphrase: %d %s %s", code, out, errb)
	}
}

// TestSyncWrongPassphraseBackground: sync derives the store's key in the
// background, so a wrong passphrase surfaces at the store's first use
// (opening the snapshot, or the first write of a store with no revision
// yet). It still gives the one line a synchronous open gives, exit code 13,
// and leaves the store's files as they were, with and without --init.
func TestSyncWrongPassphraseBackground(t *testing.T) {
	dir := syncEnv(t)
	ctx := context.Background()
	t.Setenv("PSTSYNC_PASSPHRASE", "the right one")
	t.Setenv("PSTSYNC_NEW_PASSPHRASE", "")
	writeSrc(t, filepath.Join(dir, "alice"), "e.ics", ev("uid-bg-1@x", "first"), 3*time.Hour)
	sync := func(store, mailbox string, extra ...string) (int, string, string) {
		t.Helper()
		args := append([]string{"sync", "--user", "alice", "--source", filepath.Join(dir, "alice"),
			"--store", store, "--mailbox", mailbox, "--quiet"}, extra...)
		return runCLI(t, args...)
	}
	// synced: the head pointer is there, opening the snapshot needs the key
	synced := filepath.Join(dir, "synced")
	t.Setenv("PSTSYNC_TEST_CHEAP_KDF", "1")
	if code, out, errb := sync(synced, filepath.Join(dir, "mb"), "--init"); code != exitOK {
		t.Fatalf("first sync: %d %s %s", code, out, errb)
	}
	// keys only (store encrypt of an empty store, the default argon2id
	// cost): nothing to read, the first write needs the key
	keysOnly := filepath.Join(dir, "keys-only")
	t.Setenv("PSTSYNC_TEST_CHEAP_KDF", "")
	if err := os.MkdirAll(keysOnly, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, out, errb := runCLI(t, "store", "encrypt", "--store", keysOnly); code != exitOK {
		t.Fatalf("encrypt: %d %s %s", code, out, errb)
	}
	for _, store := range []string{synced, keysOnly} {
		st, err := localstore.New(store)
		if err != nil {
			t.Fatal(err)
		}
		for _, pass := range []string{"wrong", ""} {
			_, openErr := cryptstore.OpenAs(ctx, st, pass, "alice")
			want := "pstsync: " + (&passphraseError{store: store, err: openErr}).Error()
			for _, extra := range [][]string{nil, {"--init"}} {
				name := fmt.Sprintf("%s, passphrase %q, %q", filepath.Base(store), pass, extra)
				t.Setenv("PSTSYNC_PASSPHRASE", pass)
				before := storeFiles(t, store)
				// as on a computer's first run: no machine id yet
				stateDir, err := config.StateDir(runtime.GOOS, os.Getenv)
				if err != nil {
					t.Fatal(err)
				}
				machineFile := filepath.Join(stateDir, "machine-id")
				if err := os.Remove(machineFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
					t.Fatal(err)
				}
				mb := filepath.Join(dir, "mb-"+strings.ReplaceAll(name, " ", "_"))
				code, out, errb := sync(store, mb, extra...)
				lines := strings.Split(strings.TrimSpace(errb), "\n")
				if code != exitPassphrase || lines[len(lines)-1] != want {
					t.Errorf("%s: exit %d, %q%q; want %d, %q", name, code, out, errb, exitPassphrase, want)
				}
				after := storeFiles(t, store)
				if !maps.EqualFunc(before, after, bytes.Equal) {
					t.Errorf("%s: the store's files changed: %d -> %d", name, len(before), len(after))
				}
				if _, err := os.Stat(filepath.Join(mb, "calendar")); err == nil {
					t.Errorf("%s: delivered to the mailbox", name)
				}
				if _, err := os.Stat(machineFile); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s: a machine id was written (%v)", name, err)
				}
			}
		}
	}
}

// startConversion leaves the store as a `store encrypt` interrupted after
// its marker and first key file (a scrypt one, version 1, under
// passphrase): nothing copied yet.
func startConversion(t *testing.T, store, passphrase string) {
	t.Helper()
	l, err := localstore.New(store)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := cryptstore.WriteMarker(ctx, l, cryptstore.Marker{User: "admin", Host: "pc", Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := cryptstore.Init(ctx, l, passphrase, cryptstore.KeyInfo{User: "admin"}, cryptstore.KDF{N: 1024, R: 8, P: 1}); err != nil {
		t.Fatal(err)
	}
}
