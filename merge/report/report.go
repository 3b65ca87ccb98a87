// Package report renders merge conflicts for people (a self-contained HTML
// page) and for scripts (JSON).
package report

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"sync"
	"time"

	"github.com/pstsync/pstsync/merge"
)

// Meta describes the run the conflicts come from.
type Meta struct {
	Title      string    `json:"title,omitempty"`       // page heading; default "pstsync conflicts"
	Revision   int64     `json:"revision,omitempty"`    // snapshot revision the conflicts belong to
	Time       time.Time `json:"time,omitempty"`        // when the merge ran
	OnConflict string    `json:"on_conflict,omitempty"` // rule in force (keep-both, newest, mine, theirs)
}

type jsonDoc struct {
	Meta      Meta             `json:"meta"`
	Conflicts []merge.Conflict `json:"conflicts"`
}

// JSON writes {"meta": ..., "conflicts": [...]} (conflicts is never null),
// indented, with a trailing newline.
func JSON(w io.Writer, conflicts []merge.Conflict, meta Meta) error {
	if conflicts == nil {
		conflicts = []merge.Conflict{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(jsonDoc{Meta: meta, Conflicts: conflicts}); err != nil {
		return fmt.Errorf("report: write JSON: %w", err)
	}
	return nil
}

// cell is one value of a row.
type cell struct {
	Text    string
	Absent  bool
	Changed bool   // differs from base
	By      string // who changed it
}

type row struct {
	Field      string
	Base       cell
	Ours       cell
	Theirs     cell
	Resolution string
}

type item struct {
	Collection, UID, Title string
	OursBy, TheirsBy       string
	Rows                   []row
}

type page struct {
	Meta    Meta
	Heading string
	When    string
	Count   int
	Items   []item
}

func val(p *string) (string, bool) {
	if p == nil {
		return "", true
	}
	return *p, false
}

func same(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func resolutionText(c merge.Conflict) string {
	switch c.Resolution {
	case merge.ResKeepBoth:
		s := "kept both: ours in this item, theirs in a conflict copy"
		if c.Copy != "" {
			s += " (" + c.Copy + ")"
		}
		return s
	case merge.ResOurs:
		return "took ours" + byText(c.OursBy)
	case merge.ResTheirs:
		return "took theirs" + byText(c.TheirsBy)
	case merge.ResKeptModified:
		return "deleted on one side, modified on the other: kept the modified item"
	}
	return string(c.Resolution)
}

func byText(by string) string {
	if by == "" {
		return ""
	}
	return " (" + by + ")"
}

func buildPage(conflicts []merge.Conflict, meta Meta) page {
	p := page{Meta: meta, Heading: meta.Title, Count: len(conflicts)}
	if p.Heading == "" {
		p.Heading = "pstsync conflicts"
	}
	if !meta.Time.IsZero() {
		p.When = meta.Time.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	index := map[[2]string]int{}
	for _, c := range conflicts {
		k := [2]string{c.Collection, c.UID}
		i, ok := index[k]
		if !ok {
			i = len(p.Items)
			index[k] = i
			p.Items = append(p.Items, item{Collection: c.Collection, UID: c.UID, Title: c.Title,
				OursBy: nonEmpty(c.OursBy, "ours"), TheirsBy: nonEmpty(c.TheirsBy, "theirs")})
		}
		r := row{Field: c.Field, Resolution: resolutionText(c)}
		r.Base.Text, r.Base.Absent = val(c.Base)
		r.Ours.Text, r.Ours.Absent = val(c.Ours)
		r.Theirs.Text, r.Theirs.Absent = val(c.Theirs)
		if c.Kind == merge.ConflictDeleteModify {
			// The side without a value deleted the whole item.
			if c.Ours == nil {
				r.Ours.Changed, r.Ours.By = true, p.Items[i].OursBy
			}
			if c.Theirs == nil {
				r.Theirs.Changed, r.Theirs.By = true, p.Items[i].TheirsBy
			}
		}
		if !same(c.Ours, c.Base) {
			r.Ours.Changed, r.Ours.By = true, p.Items[i].OursBy
		}
		if !same(c.Theirs, c.Base) {
			r.Theirs.Changed, r.Theirs.By = true, p.Items[i].TheirsBy
		}
		p.Items[i].Rows = append(p.Items[i].Rows, r)
	}
	return p
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// pageTmpl is parsed on first use, not at every start of the program.
var pageTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("conflicts").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Heading}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#222;background:#fff}
h1{font-size:1.4em}h2{font-size:1.1em;margin:1.6em 0 .2em}
.meta,.uid{color:#666;font-size:.9em}
table{border-collapse:collapse;width:100%;table-layout:fixed;margin-top:.4em}
th,td{border:1px solid #ccc;padding:.35em .5em;vertical-align:top;text-align:left}
th{background:#f3f3f3}
td.field{font-family:monospace;width:14%}
td.res{width:18%;font-size:.9em}
pre{margin:0;white-space:pre-wrap;word-break:break-word;font-family:ui-monospace,Consolas,monospace;font-size:.85em}
.changed{background:#fff4d6}
.absent{color:#888;font-style:italic}
.by{display:block;color:#a60;font-size:.8em;margin-top:.3em}
</style>
</head>
<body>
<h1>{{.Heading}}</h1>
<p class="meta">{{.Count}} conflict(s){{if .Meta.Revision}} · revision {{.Meta.Revision}}{{end}}{{if .When}} · {{.When}}{{end}}{{if .Meta.OnConflict}} · rule: {{.Meta.OnConflict}}{{end}}</p>
{{- if not .Items}}
<p>No conflicts.</p>
{{- end}}
{{- range .Items}}
<section class="item">
<h2>{{.Title}}</h2>
<p class="uid">{{if .Collection}}{{.Collection}} · {{end}}UID {{.UID}}</p>
<table>
<thead><tr><th>Field</th><th>Base</th><th>{{.OursBy}} (ours)</th><th>{{.TheirsBy}} (theirs)</th><th>Resolution</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr><td class="field">{{.Field}}</td>{{template "cell" .Base}}{{template "cell" .Ours}}{{template "cell" .Theirs}}<td class="res">{{.Resolution}}</td></tr>
{{- end}}
</tbody>
</table>
</section>
{{- end}}
</body>
</html>
{{define "cell"}}<td{{if .Changed}} class="changed"{{end}}>{{if .Absent}}<span class="absent">(none)</span>{{else}}<pre>{{.Text}}</pre>{{end}}{{if .By}}<span class="by">changed by {{.By}}</span>{{end}}</td>{{end}}`))
})

// HTML writes a self-contained page (inline CSS, no scripts): one section
// per item, a table row per conflicting field with the base value, both
// versions side by side, who changed what, and the resolution. Everything
// is escaped by html/template.
func HTML(w io.Writer, conflicts []merge.Conflict, meta Meta) error {
	if err := pageTmpl().Execute(w, buildPage(conflicts, meta)); err != nil {
		return fmt.Errorf("report: write HTML: %w", err)
	}
	return nil
}
