package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/pstsync/pstsync/config"
	"github.com/pstsync/pstsync/freebusy"
	"github.com/pstsync/pstsync/logfile"
	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/pstlock"
	"github.com/pstsync/pstsync/runlock"
	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/snapshot"
	"github.com/pstsync/pstsync/syncer"
	"github.com/urfave/cli/v2"
)

// syncFlags are the flags of sync besides the config options.
func syncFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "show what would change and write nothing"},
		&cli.BoolFlag{Name: "allow-mass-delete", Usage: "confirm a sync that deletes more than half of a collection, or whose side is empty"},
		&cli.BoolFlag{Name: "take-over", Usage: "adopt the state your user name left on another computer (this computer replaces it); deletes nothing this run"},
		&cli.BoolFlag{Name: "init", Usage: "create the local store folder when it does not exist (the first sync of an office)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors"},
		&cli.BoolFlag{Name: "progress", Usage: "force the progress bar on (default: only on a terminal)"},
	}
}

func newSyncCommand() *cli.Command {
	return &cli.Command{
		Name:  "sync",
		Usage: "merge your calendar and contacts with the office's shared snapshot and write the merged view",
		Description: "Reads your PST's default Calendar and Contacts folders (and --share folders), or a --source\n" +
			"folder of .ics/.vcf files, or (Windows) the same folders in Outlook itself: with --outlook, or when\n" +
			"Outlook runs and answers (the merged result is then written back into Outlook too). It merges them three ways with the shared snapshot in --store (a folder,\n" +
			"also on a network share, or s3://BUCKET/PREFIX), commits a new revision and writes into --mailbox:\n" +
			"calendar.ics and contacts.vcf (everything shared), calendar/ and contacts/ (the same, one file\n" +
			"per item, for khal, khard, vdirsyncer), incoming/REV-calendar.ics and incoming/REV-contacts.vcf\n" +
			"(only what is new or changed for you: import these into Outlook), conflicts.html and\n" +
			"conflicts.json. Every option can also be set in the config file (pstsync config init) or the\n" +
			"environment (PSTSYNC_USER, PSTSYNC_STORE, ...); S3 credentials only there (AWS_ACCESS_KEY_ID,\n" +
			"AWS_SECRET_ACCESS_KEY), never as flags.\n" +
			"Exit codes: 0 ok, 3 some files or folders could not be read cleanly (their items left as they\n" +
			"were; see last-run.txt), 5 conflicts (both versions kept, see conflicts.html), 7 store\n" +
			"unreachable, 8 bad configuration, 9 another run is going on, 10 Outlook unavailable (--outlook),\n" +
			"11 Outlook blocked or not answering, 12 your user name is synced from another computer,\n" +
			"13 wrong or missing store passphrase, 1 any other failure.",
		Flags: append(configFlags(), syncFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError{fmt.Errorf("sync takes no arguments (got %q): give the PST with --pst", c.Args().First())}
			}
			return runSync(c.Context, c)
		},
	}
}

func runSync(ctx context.Context, c *cli.Context) (err error) {
	started := time.Now()
	syncGC()
	cfg, _, err := loadConfig(c)
	if err != nil {
		return err
	}
	if cfg.Mailbox == "" && !c.Bool("dry-run") {
		return fmt.Errorf("no mailbox folder: give --mailbox DIR (or mailbox in the config file): %w", config.ErrInvalid)
	}
	if err := validateConfig(cfg, c.App.ErrWriter); err != nil {
		return err
	}
	onConflict, err := merge.ParseOnConflict(cfg.OnConflict)
	if err != nil {
		return usageError{err}
	}
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	// Structured log lines go to the rotating log file (the place to look
	// when "my calendar didn't update"), warnings also to stderr.
	if !c.Bool("dry-run") {
		restore, err := logToFile(cfg)
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, "pstsync: warning: no log file: %v\n", err)
		} else {
			defer restore()
		}
	}
	// one run per user at a time on this machine
	if lp, lerr := cfg.LockPath(os.Getenv); lerr == nil {
		if err := os.MkdirAll(filepath.Dir(lp), 0o700); err == nil {
			lock, err := runlock.Acquire(ctx, lp)
			if err != nil {
				return err
			}
			defer lock.Release()
		}
	}
	host, _ := os.Hostname()
	var res *syncer.Result
	readPath := "PST file " + cfg.PST
	if cfg.Source != "" {
		readPath = "folder " + cfg.Source
	}
	defer func() {
		if c.Bool("dry-run") || cfg.Mailbox == "" {
			return
		}
		s := logfile.Summary{User: cfg.User, Host: host, Store: cfg.Store, Started: started, Duration: time.Since(started),
			ExitCode: exitCode(err), Err: err, Path: readPath}
		s.Outcome = exitOutcome[s.ExitCode]
		if res != nil {
			s.Revision, s.Added, s.Changed, s.Deleted, s.Conflicts = res.Rev, res.Added, res.Modified, res.Deleted, len(res.Conflicts)
			for _, p := range res.Problems {
				s.Problems = append(s.Problems, p.String())
			}
			for _, d := range res.Duplicates {
				s.Duplicates = append(s.Duplicates, d.String())
			}
		}
		s.Log(ctx, slog.Default())
		if _, serr := os.Stat(cfg.Mailbox); serr == nil {
			_ = s.WriteStatus(cfg.Mailbox)
		}
	}()

	// Read the PST through a consistent copy taken while Windows allows
	// shared reading; when Outlook holds it exclusively, skip this run with
	// nothing changed (exit 6) and try again at the next scheduled run.
	ol, err := syncOutlook(ctx, cfg)
	if err != nil {
		return err
	}
	if ol != nil {
		defer ol.Close()
		readPath = "Outlook (the running Outlook, through the bridge)"
	}
	pstPath := cfg.PST
	if pstPath != "" && ol == nil {
		snap, err := copyPST(ctx, cfg)
		if err != nil {
			return err
		}
		defer snap.Remove()
		pstPath = snap.Path
	}

	// the store's key (when encrypted) is derived while the sync reads
	// the user's side
	repo, err := openRepoWith(ctx, cfg, storeOpen{create: c.Bool("init"), background: true})
	if err != nil {
		return err
	}
	var bar *progressBar
	var prog syncer.Progress
	if !c.Bool("quiet") && (c.Bool("progress") || isTerminal(os.Stderr)) {
		bar = newProgressBar(c.App.ErrWriter)
		prog = bar
	}
	machine, err := machineID(c.Bool("dry-run"), func() error { return keyFailure(ctx, cfg, repo.Store()) })
	if err != nil {
		return err
	}
	so := syncer.Options{
		User: cfg.User, Host: host, PST: pstPath, Source: cfg.Source, Repo: repo, Mailbox: cfg.Mailbox,
		Share: cfg.Share, OnConflict: onConflict, DryRun: c.Bool("dry-run"),
		AllowMassDelete: c.Bool("allow-mass-delete"), Progress: prog, Logger: slog.Default(),
		Machine: machine, TakeOver: c.Bool("take-over"),
		FreeBusy: freeBusyDir(cfg), FreeBusyOptions: freebusy.Options{Name: cfg.User, Local: time.Local},
	}
	if ol != nil {
		so.PST, so.Outlook = "", ol
	}
	res, err = syncer.Sync(ctx, so)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		if kerr := keyFailure(ctx, cfg, repo.Store()); kerr != nil {
			return kerr // nothing was written
		}
		return syncError(cfg, err)
	}
	if !c.Bool("quiet") {
		printResult(c.App.Writer, res, cfg.Mailbox)
	}
	if !res.DryRun {
		autoPrune(ctx, repo, cfg)
	}
	if len(res.Problems) > 0 && !res.DryRun {
		srcs := map[string]bool{}
		for _, p := range res.Problems {
			srcs[p.Source] = true
		}
		return &syncProblemsError{sources: len(srcs), conflicts: len(res.Conflicts), status: filepath.Join(cfg.Mailbox, logfile.StatusFile)}
	}
	if len(res.Conflicts) > 0 && !res.DryRun {
		return &conflictsError{n: len(res.Conflicts), report: filepath.Join(cfg.Mailbox, syncer.ConflictsHTML)}
	}
	return nil
}

// machineID is this computer's id, kept in the state folder (created on
// first use): the same user name synced from two computers is detected
// from it. Without a state folder the mailbox folder keeps it. A new id is
// written only once keyFailure (the store's passphrase checked, when it
// is encrypted and opening in the background) is nil: a run with a wrong
// passphrase writes nothing.
func machineID(dryRun bool, keyFailure func() error) (string, error) {
	dir, err := config.StateDir(runtime.GOOS, os.Getenv)
	if err != nil {
		return "", nil
	}
	p := filepath.Join(dir, "machine-id")
	if id, err := syncer.MachineID(p, false); id != "" || err != nil || dryRun {
		return id, err
	}
	if err := keyFailure(); err != nil {
		return "", err
	}
	return syncer.MachineID(p, true)
}

// syncError adds what to do to the errors people meet.
func syncError(cfg *config.Config, err error) error {
	var ie *syncer.InputError
	var om *syncer.OtherMachineError
	var oe *syncer.OutlookError
	switch {
	case errors.As(err, &om):
		return err
	case errors.As(err, &oe):
		return &outlookError{err: err}
	case errors.As(err, &ie):
		return &inputError{path: ie.Path, err: ie.Err}
	case errors.Is(err, sink.ErrUnavailable), errors.Is(err, sink.ErrAccessDenied), errors.Is(err, sink.ErrStoreMissing):
		return &unreachableError{store: cfg.Store, err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("the run took longer than the timeout (%s); nothing partial was committed: %w", cfg.Timeout, err)
	}
	return err
}

// configuredRepo loads the configuration and opens its existing store:
// the start of every command that works on the shared snapshot.
func configuredRepo(c *cli.Context) (*config.Config, *snapshot.Repo, error) {
	cfg, _, err := loadConfig(c)
	if err != nil {
		return nil, nil, err
	}
	if cfg.Store == "" {
		return nil, nil, fmt.Errorf("no store: give --store PATH or s3://BUCKET/PREFIX: %w", config.ErrInvalid)
	}
	repo, err := openRepo(c.Context, cfg, false)
	if err != nil {
		return nil, nil, err
	}
	return cfg, repo, nil
}

// openRepo opens the snapshot repository of the configured store; create
// makes a missing local store folder.
func openRepo(ctx context.Context, cfg *config.Config, create bool) (*snapshot.Repo, error) {
	return openRepoWith(ctx, cfg, storeOpen{create: create})
}

// openRepoWith is openRepo opening the store as o says.
func openRepoWith(ctx context.Context, cfg *config.Config, o storeOpen) (*snapshot.Repo, error) {
	if o.create && !cfg.IsS3() && cfg.Store != "" {
		if err := os.MkdirAll(cfg.Store, 0o755); err != nil {
			return nil, fmt.Errorf("creating the store folder: %w", err)
		}
	}
	st, err := openStoreWith(ctx, cfg, o)
	if err != nil {
		if storeStateError(err) {
			return nil, err
		}
		if errors.Is(err, sink.ErrStoreMissing) && !cfg.IsS3() {
			err = fmt.Errorf("%w (for the office's first sync add --init to create it)", err)
		}
		return nil, &unreachableError{store: cfg.Store, err: err}
	}
	repo, err := snapshot.Open(ctx, st, snapshot.WithLogger(slog.Default()))
	if err != nil {
		if kerr := keyFailure(ctx, cfg, st); kerr != nil {
			return nil, kerr
		}
		return nil, &unreachableError{store: cfg.Store, err: err}
	}
	return repo, nil
}

func printResult(w io.Writer, res *syncer.Result, mailbox string) {
	fmt.Fprintln(w, res.Summary())
	if res.DryRun {
		for _, ch := range res.Changes {
			fmt.Fprintf(w, "  %-13s %s/%s\n", ch.Op, ch.Collection, ch.UID)
		}
	}
	for _, c := range res.Conflicts {
		fmt.Fprintf(w, "  conflict: %s %q field %s (%s)\n", c.Collection, c.Title, c.Field, c.Resolution)
	}
	if o := res.Outlook; o != nil {
		fmt.Fprintf(w, "outlook: %d created, %d updated, %d removed", o.Created, o.Updated, o.Removed)
		if n := len(o.PrivateKept); n > 0 {
			fmt.Fprintf(w, "; %d private item(s) left as they are", n)
		}
		if n := len(o.Refused); n > 0 {
			fmt.Fprintf(w, "; %d item(s) Outlook refused (see the log)", n)
		}
		fmt.Fprintln(w)
	}
	if mailbox != "" && !res.DryRun {
		fmt.Fprintf(w, "mailbox: %s\n", mailbox)
	}
	if res.FreeBusy != "" {
		fmt.Fprintf(w, "free/busy: %s\n", res.FreeBusy)
	}
}

// copyPST copies the user's PST into the state directory with shared
// reading, so a sync never reads a file Outlook is writing.
func copyPST(ctx context.Context, cfg *config.Config) (*pstlock.Snapshot, error) {
	dir, err := config.StateDir(runtime.GOOS, os.Getenv)
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "pst-copies")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("copy of %s: %w", cfg.PST, err)
	}
	if n, err := pstlock.RemoveStale(dir); err == nil && n > 0 {
		slog.Info("removed copies left by an interrupted run", "dir", dir, "files", n)
	}
	snap, err := pstlock.Copy(ctx, cfg.PST, dir)
	if err != nil {
		if pstlock.IsLocked(err) {
			slog.Warn("PST in use by another program; run skipped, nothing changed", "pst", cfg.PST)
			return nil, fmt.Errorf("%s is in use by another program (Outlook?); this run was skipped and nothing changed, the next one will retry: %w", cfg.PST, err)
		}
		return nil, &inputError{path: cfg.PST, err: err}
	}
	return snap, nil
}

// logToFile makes the default logger write to the configured rotating log
// file as well as to the current handler (stderr); the returned function
// restores the previous logger and closes the file.
func logToFile(cfg *config.Config) (func(), error) {
	path, err := cfg.LogPath(os.Getenv)
	if err != nil {
		return nil, err
	}
	w, err := logfile.Open(logfile.Options{Path: path, MaxBytes: cfg.LogMaxBytes(), MaxFiles: cfg.Log.MaxFiles})
	if err != nil {
		return nil, err
	}
	prev := slog.Default()
	slog.SetDefault(slog.New(logfile.Tee(redacting(logfile.NewHandler(w, cfg.Log.Format, cfg.LogLevel())), prev.Handler())))
	return func() {
		slog.SetDefault(prev)
		w.Close()
	}, nil
}
