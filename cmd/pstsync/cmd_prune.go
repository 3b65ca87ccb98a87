package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/pstsync/pstsync/config"
	"github.com/pstsync/pstsync/snapshot"
	"github.com/urfave/cli/v2"
)

func newPruneCommand() *cli.Command {
	def := snapshot.DefaultPolicy
	return &cli.Command{
		Name:    "prune",
		Aliases: []string{"forget"},
		Usage:   "remove old revisions by a retention policy and delete what nothing needs any more",
		Description: "Keeps every revision of the last --keep-within, the newest of each of the last --keep-daily\n" +
			"days and of each of the last --keep-monthly months (-1: all), the latest revision and every\n" +
			"revision a user last synced. Removed revisions keep their audit record (who changed what,\n" +
			"when, conflicts): pstsync log shows them as pruned. Objects nothing refers to are deleted\n" +
			"once a later prune, --grace after, still finds them unreferenced. Safe while others sync.\n" +
			"A sync runs it once a day by itself (config prune_every).",
		Flags: append(storeFlags(),
			&cli.StringFlag{Name: "keep-within", Value: "7d", Usage: "keep every revision younger than this (e.g. 7d, 36h)"},
			&cli.IntFlag{Name: "keep-daily", Value: def.Daily, Usage: "keep the newest revision of each of the last N days"},
			&cli.IntFlag{Name: "keep-monthly", Value: def.Monthly, Usage: "keep the newest revision of each of the last N months (-1: all)"},
			&cli.StringFlag{Name: "grace", Value: "12h", Usage: "delete an unreferenced object only when a prune this long ago found it unreferenced too (0: at once, when nobody else uses the store)"},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "show what would be removed, change nothing"},
			&cli.BoolFlag{Name: "json", Usage: "JSON for scripts"},
		),
		Action: func(c *cli.Context) error {
			within, err := parseDays(c.String("keep-within"))
			if err != nil {
				return usageError{fmt.Errorf("--keep-within: %w", err)}
			}
			grace, err := parseDays(c.String("grace"))
			if err != nil {
				return usageError{fmt.Errorf("--grace: %w", err)}
			}
			_, repo, err := configuredRepo(c)
			if err != nil {
				return err
			}
			pol := snapshot.Policy{Within: within, Daily: c.Int("keep-daily"), Monthly: c.Int("keep-monthly"),
				Grace: grace, DryRun: c.Bool("dry-run")}
			res, err := repo.Prune(c.Context, pol, time.Now())
			if err != nil {
				return err
			}
			if c.Bool("json") {
				enc := json.NewEncoder(c.App.Writer)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			verb := "removed"
			if pol.DryRun {
				verb = "would remove"
			}
			fmt.Fprintf(c.App.Writer, "%s %d revision(s), kept %d; deleted %d object(s) (%d bytes); %d unreferenced object(s) wait for the next prune\n",
				verb, len(res.Removed), len(res.Kept), res.ObjectsDeleted, res.BytesDeleted, res.ObjectsPending)
			return nil
		},
	}
}

// parseDays is time.ParseDuration that also takes whole days ("7d").
func parseDays(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q: give days as 7d or a duration as 36h", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: give days as 7d or a duration as 36h", s)
	}
	return d, nil
}

// autoPrune runs the default prune after a sync when the last one (by any
// user) is older than cfg.PruneEvery. A failure is logged: the sync itself
// succeeded.
func autoPrune(ctx context.Context, repo *snapshot.Repo, cfg *config.Config) {
	if cfg.PruneEvery <= 0 {
		return
	}
	res, err := repo.PruneIfDue(ctx, snapshot.DefaultPolicy, time.Now(), cfg.PruneEvery)
	switch {
	case errors.Is(err, snapshot.ErrPruneNotDue):
	case err != nil:
		slog.WarnContext(ctx, "daily prune failed (the sync itself is done); run pstsync prune", "err", err)
	default:
		slog.InfoContext(ctx, "pruned the store's history", "removed", len(res.Removed), "kept", len(res.Kept),
			"objects_deleted", res.ObjectsDeleted, "bytes_deleted", res.BytesDeleted)
	}
}
