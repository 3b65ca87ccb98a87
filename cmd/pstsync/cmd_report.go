package main

import (
	"fmt"

	"github.com/pstsync/pstsync/merge/report"
	"github.com/pstsync/pstsync/syncer"
	"github.com/urfave/cli/v2"
)

func newReportCommand() *cli.Command {
	return &cli.Command{
		Name:  "report",
		Usage: "print the conflicts recorded with the latest (or a given) revision",
		Flags: append(storeFlags(),
			&cli.Int64Flag{Name: "rev", Usage: "revision (default: the latest)"},
			&cli.BoolFlag{Name: "json", Usage: "JSON for scripts"},
			&cli.BoolFlag{Name: "html", Usage: "an HTML page with both versions side by side"},
		),
		Action: func(c *cli.Context) error {
			if c.Bool("json") && c.Bool("html") {
				return usageError{fmt.Errorf("give --json or --html, not both")}
			}
			cfg, repo, err := configuredRepo(c)
			if err != nil {
				return err
			}
			rev := c.Int64("rev")
			if rev == 0 {
				m, err := repo.Latest(c.Context)
				if err != nil {
					return err
				}
				if m == nil {
					return fmt.Errorf("the store %s holds no revision yet", cfg.Store)
				}
				rev = m.Rev
			}
			m, err := repo.Manifest(c.Context, rev)
			if err != nil {
				return err
			}
			cs, err := syncer.RevisionConflicts(c.Context, repo, rev)
			if err != nil {
				return err
			}
			meta := report.Meta{Revision: rev, Time: m.Time}
			switch {
			case c.Bool("json"):
				return report.JSON(c.App.Writer, cs, meta)
			case c.Bool("html"):
				return report.HTML(c.App.Writer, cs, meta)
			}
			if len(cs) == 0 {
				fmt.Fprintf(c.App.Writer, "revision %d: no conflicts\n", rev)
				return nil
			}
			fmt.Fprintf(c.App.Writer, "revision %d: %d conflict(s)\n", rev, len(cs))
			for _, x := range cs {
				fmt.Fprintf(c.App.Writer, "%s %q (%s) field %s: %s %s, %s %s -> %s\n", x.Collection, x.Title, x.UID, x.Field,
					nonEmpty(x.OursBy, "ours"), str(x.Ours), nonEmpty(x.TheirsBy, "theirs"), str(x.Theirs), x.Resolution)
			}
			return nil
		},
	}
}

func str(p *string) string {
	if p == nil {
		return "(none)"
	}
	return fmt.Sprintf("%q", *p)
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
