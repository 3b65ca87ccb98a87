package migrate

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Counts are items read, written and failed.
type Counts struct {
	Read    int `json:"read"`
	Written int `json:"written"`
	Failed  int `json:"failed"`
	// Partial counts the written items some parts of which could not be
	// read (a damaged file): each is also listed in Failures.
	Partial int `json:"partial,omitempty"`
}

func (c *Counts) add(o Counts) {
	c.Read += o.Read
	c.Written += o.Written
	c.Failed += o.Failed
	c.Partial += o.Partial
}

// Failure is one item that could not be exported, or (Partial) was
// written without the parts Reason names; or, without an NID, a folder
// tree that could not be read whole.
type Failure struct {
	Folder  string `json:"folder"`
	NID     uint32 `json:"nid"`
	Class   string `json:"class,omitempty"`
	Subject string `json:"subject,omitempty"`
	Stage   string `json:"stage"` // read, convert or write
	Partial bool   `json:"partial,omitempty"`
	Reason  string `json:"reason"`
}

// FolderReport counts one folder's items per message class.
type FolderReport struct {
	Path    string             `json:"path"`
	Listed  int                `json:"listed"` // rows of the contents table
	Classes map[string]*Counts `json:"classes"`
	Totals  Counts             `json:"totals"`
	Error   string             `json:"error,omitempty"` // the folder's contents could not be listed
	Skipped string             `json:"skipped,omitempty"`
}

// FileReport is the completeness report of one input file.
type FileReport struct {
	File    string `json:"file"`
	Out     string `json:"out,omitempty"`
	Format  string `json:"format,omitempty"`
	Error   string `json:"error,omitempty"` // the file could not be opened at all
	OpenErr error  `json:"-"`               // that error itself, for errors.Is
	// Damage lists the file's structures that could not be read (B-tree
	// pages, the root folder) and what recovery did; empty when intact.
	Damage   []string        `json:"damage,omitempty"`
	Folders  []*FolderReport `json:"folders"`
	Failures []Failure       `json:"failures"`
	Totals   Counts          `json:"totals"`
	Complete bool            `json:"complete"`
}

// Report is the completeness report of one export run.
type Report struct {
	Started  time.Time     `json:"started"`
	Finished time.Time     `json:"finished"`
	Options  ReportOptions `json:"options"`
	Files    []*FileReport `json:"files"`
	Totals   Counts        `json:"totals"`
	Complete bool          `json:"complete"`
}

// ReportOptions records the options that shaped the output.
type ReportOptions struct {
	Mail  string `json:"mail"`
	VCard string `json:"vcard"`
	// Synced is true when every file was flushed to disk before the
	// report was written (false with --no-sync).
	Synced bool `json:"synced"`
	// AllFolders: every folder was exported, not only the IPM subtree.
	AllFolders bool `json:"all_folders,omitempty"`
}

// Failed returns the number of failed items over all files.
func (r *Report) Failed() int { return r.Totals.Failed }

// Incomplete returns the files that were opened but not read whole: an
// item, a part of one, a folder or the folder tree could not be read.
func (r *Report) Incomplete() []*FileReport {
	var out []*FileReport
	for _, f := range r.Files {
		if f != nil && f.Error == "" && !f.Complete {
			out = append(out, f)
		}
	}
	return out
}

// OpenFailures returns the files that could not be opened at all.
func (r *Report) OpenFailures() []*FileReport {
	var out []*FileReport
	for _, f := range r.Files {
		if f.Error != "" {
			out = append(out, f)
		}
	}
	return out
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes a table a person can read: per folder and class, items
// read / written / failed, then each failure with its reason.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, f := range r.Files {
		if f.Error != "" {
			fmt.Fprintf(&b, "%s: NOT EXPORTED: %s\n", f.File, f.Error)
			continue
		}
		fmt.Fprintf(&b, "%s -> %s\n", f.File, f.Out)
		for _, d := range f.Damage {
			fmt.Fprintf(&b, "  DAMAGED: %s\n", d)
		}
		fmt.Fprintf(&b, "  %-50s %-34s %6s %7s %6s\n", "folder", "class", "read", "written", "failed")
		for _, fo := range f.Folders {
			if len(fo.Classes) == 0 && fo.Error == "" {
				continue
			}
			classes := make([]string, 0, len(fo.Classes))
			for c := range fo.Classes {
				classes = append(classes, c)
			}
			sort.Strings(classes)
			for _, c := range classes {
				n := fo.Classes[c]
				label := c
				if label == "" {
					label = "(no class)"
				}
				fmt.Fprintf(&b, "  %-50s %-34s %6d %7d %6d\n", trunc(fo.Path, 50), trunc(label, 34), n.Read, n.Written, n.Failed)
			}
			if fo.Error != "" {
				fmt.Fprintf(&b, "  %-50s contents could not be listed: %s\n", trunc(fo.Path, 50), fo.Error)
			}
		}
		fmt.Fprintf(&b, "  %-50s %-34s %6d %7d %6d\n", "total", "", f.Totals.Read, f.Totals.Written, f.Totals.Failed)
		for _, x := range f.Failures {
			switch {
			case x.NID == 0:
				fmt.Fprintf(&b, "  FAILED %s\n", x.Reason)
			case x.Partial:
				fmt.Fprintf(&b, "  PARTIAL %s item %#x (%s %q): %s\n", x.Folder, x.NID, x.Class, x.Subject, x.Reason)
			default:
				fmt.Fprintf(&b, "  FAILED %s item %#x (%s %q) at %s: %s\n", x.Folder, x.NID, x.Class, x.Subject, x.Stage, x.Reason)
			}
		}
	}
	state := "complete"
	if !r.Complete {
		state = "INCOMPLETE"
	}
	partial := ""
	if r.Totals.Partial > 0 {
		partial = fmt.Sprintf(" (%d of them without some parts)", r.Totals.Partial)
	}
	fmt.Fprintf(&b, "export %s: %d read, %d written%s, %d failed, %d file(s) not opened, in %s\n",
		state, r.Totals.Read, r.Totals.Written, partial, r.Totals.Failed, len(r.OpenFailures()), r.Finished.Sub(r.Started).Round(time.Millisecond))
	if !r.Options.Synced {
		b.WriteString("not flushed to disk (--no-sync): the system writes the files out shortly; run sync before relying on them\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func trunc(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}
