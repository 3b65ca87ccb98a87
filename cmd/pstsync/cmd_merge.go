package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/pstsync/pstsync/config"
	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/syncer"
	"github.com/urfave/cli/v2"
)

// storeFlags are the flags of the commands that only need the store.
func storeFlags() []cli.Flag {
	return configFlags()
}

func newMergeCommand() *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "seed or rebuild the shared snapshot from several users' PSTs at once",
		ArgsUsage: "[USER=]FILE.pst|DIR...",
		Description: "Merges each PST (or folder of .ics/.vcf files) into the snapshot in --store, in order, with the\n" +
			"same rules as sync; each is recorded as user USER (default: the file name without extension).\n" +
			"No mailbox is written: each user's next sync does that.",
		Flags: append(storeFlags(),
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "show what would change and write nothing"},
			&cli.BoolFlag{Name: "allow-mass-delete", Usage: "confirm deletions of more than half of a collection"},
			&cli.BoolFlag{Name: "init", Usage: "create the local store folder when it does not exist"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageError{fmt.Errorf("merge needs at least one PST file or source folder")}
			}
			cfg, _, err := loadConfig(c)
			if err != nil {
				return err
			}
			if cfg.Store == "" {
				return fmt.Errorf("no store: give --store PATH or s3://BUCKET/PREFIX: %w", config.ErrInvalid)
			}
			onConflict, err := merge.ParseOnConflict(cfg.OnConflict)
			if err != nil {
				return usageError{err}
			}
			var inputs []syncer.Input
			for _, a := range c.Args().Slice() {
				user, path, ok := strings.Cut(a, "=")
				if !ok {
					path = a
					user = strings.TrimSuffix(filepath.Base(a), filepath.Ext(a))
				}
				in := syncer.Input{User: user}
				if st, err := os.Stat(path); err == nil && st.IsDir() {
					in.Source = path
				} else {
					in.PST = path
				}
				inputs = append(inputs, in)
			}
			repo, err := openRepo(c.Context, cfg, c.Bool("init"))
			if err != nil {
				return err
			}
			host, _ := os.Hostname()
			results, err := syncer.MergeMany(c.Context, repo, inputs, syncer.Options{Host: host, OnConflict: onConflict,
				DryRun: c.Bool("dry-run"), AllowMassDelete: c.Bool("allow-mass-delete"), Share: cfg.Share, Logger: slog.Default()})
			conflicts := 0
			for _, r := range results {
				fmt.Fprintf(c.App.Writer, "%s: %s\n", r.User, r.Summary())
				conflicts += len(r.Conflicts)
			}
			if err != nil {
				return syncError(cfg, err)
			}
			if conflicts > 0 && !c.Bool("dry-run") {
				return &conflictsError{n: conflicts, report: "pstsync report --html"}
			}
			return nil
		},
	}
}
