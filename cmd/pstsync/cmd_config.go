package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/pstsync/pstsync/config"
	"github.com/pstsync/pstsync/freebusy"
	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/sink/localstore"
	"github.com/pstsync/pstsync/sink/s3store"
	"github.com/urfave/cli/v2"
)

// configFlags are --config and one flag per non-secret option of package
// config (the sync command uses the same set). Secrets have no flag.
func configFlags() []cli.Flag {
	fs := []cli.Flag{&cli.StringFlag{Name: "config", Usage: "config file (default: %APPDATA%\\pstsync\\pstsync.toml on Windows, ~/.config/pstsync/pstsync.toml elsewhere; env PSTSYNC_CONFIG)"}}
	for _, o := range config.Options() {
		if o.Flag() == "" {
			continue
		}
		usage := o.Usage + " (env " + o.Env() + ")"
		switch o.Kind {
		case config.Bool:
			fs = append(fs, &cli.BoolFlag{Name: o.Flag(), Usage: usage})
		case config.List:
			fs = append(fs, &cli.GenericFlag{Name: o.Flag(), Usage: usage, Value: &multiString{}})
		default:
			fs = append(fs, &cli.StringFlag{Name: o.Flag(), Usage: usage})
		}
	}
	return fs
}

// multiString collects a repeated flag without splitting at commas
// (folder names may contain them).
type multiString struct{ values []string }

func (m *multiString) Set(v string) error { m.values = append(m.values, v); return nil }
func (m *multiString) String() string {
	if m == nil {
		return ""
	}
	return strings.Join(m.values, ", ")
}

// configOverrides collects the option flags given on the command line.
func configOverrides(c *cli.Context) config.Overrides {
	o := config.Overrides{}
	for _, opt := range config.Options() {
		f := opt.Flag()
		if f == "" || !c.IsSet(f) {
			continue
		}
		switch opt.Kind {
		case config.Bool:
			o[opt.Key] = []string{strconv.FormatBool(c.Bool(f))}
		case config.List:
			if m, ok := c.Generic(f).(*multiString); ok {
				o[opt.Key] = m.values
			}
		default:
			o[opt.Key] = []string{c.String(f)}
		}
	}
	return o
}

// loadConfig resolves the configuration: flags > environment > file >
// defaults. Errors wrap config.ErrInvalid (exit code exitConfig).
func loadConfig(c *cli.Context) (*config.Config, config.Source, error) {
	cfg, src, err := config.Load(c.String("config"), os.Getenv)
	if err != nil {
		return nil, src, err
	}
	if err := cfg.Apply(configOverrides(c)); err != nil {
		return nil, src, err
	}
	return cfg, src, nil
}

// configProblems is a failed validation; the problems are printed already.
type configProblems struct{ n int }

func (e configProblems) Error() string {
	return fmt.Sprintf("%d problem(s) in the configuration; fix them and run: pstsync config check", e.n)
}
func (e configProblems) Unwrap() error { return config.ErrInvalid }

// validateConfig prints every problem to w and returns configProblems.
func validateConfig(cfg *config.Config, w io.Writer) error {
	errs := cfg.Validate()
	for _, err := range errs {
		fmt.Fprintln(w, "problem: "+err.Error())
	}
	if len(errs) > 0 {
		return configProblems{len(errs)}
	}
	return nil
}

func newConfigCommand() *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "write a commented config file (init), or check it and the store connection (check)",
		Description: "Options resolve as: flag > environment (PSTSYNC_*) > config file > default.\n" +
			"Flags go before or after the subcommand: pstsync config check --user anna",
		Flags: append(configFlags(),
			&cli.BoolFlag{Name: "force", Usage: "init: overwrite an existing config file"},
			protectPassphraseFlag,
		),
		Subcommands: []*cli.Command{
			{
				Name:   "init",
				Usage:  "write a commented example config file (option flags fill in user, pst, store, mailbox)",
				Action: runConfigInit,
			},
			{
				Name:   "check",
				Usage:  "load and validate the configuration, show the effective values, test the store",
				Action: runConfigCheck,
			},
		},
	}
}

func runConfigInit(c *cli.Context) error {
	path := c.String("config")
	if path == "" {
		path = os.Getenv("PSTSYNC_CONFIG")
	}
	if path == "" {
		p, err := config.DefaultPath(runtime.GOOS, os.Getenv)
		if err != nil {
			return fmt.Errorf("no place for the config file (%v); name one with --config", err)
		}
		path = p
	}
	cfg := config.Default()
	if err := cfg.Apply(configOverrides(c)); err != nil {
		return err
	}
	if _, err := os.Stat(path); err == nil && !c.Bool("force") {
		return fmt.Errorf("%s exists; edit it, or overwrite it with: pstsync config init --force", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	example, err := withProtectedPassphrase(c, config.ExampleFor(cfg))
	if err != nil {
		return err
	}
	// 0600: the file may receive the S3 secret key
	if err := os.WriteFile(path, []byte(example), 0o600); err != nil {
		return err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "wrote %s\nedit it, then run: pstsync config check\n", path)
	fmt.Fprintln(c.App.Writer, freeBusyHint(cfg))
	return nil
}

// freeBusyHint is the line telling what to enter in Outlook so that its
// Scheduling Assistant finds the colleagues' published free/busy files.
func freeBusyHint(cfg *config.Config) string {
	dir := cfg.FreeBusy
	if dir == "" && cfg.Store != "" && !strings.HasPrefix(cfg.Store, "s3://") {
		dir = freebusy.DefaultDir(cfg.Store)
	}
	if dir == "" {
		return "free/busy: set freebusy = \"FOLDER\" (a folder every PC can read) to publish busy times for Outlook's Scheduling Assistant"
	}
	return "free/busy: in Outlook, File > Options > Calendar > Free/Busy Options, Search location: " + freebusy.SearchPath(dir)
}

func runConfigCheck(c *cli.Context) error {
	w := c.App.Writer
	cfg, src, err := loadConfig(c)
	if err != nil {
		return err
	}
	switch {
	case src.Found:
		fmt.Fprintf(w, "config file: %s\n", src.Path)
	case src.Path != "":
		fmt.Fprintf(w, "config file: %s (not found: defaults and environment only)\n", src.Path)
	default:
		fmt.Fprintln(w, "config file: none")
	}
	fmt.Fprintln(w)
	for _, s := range cfg.Settings() {
		fmt.Fprintf(w, "%-20s = %-40s # %s\n", s.Key, s.Value, s.Origin)
	}
	fmt.Fprintln(w)
	if logPath, err := cfg.LogPath(os.Getenv); err == nil {
		fmt.Fprintf(w, "log file:  %s\n", logPath)
	}
	if lockPath, err := cfg.LockPath(os.Getenv); err == nil {
		fmt.Fprintf(w, "run lock:  %s\n", lockPath)
	}
	if err := validateConfig(cfg, c.App.ErrWriter); err != nil {
		return err
	}
	if cfg.PST != "" {
		if _, err := os.Stat(cfg.PST); err != nil {
			fmt.Fprintf(c.App.ErrWriter, "warning: pst %s: %v\n", cfg.PST, err)
		}
	}
	ctx, cancel := context.WithTimeout(c.Context, cfg.S3.Timeout)
	defer cancel()
	msg, err := probeStore(ctx, cfg)
	if errors.Is(err, config.ErrInvalid) || storeStateError(err) {
		return err
	}
	if err != nil {
		return &unreachableError{store: cfg.Store, err: err}
	}
	fmt.Fprintf(w, "store:     %s: %s\n", sink.RedactURL(cfg.Store), sink.RedactURL(msg))
	fmt.Fprintln(w, freeBusyHint(cfg))
	fmt.Fprintln(w, "configuration OK")
	return nil
}

// openPlainStore opens the configured store as it is (openStore adds the
// encryption of an encrypted store; the sync command uses that).
// Errors wrap sink.ErrStoreMissing, sink.ErrAccessDenied or
// sink.ErrUnavailable (exit code exitUnreachable).
func openPlainStore(ctx context.Context, cfg *config.Config) (sink.Store, error) {
	if !cfg.IsS3() {
		return localstore.New(cfg.Store)
	}
	sc, err := s3store.ParseURL(cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("store %s: %v: %w", cfg.Store, err, config.ErrInvalid)
	}
	// config options win over the URL's query parameters
	if cfg.S3.Endpoint != "" {
		sc.Endpoint = cfg.S3.Endpoint
	}
	if cfg.S3.Region != "" {
		sc.Region = cfg.S3.Region
	}
	if cfg.Origin("s3.path_style").Kind != config.FromDefault {
		sc.PathStyle = cfg.S3.PathStyle
	}
	if cfg.Origin("s3.tls").Kind != config.FromDefault {
		sc.Insecure = !cfg.S3.TLS
	}
	sc.AccessKey, sc.SecretKey = cfg.S3.AccessKey, cfg.S3.SecretKey
	sc.Profile, sc.CredentialsFile = cfg.S3.Profile, cfg.S3.CredentialsFile
	sc.Timeout = cfg.S3.Timeout
	return s3store.New(ctx, sc)
}

// probeStore tests that the store can be reached and read: it opens it
// and lists the revisions.
func probeStore(ctx context.Context, cfg *config.Config) (string, error) {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return "", err
	}
	keys, err := st.List(ctx, "revisions/")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("reachable, %d revision(s)", len(keys)), nil
}
