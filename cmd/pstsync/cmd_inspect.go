package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/pstsync/pstsync/pst"
	"github.com/urfave/cli/v2"
)

func newInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show format, encryption, folder tree and item counts of PST files",
		ArgsUsage: "FILE...",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print JSON (one object per file, in a list)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageError{fmt.Errorf("inspect needs at least one PST file")}
			}
			return runInspect(c, c.Args().Slice(), c.Bool("json"), c.App.Writer)
		},
	}
}

func runInspect(c *cli.Context, files []string, asJSON bool, w io.Writer) error {
	var sums []*pst.Summary
	var firstErr error
	for _, path := range files {
		f, err := pst.OpenRecover(path)
		if err != nil {
			ie := &inputError{path: path, err: err}
			if firstErr == nil {
				firstErr = ie
			}
			if asJSON {
				sums = append(sums, &pst.Summary{File: path, Errors: []string{ie.Error()}})
			} else {
				fmt.Fprintln(c.App.ErrWriter, "pstsync: "+ie.Error())
			}
			continue
		}
		s, err := f.Summarize(c.Context, path)
		f.Close()
		if err != nil {
			return err
		}
		sums = append(sums, s)
		if !asJSON {
			printSummary(w, s)
		}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sums); err != nil {
			return err
		}
	}
	if firstErr != nil {
		// already printed per file; exit with the input code
		return silentInputError{firstErr}
	}
	return nil
}

// silentInputError carries exit code 4 without printing again.
type silentInputError struct{ err error }

func (e silentInputError) Error() string { return "" }
func (e silentInputError) Unwrap() error { return e.err }
func (e silentInputError) ExitCode() int { return exitInput }

func printSummary(w io.Writer, s *pst.Summary) {
	fmt.Fprintf(w, "%s: %s PST%s, encryption %s, %d bytes\n", s.File, s.Format, map[bool]string{true: " (OST)"}[s.OST], s.Encryption, s.Size)
	for _, fo := range s.Folders {
		depth := strings.Count(fo.Path, "/")
		name := fo.Name
		if fo.Path == "" {
			name = "(root)"
		} else {
			depth++
		}
		line := fmt.Sprintf("%s%s", strings.Repeat("  ", depth), name)
		if fo.ContainerClass != "" {
			line += " [" + fo.ContainerClass + "]"
		}
		if fo.Search {
			line += " (search folder)"
		}
		if fo.Items > 0 {
			var parts []string
			for _, cl := range slices.Sorted(maps.Keys(fo.Classes)) {
				label := cl
				if label == "" {
					label = "(no class)"
				}
				parts = append(parts, fmt.Sprintf("%s %d", label, fo.Classes[cl]))
			}
			line += ": " + strings.Join(parts, ", ")
		}
		fmt.Fprintln(w, line)
	}
	var tot []string
	for _, k := range pst.Kinds {
		if n := s.Totals[k]; n > 0 {
			tot = append(tot, fmt.Sprintf("%s %d", k, n))
		}
	}
	if len(tot) == 0 {
		tot = []string{"no items"}
	}
	fmt.Fprintf(w, "total: %s\n", strings.Join(tot, ", "))
	for _, e := range s.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
}
