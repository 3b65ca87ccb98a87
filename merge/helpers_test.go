package merge

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"
)

// mk builds a Doc from "KEY=VALUE" pairs separated by the first '\t' or,
// when absent, by the first ':' ("FN:Ann", "EMAIL=a@x:a@x").
func mk(uid string, kind Kind, kv ...string) *Doc {
	d := &Doc{UID: uid, Kind: kind, Fields: map[string]Field{}}
	for _, s := range kv {
		k, v, ok := strings.Cut(s, "\t")
		if !ok {
			k, v, _ = strings.Cut(s, ":")
		}
		name := k
		if i := strings.LastIndex(name, "/"); i >= 0 {
			name = name[i+1:]
		}
		if i := strings.IndexAny(name, "=;#"); i >= 0 {
			name = name[:i]
		}
		d.Fields[k] = Field{Name: name, Value: v}
	}
	return d
}

func parseVCard(t testing.TB, s string) *Doc {
	t.Helper()
	s = strings.ReplaceAll(strings.TrimSpace(s), "\n", "\r\n") + "\r\n"
	c, err := vcard.NewDecoder(strings.NewReader(s)).Decode()
	if err != nil {
		t.Fatalf("decode vCard: %v\n%s", err, s)
	}
	d, err := FromVCard(c)
	if err != nil {
		t.Fatalf("FromVCard: %v", err)
	}
	return d
}

func parseICS(t testing.TB, s string) *Doc {
	t.Helper()
	s = strings.ReplaceAll(strings.TrimSpace(s), "\n", "\r\n") + "\r\n"
	c, err := ical.NewDecoder(strings.NewReader(s)).Decode()
	if err != nil {
		t.Fatalf("decode ICS: %v\n%s", err, s)
	}
	d, err := FromCalendar(c)
	if err != nil {
		t.Fatalf("FromCalendar: %v", err)
	}
	return d
}

func fieldKeys(d *Doc) []string { return slices.Sorted(maps.Keys(d.Fields)) }

func conflictKeys(cs []Conflict) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Field)
	}
	return out
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
