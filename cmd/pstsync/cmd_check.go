package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// checkProblems is a store with problems; they are printed already.
type checkProblems struct{ n int }

func (e checkProblems) Error() string {
	return fmt.Sprintf("%d problem(s) in the store; each line above says how to repair it", e.n)
}

func newCheckCommand() *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "verify the shared snapshot: every revision parses, every object is present with the right hash",
		Flags: storeFlags(),
		Action: func(c *cli.Context) error {
			_, repo, err := configuredRepo(c)
			if err != nil {
				return err
			}
			problems, err := repo.Check(c.Context)
			if err != nil {
				return err
			}
			for _, p := range problems {
				fmt.Fprintf(c.App.Writer, "problem: %s: %s: %s\n  repair: %s\n", p.Kind, p.Key, p.Detail, p.Repair)
			}
			if len(problems) > 0 {
				return checkProblems{len(problems)}
			}
			revs, err := repo.Revisions(c.Context)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "ok: %d revision(s), no problems\n", len(revs))
			return nil
		},
	}
}
