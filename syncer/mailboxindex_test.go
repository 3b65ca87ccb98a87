package syncer

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"testing"

	"github.com/pstsync/pstsync/merge"
)

// TestParseIndexFast: the index as the mailbox writes it takes the fast
// path; other shapes fall back and mean what encoding/json makes of them.
func TestParseIndexFast(t *testing.T) {
	written, err := json.MarshalIndent(&mailboxIndex{Version: 1, User: "ann", Rev: 7,
		Files: map[string]string{"calendar/a.ics": "h1", "contacts/b.vcf": "h2", "share/x/é.eml": "h3"}}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   string
		fast bool
	}{
		{"as written", string(written) + "\n", true},
		{"empty files", `{"version":1,"user":"u","rev":0,"files":{}}`, true},
		{"escaped", `{"version":1,"user":"u\u0041","rev":2,"files":{"a":"b"}}`, false},
		{"other order", `{"user":"u","version":1,"rev":2,"files":{"a":"b"}}`, false},
		{"extra key", `{"version":1,"user":"u","rev":2,"files":{"a":"b"},"digest":"x"}`, false},
		{"null files", `{"version":1,"user":"u","rev":2,"files":null}`, false},
		{"float rev", `{"version":1,"user":"u","rev":2.0,"files":{}}`, false},
		{"leading zero", `{"version":01,"user":"u","rev":2,"files":{}}`, false},
		{"trailing", `{"version":1,"user":"u","rev":2,"files":{}} x`, false},
		{"trailing comma", `{"version":1,"user":"u","rev":2,"files":{"a":"b",}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, fast := parseIndexFast([]byte(tt.in))
			if fast != tt.fast {
				t.Errorf("fast path: %v, want %v", fast, tt.fast)
			}
			checkIndexParsers(t, []byte(tt.in))
		})
	}
}

// TestIndexEncode: the index is written as encoding/json writes it
// (without HTML escapes), and read back the fast way when no string
// needs an escape.
func TestIndexEncode(t *testing.T) {
	nasty := "a<b>&c\"d\\e\x01\n\u2028é\xff"
	for name, idx := range map[string]*mailboxIndex{
		"nil files":   {Version: 1, User: "ann"},
		"empty files": {Version: 1, User: "ann", Rev: 3, Files: map[string]string{}},
		"files":       {Version: 1, User: "bench", Rev: 12, Files: map[string]string{"calendar/b.ics": "h2", "calendar/a.ics": "h1", "share/x/é.eml": "h3"}},
		"negative":    {Version: -1, User: "", Rev: -1 << 63, Files: map[string]string{"": ""}},
		"nasty":       {Version: 1, User: nasty, Rev: 1, Files: map[string]string{nasty: nasty, "calendar/" + nasty: "x"}},
	} {
		t.Run(name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", " ")
			if err := enc.Encode(idx); err != nil {
				t.Fatal(err)
			}
			got := idx.encode()
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("encode:\n%s\nencoding/json:\n%s", got, want.Bytes())
			}
			checkIndexParsers(t, got)
			if _, fast := parseIndexFast(got); fast != (name != "nasty" && name != "nil files") {
				t.Errorf("read back the fast way: %v", fast)
			}
		})
	}
}

// checkIndexParsers fails when parseIndex and encoding/json disagree on data.
func checkIndexParsers(t *testing.T, data []byte) {
	t.Helper()
	var want mailboxIndex
	werr := json.Unmarshal(data, &want)
	got, gerr := parseIndex(data)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("parseIndex error %v, encoding/json %v", gerr, werr)
	}
	if werr != nil {
		return
	}
	if got.Version != want.Version || got.User != want.User || got.Rev != want.Rev || !maps.Equal(got.Files, want.Files) ||
		(got.Files == nil) != (want.Files == nil) {
		t.Fatalf("parseIndex %+v, encoding/json %+v", got, want)
	}
	// What encode writes of it reads back the same.
	again, err := parseIndex(got.encode())
	if err != nil || again.Version != got.Version || again.User != got.User || again.Rev != got.Rev ||
		!maps.Equal(again.Files, got.Files) || (again.Files == nil) != (got.Files == nil) {
		t.Fatalf("encoded and read back: %+v (%v), want %+v", again, err, got)
	}
}

// FuzzIndexParsers: the mailbox index's fast parser reads what
// encoding/json reads, or gives up.
func FuzzIndexParsers(f *testing.F) {
	f.Add([]byte("{\n \"version\": 1,\n \"user\": \"bench\",\n \"rev\": 3,\n \"files\": {\n  \"calendar/a.ics\": \"ab\"\n }\n}\n"))
	f.Add([]byte(`{"version":1,"user":"u","rev":-2,"files":{"a":"b","a":"c"}}`))
	f.Add([]byte(`{"version":1,"user":"\u00e9","rev":9223372036854775808,"files":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkIndexParsers(t, data)
	})
}

// TestMailboxSharedFileName: two items whose file names coincide (share
// folders whose names differ only in characters unsafe in a file name)
// give the index the later key's entry, run after run.
func TestMailboxSharedFileName(t *testing.T) {
	a := merge.Key{Coll: SharePrefix + "a:b", UID: "x"}
	b := merge.Key{Coll: SharePrefix + "a_b", UID: "x"}
	if ra, rb := vdirPath(a.Coll, a.UID, merge.KindMessage), vdirPath(b.Coll, b.UID, merge.KindMessage); ra != rb {
		t.Fatalf("the test needs one file name: %s, %s", ra, rb)
	}
	rel := vdirPath(b.Coll, b.UID, merge.KindMessage)
	for i := range 200 {
		dir := t.TempDir()
		v := &View{User: "ann", Rev: 1, Items: map[merge.Key]ViewItem{a: {Hash: "ha", Kind: merge.KindMessage}, b: {Hash: "hb", Kind: merge.KindMessage}},
			Bytes: func(_ context.Context, k merge.Key, _ ViewItem) ([]byte, error) { return []byte(k.String()), nil }}
		if _, err := (&Mailbox{Dir: dir}).Deliver(context.Background(), v); err != nil {
			t.Fatal(err)
		}
		idx := readIndex(dir)
		if idx == nil || idx.Files[rel] != "hb" {
			t.Fatalf("run %d: index %+v, want %s → hb", i, idx, rel)
		}
	}
}
