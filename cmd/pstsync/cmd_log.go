package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

func newLogCommand() *cli.Command {
	return &cli.Command{
		Name:  "log",
		Usage: "list the shared snapshot's revisions: who, when, what changed",
		Flags: append(storeFlags(), &cli.BoolFlag{Name: "json", Usage: "JSON for scripts"}),
		Action: func(c *cli.Context) error {
			_, repo, err := configuredRepo(c)
			if err != nil {
				return err
			}
			entries, err := repo.Log(c.Context)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				enc := json.NewEncoder(c.App.Writer)
				enc.SetIndent("", "  ")
				return enc.Encode(entries)
			}
			for _, e := range entries {
				if e.Error != "" {
					fmt.Fprintf(c.App.Writer, "%6d  unreadable: %s\n", e.Rev, e.Error)
					continue
				}
				var ops []string
				for op, n := range e.Counts {
					ops = append(ops, fmt.Sprintf("%s %d", op, n))
				}
				sort.Strings(ops)
				who := e.Author.User
				if e.Author.Host != "" {
					who += "@" + e.Author.Host
				}
				conf := ""
				if e.Conflicts {
					conf = "  conflicts (pstsync report --rev " + fmt.Sprint(e.Rev) + ")"
				}
				if e.Pruned {
					conf += "  (pruned: the record of it only, it cannot be restored)"
				}
				fmt.Fprintf(c.App.Writer, "%6d  %s  %-20s %5d items  %s%s\n", e.Rev, e.Time.Local().Format(time.DateTime), who, e.Items,
					strings.Join(ops, ", "), conf)
			}
			return nil
		},
	}
}
