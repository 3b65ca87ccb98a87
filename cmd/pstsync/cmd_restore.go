package main

import (
	"fmt"
	"os"
	"time"

	"github.com/pstsync/pstsync/snapshot"
	"github.com/urfave/cli/v2"
)

func newRestoreCommand() *cli.Command {
	return &cli.Command{
		Name:  "restore",
		Usage: "make a new revision equal to an earlier one (nothing is overwritten; undo with another restore)",
		Flags: append(storeFlags(), &cli.Int64Flag{Name: "rev", Usage: "the revision to restore (required)"}),
		Action: func(c *cli.Context) error {
			if c.Int64("rev") <= 0 {
				return usageError{fmt.Errorf("restore needs --rev N (see pstsync log)")}
			}
			cfg, repo, err := configuredRepo(c)
			if err != nil {
				return err
			}
			user := cfg.User
			if user == "" {
				user = "restore"
			}
			host, _ := os.Hostname()
			m, err := repo.Restore(c.Context, c.Int64("rev"), snapshot.Author{User: user, Host: host}, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "revision %d restored as revision %d (%d items, %d changes); every user's next sync brings it to them\n",
				c.Int64("rev"), m.Rev, m.Items(), len(m.Changes))
			return nil
		},
	}
}
