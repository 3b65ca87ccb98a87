package main

import (
	"fmt"

	"github.com/pstsync/pstsync/snapshot"
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
		Description: "Also lists, as notes, what is stored but not needed: objects no revision or user state\n" +
			"refers to (pstsync prune deletes them) and temporary files left by killed runs.\n" +
			"With --repair it fixes what it can: removes temporary files, deletes corrupt objects, asks\n" +
			"the next sync of every user who has a lost item to write it again, deletes unreadable user\n" +
			"states (that user starts fresh, which never deletes). Run check again after those syncs.",
		Flags: append(storeFlags(),
			&cli.BoolFlag{Name: "repair", Usage: "fix what can be fixed (see the description)"}),
		Action: func(c *cli.Context) error {
			tampered, err := verifyEncryption(c)
			if err != nil {
				return err
			}
			_, repo, err := configuredRepo(c)
			if err != nil {
				return err
			}
			problems, err := repo.Check(c.Context)
			if err != nil {
				if tampered > 0 {
					return fmt.Errorf("%w; then: %v", checkProblems{tampered}, err)
				}
				return err
			}
			notes, err := repo.Hygiene(c.Context)
			if err != nil {
				return err
			}
			w := c.App.Writer
			if c.Bool("repair") {
				res, err := repo.Repair(c.Context, append(problems, notes...))
				if res != nil {
					for _, d := range res.Done {
						fmt.Fprintf(w, "repaired: %s\n", d)
					}
				}
				if err != nil {
					return err
				}
				problems = nil
				for _, p := range res.Left {
					if !notesKind[p.Kind] {
						problems = append(problems, p)
					}
				}
				notes = nil
			}
			for _, p := range problems {
				fmt.Fprintf(w, "problem: %s: %s: %s\n  repair: %s\n", p.Kind, p.Key, p.Detail, p.Repair)
			}
			orphans := 0
			for _, p := range notes {
				if notesKind[p.Kind] && p.Kind != snapshot.TempFile {
					orphans++
					continue
				}
				fmt.Fprintf(w, "note: %s: %s: %s\n  repair: %s\n", p.Kind, p.Key, p.Detail, p.Repair)
			}
			if orphans > 0 {
				fmt.Fprintf(w, "note: %d object(s) no revision or user state refers to (left by runs killed before their commit, or a sync running now); pstsync prune deletes them\n", orphans)
			}
			if len(problems)+tampered > 0 {
				return checkProblems{len(problems) + tampered}
			}
			revs, err := repo.Revisions(c.Context)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "ok: %d revision(s), no problems\n", len(revs))
			return nil
		},
	}
}

// notesKind: what check reports without failing.
var notesKind = map[snapshot.ProblemKind]bool{snapshot.ObjectOrphan: true, snapshot.TempFile: true}
