package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/sink/cryptstore"
)

// keyFileKDFs returns each key file of the folder store with its version
// and KDF algorithm ("" in a version-1 scrypt file).
func keyFileKDFs(t *testing.T, store string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(store, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(store, "keys", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var kf struct {
			Version int `json:"version"`
			KDF     struct {
				Alg string `json:"alg"`
			} `json:"kdf"`
		}
		if err := json.Unmarshal(b, &kf); err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		out[e.Name()] = string(rune('0'+kf.Version)) + " " + kf.KDF.Alg
	}
	return out
}

// TestKeyFilesArgon2id: sync --init, store encrypt, key add and key passwd
// write argon2id key files (version 2); a store whose key file is scrypt
// (version 1, as pstsync wrote before) syncs and checks as before, and
// key passwd replaces its key file by an argon2id one.
func TestKeyFilesArgon2id(t *testing.T) {
	dir := syncEnv(t)
	t.Setenv("PSTSYNC_TEST_CHEAP_KDF", "1")
	t.Setenv("PSTSYNC_NEW_PASSPHRASE", "")
	writeSrc(t, filepath.Join(dir, "alice"), "a.ics", ev("A-uid", "Alpha"), 3*time.Hour)
	sync := func(store string) (int, string) {
		t.Helper()
		code, out, errb := runCLI(t, "sync", "--user", "alice", "--source", filepath.Join(dir, "alice"), "--store", store,
			"--mailbox", filepath.Join(dir, "mb-"+filepath.Base(store)), "--quiet", "--init")
		return code, out + errb
	}
	argon := "2 argon2id"

	// sync --init and store encrypt
	t.Setenv("PSTSYNC_PASSPHRASE", "p")
	fresh := filepath.Join(dir, "fresh")
	if code, out := sync(fresh); code != exitOK {
		t.Fatalf("first sync: %d %s", code, out)
	}
	if got := keyFileKDFs(t, fresh); len(got) != 1 || got[cryptstore.FirstKeyID] != argon {
		t.Fatalf("sync --init key files: %v", got)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, out, errb := runCLI(t, "store", "encrypt", "--store", empty); code != exitOK {
		t.Fatalf("store encrypt: %d %s %s", code, out, errb)
	}
	if got := keyFileKDFs(t, empty); len(got) != 1 || got[cryptstore.FirstKeyID] != argon {
		t.Fatalf("store encrypt key files: %v", got)
	}

	// a store encrypted with a scrypt key file (version 1)
	t.Setenv("PSTSYNC_PASSPHRASE", "")
	store := filepath.Join(dir, "store")
	if code, out := sync(store); code != exitOK {
		t.Fatalf("clear sync: %d %s", code, out)
	}
	startConversion(t, store, "old")
	t.Setenv("PSTSYNC_PASSPHRASE", "old")
	if code, out, errb := runCLI(t, "store", "encrypt", "--store", store); code != exitOK || !strings.Contains(out, "resuming") {
		t.Fatalf("store encrypt: %d %s %s", code, out, errb)
	}
	if got := keyFileKDFs(t, store); len(got) != 1 || got[cryptstore.FirstKeyID] != "1 " {
		t.Fatalf("scrypt store key files: %v", got)
	}
	writeSrc(t, filepath.Join(dir, "alice"), "b.ics", ev("B-uid", "Beta"), 3*time.Hour)
	if code, out := sync(store); code != exitOK {
		t.Fatalf("sync with the scrypt key file: %d %s", code, out)
	}
	if code, out, errb := runCLI(t, "check", "--store", store); code != exitOK {
		t.Fatalf("check with the scrypt key file: %d %s %s", code, out, errb)
	}
	if code, out, errb := runCLI(t, "log", "--item", "A-uid", "--store", store); code != exitOK || !strings.Contains(out, `"Alpha"`) {
		t.Fatalf("history with the scrypt key file: %d %s %s", code, out, errb)
	}

	// key add writes argon2id beside it; key passwd replaces it
	t.Setenv("PSTSYNC_NEW_PASSPHRASE", "bob's")
	if code, out, errb := runCLI(t, "key", "add", "--store", store, "--user", "bob"); code != exitOK {
		t.Fatalf("key add: %d %s %s", code, out, errb)
	}
	got := keyFileKDFs(t, store)
	if len(got) != 2 || got[cryptstore.FirstKeyID] != "1 " {
		t.Fatalf("after key add: %v", got)
	}
	for id, v := range got {
		if id != cryptstore.FirstKeyID && v != argon {
			t.Fatalf("key add wrote %s: %s", id, v)
		}
	}
	t.Setenv("PSTSYNC_NEW_PASSPHRASE", "new")
	if code, out, errb := runCLI(t, "key", "passwd", "--store", store); code != exitOK {
		t.Fatalf("key passwd: %d %s %s", code, out, errb)
	}
	got = keyFileKDFs(t, store)
	if _, ok := got[cryptstore.FirstKeyID]; ok || len(got) != 2 {
		t.Fatalf("after key passwd: %v", got)
	}
	for id, v := range got {
		if v != argon {
			t.Fatalf("after key passwd %s is %s", id, v)
		}
	}
	if code, _ := sync(store); code != exitPassphrase {
		t.Fatalf("the old passphrase still opens: %d", code)
	}
	t.Setenv("PSTSYNC_PASSPHRASE", "new")
	writeSrc(t, filepath.Join(dir, "alice"), "c.ics", ev("C-uid", "Gamma"), 3*time.Hour)
	if code, out := sync(store); code != exitOK {
		t.Fatalf("sync after key passwd: %d %s", code, out)
	}
	if code, out, errb := runCLI(t, "check", "--store", store); code != exitOK {
		t.Fatalf("check after key passwd: %d %s %s", code, out, errb)
	}
	for _, uid := range []string{"A-uid", "B-uid", "C-uid"} {
		if _, err := os.Stat(filepath.Join(dir, "mb-store", "calendar", uid+".ics")); err != nil {
			t.Errorf("%s not delivered: %v", uid, err)
		}
	}
}

// TestKeyListShowsDamagedKey: a damaged key file is listed with "!" and
// why, the others as before, and key remove removes it.
func TestKeyListShowsDamagedKey(t *testing.T) {
	dir := syncEnv(t)
	t.Setenv("PSTSYNC_TEST_CHEAP_KDF", "1")
	t.Setenv("PSTSYNC_PASSPHRASE", "p")
	writeSrc(t, filepath.Join(dir, "alice"), "a.ics", ev("A-uid", "Alpha"), 3*time.Hour)
	store := filepath.Join(dir, "store")
	if code, out, errb := runCLI(t, "sync", "--user", "alice", "--source", filepath.Join(dir, "alice"), "--store", store,
		"--mailbox", filepath.Join(dir, "mb"), "--quiet", "--init"); code != exitOK {
		t.Fatalf("first sync: %d %s %s", code, out, errb)
	}
	t.Setenv("PSTSYNC_NEW_PASSPHRASE", "q")
	code, out, errb := runCLI(t, "key", "add", "--store", store)
	if code != exitOK {
		t.Fatalf("key add: %d %s %s", code, out, errb)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(out), "key "), " added")
	p := filepath.Join(store, "keys", id)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errb = runCLI(t, "key", "list", "--store", store)
	if code != exitOK || !strings.Contains(out, "! "+id+"  unusable: ") || !strings.Contains(out, "* "+cryptstore.FirstKeyID) {
		t.Fatalf("key list: %d %s %s", code, out, errb)
	}
	if code, out, errb := runCLI(t, "key", "remove", "--store", store, id); code != exitOK {
		t.Fatalf("key remove: %d %s %s", code, out, errb)
	}
	if _, err := os.Stat(p); err == nil {
		t.Fatal("the damaged key file is still there")
	}
	if code, out, errb := runCLI(t, "check", "--store", store); code != exitOK {
		t.Fatalf("check: %d %s %s", code, out, errb)
	}
}
