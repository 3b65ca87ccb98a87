// Package migrate is the one-off export: it walks PST files, converts each
// item to its standard form (RFC 5322 message, vCard, iCalendar) and hands
// it to the sinks, counting every item read, written and failed.
package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pstsync/pstsync/pst"
	"github.com/pstsync/pstsync/sink"
)

// Options shape an export.
type Options struct {
	Out      string // output directory
	Mail     string // sink.FormatEML (default), FormatMbox or FormatMaildir
	VCard    string // "4.0" (default) or "3.0"
	Workers  int    // files processed at once (default: number of CPUs)
	Progress Progress
	Logger   *slog.Logger
	// Now is the clock for the report (default time.Now).
	Now func() time.Time
}

// Progress receives progress events; implementations must be safe for
// concurrent use. The CLI draws a bar on a terminal; the default does
// nothing.
type Progress interface {
	Start(file string, items int)
	Item(file string)
	Done(file string)
}

type noProgress struct{}

func (noProgress) Start(string, int) {}
func (noProgress) Item(string)       {}
func (noProgress) Done(string)       {}

// ErrOutput marks failures to write the output at all (disk full, no
// permission): the export stops, since every further item would fail too.
var ErrOutput = errors.New("cannot write output")

// OpenError is an input file that could not be opened.
type OpenError struct {
	File string
	Err  error
}

func (e *OpenError) Error() string { return fmt.Sprintf("%s: %v", e.File, e.Err) }
func (e *OpenError) Unwrap() error { return e.Err }

// Export exports files into opts.Out and returns the completeness report,
// which it also writes to Out/report.json. The error is non-nil when the
// run was interrupted or the output could not be written; files that could
// not be opened and items that failed are in the report, not the error.
func Export(ctx context.Context, files []string, opts Options) (*Report, error) {
	if opts.Mail == "" {
		opts.Mail = sink.FormatEML
	}
	if opts.VCard == "" {
		opts.VCard = "4.0"
	}
	if opts.VCard != "4.0" && opts.VCard != "3.0" {
		return nil, fmt.Errorf("vCard version %q: want 4.0 or 3.0", opts.VCard)
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.NumCPU()
	}
	if opts.Progress == nil {
		opts.Progress = noProgress{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(discard{}, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, outputErr(opts.Out, err)
	}
	rep := &Report{Started: opts.Now(), Options: ReportOptions{Mail: opts.Mail, VCard: opts.VCard}}
	rep.Files = make([]*FileReport, len(files))
	outs := outDirs(opts.Out, files)

	// Files are written atomically as they come and made durable in one
	// sync before report.json: a report on disk means a durable export.
	batch := sink.NewBatch()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, opts.Workers)
	var wg sync.WaitGroup
	for i, path := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fr, err := exportFile(ctx, path, outs[i], batch, opts)
			rep.Files[i] = fr
			if err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	rep.Finished = opts.Now()
	rep.Complete = true
	for _, f := range rep.Files {
		if f == nil {
			continue
		}
		rep.Totals.add(f.Totals)
		if !f.Complete {
			rep.Complete = false
		}
	}
	if err := context.Cause(ctx); err != nil {
		return rep, err
	}
	if err := batch.Sync(); err != nil {
		return rep, fmt.Errorf("%w: %w", ErrOutput, err)
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		return rep, err
	}
	if err := sink.WriteFileAtomic(filepath.Join(opts.Out, "report.json"), buf.Bytes()); err != nil {
		return rep, outputErr(filepath.Join(opts.Out, "report.json"), err)
	}
	return rep, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// outDirs gives each input file its own directory under out, named after
// the file without its extension; files with the same name get -2, -3, ...
func outDirs(out string, files []string) []string {
	used := map[string]int{}
	dirs := make([]string, len(files))
	for i, f := range files {
		stem := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		stem = sink.SafeName(stem)
		key := strings.ToLower(stem)
		used[key]++
		if n := used[key]; n > 1 {
			stem = fmt.Sprintf("%s-%d", stem, n)
		}
		dirs[i] = filepath.Join(out, stem)
	}
	return dirs
}

func outputErr(path string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrOutput, path, err)
}

// isOutputFatal reports write errors that will hit every further item.
func isOutputFatal(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)
}

// job is one item to export.
type job struct {
	ref    pst.ItemRef
	folder *pst.Folder
}

// result is one converted item, ready to write.
type result struct {
	class   string
	subject string
	kind    pst.Kind
	mail    *sink.MailItem
	file    string // relative file name for vCard/iCalendar/text output
	data    []byte
	// extraFile and extraData are a second rendering of a mail item
	// (the .ics of a meeting message), written beside it in the folder's
	// directory; the item still counts once.
	extraFile string
	extraData []byte
	buf       *bytes.Buffer // holds mail.Raw or data; see release
	stage     string
	err       error
}

const chunkSize = 256

func exportFile(ctx context.Context, path, out string, batch *sink.Batch, opts Options) (*FileReport, error) {
	fr := &FileReport{File: path, Out: out, Failures: []Failure{}}
	f, err := pst.Open(path)
	if err != nil {
		fr.Error, fr.OpenErr = err.Error(), err
		return fr, nil
	}
	defer f.Close()
	fr.Format = f.Info().Format.String()

	// First pass: every folder with its contents table (tables only,
	// cheap), so the progress bar knows the total before items are read.
	type listing struct {
		fo   *pst.Folder
		refs []pst.ItemRef
		err  error
	}
	var folders []listing
	total := 0
	walkErr := f.Walk(ctx, func(fo *pst.Folder) error {
		l := listing{fo: fo}
		if !fo.IsSearchFolder() {
			l.refs, l.err = fo.Items()
			total += len(l.refs)
		}
		folders = append(folders, l)
		return nil
	})
	if ctx.Err() != nil {
		return fr, ctx.Err()
	}
	if walkErr != nil {
		fr.Failures = append(fr.Failures, Failure{Stage: "read", Reason: "folder tree: " + walkErr.Error()})
	}
	opts.Progress.Start(path, total)
	defer opts.Progress.Done(path)

	if err := os.MkdirAll(out, 0o755); err != nil {
		return fr, outputErr(out, err)
	}
	mw, err := sink.NewMailWriter(opts.Mail, out)
	if err != nil {
		return fr, outputErr(out, err)
	}
	if bw, ok := mw.(interface{ UseBatch(*sink.Batch) }); ok {
		bw.UseBatch(batch)
	}
	conv := newConverter(f, opts)
	// mbox appends to one file per folder: writes must follow folder order.
	ordered := opts.Mail == sink.FormatMbox
	for _, l := range folders {
		fo, refs, err := l.fo, l.refs, l.err
		frep := &FolderReport{Path: fo.PathString(), Classes: map[string]*Counts{}}
		fr.Folders = append(fr.Folders, frep)
		if fo.IsSearchFolder() {
			frep.Skipped = "search folder: its items are links to items exported from their own folders"
			continue
		}
		if err != nil {
			frep.Error = err.Error()
			fr.Failures = append(fr.Failures, Failure{Folder: frep.Path, Stage: "read", Reason: err.Error()})
		}
		frep.Listed = len(refs)
		for start := 0; start < len(refs); start += chunkSize {
			if err := ctx.Err(); err != nil {
				mw.Abort()
				return fr, err
			}
			end := min(start+chunkSize, len(refs))
			results := make([]result, end-start)
			// Workers read, convert and (unless the sink needs order)
			// write; file creation dominates, so more workers than CPUs.
			var wg sync.WaitGroup
			work := make(chan int)
			for w := 0; w < 2*runtime.NumCPU(); w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range work {
						r := conv.convert(job{ref: refs[start+i], folder: fo})
						if !ordered && r.err == nil {
							r.stage, r.err = "write", write(ctx, mw, batch, out, fo, r, start+i+1)
							r.release()
						}
						results[i] = r
					}
				}()
			}
			for i := range results {
				work <- i
			}
			close(work)
			wg.Wait()
			for i, r := range results {
				ref := refs[start+i]
				if ordered && r.err == nil {
					r.stage, r.err = "write", write(ctx, mw, batch, out, fo, r, start+i+1)
				}
				r.release()
				if r.err != nil && r.stage == "write" && isOutputFatal(r.err) {
					mw.Abort()
					return fr, outputErr(out, r.err)
				}
				c := frep.Classes[r.class]
				if c == nil {
					c = &Counts{}
					frep.Classes[r.class] = c
				}
				if r.stage != "read" {
					c.Read++
				}
				if r.err != nil {
					c.Failed++
					fr.Failures = append(fr.Failures, Failure{Folder: frep.Path, NID: ref.NID, Class: r.class,
						Subject: r.subject, Stage: r.stage, Reason: firstLine(r.err.Error())})
					opts.Logger.Warn("item not exported", "file", path, "folder", frep.Path, "nid", ref.NID, "stage", r.stage, "err", r.err)
				} else {
					c.Written++
				}
				opts.Progress.Item(path)
			}
		}
		for _, c := range frep.Classes {
			frep.Totals.add(*c)
		}
		fr.Totals.add(frep.Totals)
	}
	if err := mw.Close(); err != nil {
		if isOutputFatal(err) {
			return fr, outputErr(out, err)
		}
		return fr, fmt.Errorf("finishing mail output in %s: %w", out, err)
	}
	// An item that could not even be read counts as read-attempted: the
	// report's "read" is what the contents tables list.
	fr.Totals.Read = 0
	for _, fo := range fr.Folders {
		fr.Totals.Read += fo.Listed
	}
	fr.Complete = fr.Totals.Failed == 0 && fr.Totals.Written == fr.Totals.Read && walkErr == nil && !hasFolderErrors(fr)
	return fr, nil
}

func hasFolderErrors(fr *FileReport) bool {
	for _, fo := range fr.Folders {
		if fo.Error != "" {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// write stores one converted item.
func write(ctx context.Context, mw sink.MailWriter, batch *sink.Batch, out string, fo *pst.Folder, r result, seq int) error {
	if r.mail != nil {
		m := *r.mail
		m.Seq = seq
		if err := mw.Add(ctx, fo.Path, m); err != nil {
			return err
		}
		if r.extraFile != "" {
			return batch.WriteFile(filepath.Join(out, sink.FolderPath(fo.Path), r.extraFile), r.extraData)
		}
		return nil
	}
	return batch.WriteFile(filepath.Join(out, sink.FolderPath(fo.Path), r.file), r.data)
}
