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
	Out     string // output directory
	Mail    string // sink.FormatEML (default), FormatMbox or FormatMaildir
	VCard   string // "4.0" (default) or "3.0"
	Workers int    // files processed at once (default: number of CPUs)
	// NoSync leaves the written files to the operating system to put on
	// disk when it sees fit, as most tools do, instead of flushing them
	// before report.json is written. Faster, but after a power cut the
	// report may list files that were never stored.
	NoSync bool
	// AllFolders exports every folder of the file; by default only what
	// Outlook shows, the IPM subtree (mail, calendar, contacts, ... and
	// Deleted Items), and the Recovered folder of a damaged file. System
	// folders such as "Freebusy Data" and search roots are left out.
	AllFolders bool
	Progress   Progress
	Logger     *slog.Logger
	// Now is the clock for the report (default time.Now).
	Now func() time.Time
}

// Progress receives progress events; implementations must be safe for
// concurrent use. The CLI draws a bar on a terminal; the default does
// nothing.
type Progress interface {
	// Start begins a file with a first count of items; Add adds to it as
	// folders are listed.
	Start(file string, items int)
	Add(file string, items int)
	Item(file string)
	Done(file string)
}

type noProgress struct{}

func (noProgress) Start(string, int) {}
func (noProgress) Add(string, int)   {}
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
	rep := &Report{Started: opts.Now(), Options: ReportOptions{Mail: opts.Mail, VCard: opts.VCard, Synced: !opts.NoSync, AllFolders: opts.AllFolders}}
	rep.Files = make([]*FileReport, len(files))
	outs := outDirs(opts.Out, files)

	// Files are written atomically as they come and made durable in one
	// sync before report.json: a report on disk means a durable export
	// (unless NoSync).
	batch := sink.NewBatch()
	if !opts.NoSync {
		batch.Flush()
	}
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
	write := sink.WriteFileAtomic
	if opts.NoSync {
		write = batch.WriteFile
	} else if err := batch.Sync(); err != nil {
		return rep, fmt.Errorf("%w: %w", ErrOutput, err)
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		return rep, err
	}
	if err := write(filepath.Join(opts.Out, "report.json"), buf.Bytes()); err != nil {
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

// listing is one folder with its contents table.
type listing struct {
	fo   *pst.Folder
	refs []pst.ItemRef
	err  error
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
	msg       *pst.Message  // released with the result: mail.Write reads it
	stage     string
	err       error
	missing   []string // parts of the item that could not be read
}

// window is how many items ordered converts ahead of its writer.
const window = 256

func exportFile(ctx context.Context, path, out string, batch *sink.Batch, opts Options) (*FileReport, error) {
	fr := &FileReport{File: path, Out: out, Failures: []Failure{}}
	f, err := pst.OpenRecover(path)
	if err != nil {
		fr.Error, fr.OpenErr = err.Error(), err
		return fr, nil
	}
	defer f.Close()
	fr.Format = f.Info().Format.String()
	for _, err := range f.Damage() {
		fr.Damage = append(fr.Damage, firstLine(err.Error()))
	}
	if n := f.Recovered(); n > 0 {
		fr.Damage = append(fr.Damage, fmt.Sprintf("%d index entries recovered by scanning the file's pages", n))
	}

	// The folder tree first (cheap); each folder's contents table is
	// listed just before its items are fed to the workers, so listing
	// overlaps converting. By default only the IPM subtree (what Outlook
	// shows) and the Recovered folder are exported.
	ipm := f.IPMSubtree()
	if ipm == 0 && !opts.AllFolders {
		fr.Damage = append(fr.Damage, "the message store does not name its top folder (IPM subtree): every folder is exported")
	}
	in := map[uint32]bool{}
	var folders []listing
	walkErr := f.Walk(ctx, func(fo *pst.Folder) error {
		if opts.AllFolders || ipm == 0 || fo.NID == ipm || fo.IsRecovered() || in[fo.ParentNID] {
			in[fo.NID] = true
			folders = append(folders, listing{fo: fo})
		}
		return nil
	})
	if ctx.Err() != nil {
		return fr, ctx.Err()
	}
	if walkErr != nil {
		for _, line := range strings.Split(walkErr.Error(), "\n") {
			fr.Failures = append(fr.Failures, Failure{Stage: "read", Reason: "folder tree: " + line})
		}
	}
	opts.Progress.Start(path, 0)
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
	run := &fileRun{conv: newConverter(f, opts), mw: mw, batch: batch, out: out, path: path,
		progress: opts.Progress, folders: folders, outcomes: make([][]outcome, len(folders))}
	var fatal error
	if opts.Mail == sink.FormatMbox {
		// mbox appends to one file per folder: writes follow folder order.
		fatal = run.ordered(ctx)
	} else {
		fatal = run.unordered(ctx)
	}
	if fatal != nil {
		mw.Abort()
		if ctx.Err() != nil && !isOutputFatal(fatal) {
			return fr, ctx.Err()
		}
		return fr, outputErr(out, fatal)
	}
	for li, l := range folders {
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
		for i, r := range run.outcomes[li] {
			ref := refs[i]
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
				if len(r.missing) > 0 {
					c.Partial++
					fr.Failures = append(fr.Failures, Failure{Folder: frep.Path, NID: ref.NID, Class: r.class,
						Subject: r.subject, Stage: "read", Partial: true, Reason: "written without: " + strings.Join(r.missing, "; ")})
					opts.Logger.Warn("item exported without some parts", "file", path, "folder", frep.Path, "nid", ref.NID, "missing", r.missing)
				}
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
	fr.Complete = fr.Totals.Failed == 0 && fr.Totals.Partial == 0 && fr.Totals.Written == fr.Totals.Read &&
		walkErr == nil && !hasFolderErrors(fr) && len(fr.Damage) == 0
	return fr, nil
}

// outcome is what the report keeps of one item.
type outcome struct {
	class, subject, stage string
	err                   error
	missing               []string // parts not read (the item was written without them)
}

func (r *result) outcome() outcome {
	return outcome{class: r.class, subject: r.subject, stage: r.stage, err: r.err, missing: r.missing}
}

// fileRun is the export of one file's items.
type fileRun struct {
	conv     *converter
	mw       sink.MailWriter
	batch    *sink.Batch
	out      string // the file's output directory
	path     string // the PST, for progress
	progress Progress
	folders  []listing
	outcomes [][]outcome // per folder, one per listed item
}

// list lists folder li's contents just before its items are queued, so
// that listing overlaps converting.
func (x *fileRun) list(li int) {
	l := &x.folders[li]
	if l.fo.IsSearchFolder() {
		return
	}
	l.refs, l.err = l.fo.Items()
	x.outcomes[li] = make([]outcome, len(l.refs))
	x.progress.Add(x.path, len(l.refs))
}

// writeResult writes item t's converted result r unless converting failed;
// an output failure that would hit every further item cancels the run.
func (x *fileRun) writeResult(ctx context.Context, cancel context.CancelCauseFunc, t itemTask, r *result) {
	if r.err != nil {
		return
	}
	r.stage, r.err = "write", write(ctx, x.mw, x.batch, x.out, x.folders[t.folder].fo, *r, t.item+1)
	if r.err != nil && isOutputFatal(r.err) {
		cancel(r.err)
	}
}

// itemTask names one item: folders[folder].refs[item].
type itemTask struct{ folder, item int }

// unordered reads, converts and writes every item of every folder with a
// pool of workers fed from one queue, so that a slow item (a large
// attachment) never holds the others up at a folder or batch boundary. It
// returns the error that stopped it: an output failure that would hit
// every further item, or the context's.
func (x *fileRun) unordered(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan itemTask, 64)
	var wg sync.WaitGroup
	// File creation blocks in the kernel: more workers than CPUs.
	for w := 0; w < 2*runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				fo := x.folders[t.folder].fo
				r := x.conv.convert(job{ref: x.folders[t.folder].refs[t.item], folder: fo})
				x.writeResult(ctx, cancel, t, &r)
				x.outcomes[t.folder][t.item] = r.outcome()
				r.release()
				x.progress.Item(x.path)
			}
		}()
	}
feed:
	for li := range x.folders {
		x.list(li)
		for i := range x.outcomes[li] {
			select {
			case work <- itemTask{li, i}:
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(work)
	wg.Wait()
	return context.Cause(ctx)
}

// ordered is unordered for sinks that need the items of a folder written
// in order (mbox): workers read and convert up to window items ahead of
// one writer, which takes the results in order. (Converting a batch, then
// writing it, left a CPU idle while the writer worked.)
func (x *fileRun) ordered(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type slot struct {
		t    itemTask
		r    result
		done chan struct{}
	}
	inOrder := make(chan *slot, window) // to the writer; bounds the items in memory
	work := make(chan *slot, window)
	var wg sync.WaitGroup
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				l := &x.folders[s.t.folder]
				s.r = x.conv.convert(job{ref: l.refs[s.t.item], folder: l.fo})
				close(s.done)
			}
		}()
	}
	go func() {
		defer close(inOrder)
		defer close(work)
		for li := range x.folders {
			x.list(li)
			for i := range x.outcomes[li] {
				s := &slot{t: itemTask{li, i}, done: make(chan struct{})}
				select {
				case inOrder <- s:
				case <-ctx.Done():
					return
				}
				work <- s // never blocks for long: inOrder holds as many
			}
		}
	}()
	for s := range inOrder {
		<-s.done
		r := &s.r
		if ctx.Err() == nil {
			x.writeResult(ctx, cancel, s.t, r)
		}
		if ctx.Err() == nil || r.stage == "write" {
			x.outcomes[s.t.folder][s.t.item] = r.outcome()
			x.progress.Item(x.path)
		}
		r.release()
	}
	wg.Wait()
	return context.Cause(ctx)
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
