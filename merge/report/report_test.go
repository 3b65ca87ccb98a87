package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/pstsync/pstsync/merge"
)

func sp(s string) *string { return &s }

func sample() []merge.Conflict {
	return []merge.Conflict{
		{Collection: "contacts", UID: "u1", Title: `Ann <script>alert("x")</script>`, Kind: merge.ConflictField,
			Field: "TITLE", Base: sp("TITLE:Dev"), Ours: sp(`TITLE:<script>alert('o')</script>`), Theirs: sp(`TITLE:"quoted" & more`),
			OursBy: "alice", TheirsBy: `bob"><b>`, Resolution: merge.ResKeepBoth, Copy: "u1-conflict-abc"},
		{Collection: "contacts", UID: "u1", Title: "Ann", Kind: merge.ConflictField,
			Field: "NOTE", Base: sp("NOTE:x"), Ours: nil, Theirs: sp("NOTE:y"),
			OursBy: "alice", TheirsBy: "bob", Resolution: merge.ResKeepBoth, Copy: "u1-conflict-abc"},
		{Collection: "calendar", UID: "e1", Title: "Lunch", Kind: merge.ConflictDeleteModify,
			Field: "SUMMARY", Base: sp("SUMMARY:Lunch"), Ours: nil, Theirs: sp("SUMMARY:Brunch"),
			OursBy: "alice", TheirsBy: "bob", Resolution: merge.ResKeptModified},
	}
}

func TestHTMLEscapedAndStructured(t *testing.T) {
	var buf bytes.Buffer
	if err := HTML(&buf, sample(), Meta{Revision: 12, Time: time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC), OnConflict: "keep-both"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"<script>", `"quoted"`, `bob"><b>`} {
		if strings.Contains(out, bad) {
			t.Errorf("unescaped %q in output", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;", "&#34;quoted&#34; &amp; more", "revision 12", "2024-05-01 08:00:00 UTC", "u1-conflict-abc"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	doc, err := html.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var tables []*html.Node
	var scripts int
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "table":
				tables = append(tables, n)
			case "script":
				scripts++
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if scripts != 0 {
		t.Errorf("%d script elements", scripts)
	}
	if len(tables) != 2 { // one per item (u1, e1)
		t.Fatalf("%d tables, want 2", len(tables))
	}
	wantRows := []int{2, 1}
	for i, tb := range tables {
		var rows [][]string
		var collect func(n *html.Node)
		collect = func(n *html.Node) {
			if n.Type == html.ElementNode && n.Data == "tr" {
				var cells []string
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
						cells = append(cells, text(c))
					}
				}
				rows = append(rows, cells)
				return
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				collect(c)
			}
		}
		collect(tb)
		if len(rows) != 1+wantRows[i] {
			t.Fatalf("table %d: %d rows, want header + %d", i, len(rows), wantRows[i])
		}
		for _, r := range rows {
			if len(r) != 5 {
				t.Errorf("table %d: row with %d cells: %q", i, len(r), r)
			}
		}
		if i == 0 {
			r := rows[1]
			if r[0] != "TITLE" || r[1] != "TITLE:Dev" || !strings.HasPrefix(r[2], `TITLE:<script>alert('o')</script>`) || !strings.Contains(r[2], "changed by alice") ||
				!strings.HasPrefix(r[3], `TITLE:"quoted" & more`) || !strings.Contains(r[3], `changed by bob"><b>`) || !strings.Contains(r[4], "kept both") {
				t.Errorf("row = %q", r)
			}
			if !strings.Contains(rows[2][2], "(none)") {
				t.Errorf("deleted value not shown as absent: %q", rows[2])
			}
		}
		if i == 1 && !strings.Contains(rows[1][4], "kept the modified item") {
			t.Errorf("resolution %q", rows[1][4])
		}
	}
}

func text(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var sb strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		sb.WriteString(text(c))
	}
	return sb.String()
}

func TestJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := JSON(&buf, sample(), Meta{Revision: 3}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Meta      Meta             `json:"meta"`
		Conflicts []merge.Conflict `json:"conflicts"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Meta.Revision != 3 || len(got.Conflicts) != 3 || got.Conflicts[1].Ours != nil || *got.Conflicts[0].Ours != `TITLE:<script>alert('o')</script>` {
		t.Errorf("round trip: %+v", got)
	}
	buf.Reset()
	if err := JSON(&buf, nil, Meta{}); err != nil || !strings.Contains(buf.String(), `"conflicts": []`) {
		t.Errorf("empty: %v %s", err, buf.String())
	}
	buf.Reset()
	if err := HTML(&buf, nil, Meta{}); err != nil || !strings.Contains(buf.String(), "No conflicts.") {
		t.Errorf("empty HTML: %v", err)
	}
}
