package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pstsync/pstsync/outlook"
	"github.com/pstsync/pstsync/outlook/com"
)

// outlookOpener opens the Outlook bridge; tests replace openOutlook with
// one that returns the in-memory fake.
type outlookOpener func(ctx context.Context, opts com.Options) (outlook.Session, error)

var openOutlook outlookOpener = com.Open

// outlookError is a failure to use Outlook, with its exit code.
type outlookError struct{ err error }

func (e *outlookError) Error() string { return e.err.Error() }
func (e *outlookError) Unwrap() error { return e.err }

// code is exitOutlookBlocked for a blocked or unanswered call (a person
// must allow access or close a dialog; the next run retries), else
// exitOutlook (Outlook missing, closed, or a folder not found).
func (e *outlookError) exitCode() int {
	if errors.Is(e.err, outlook.ErrBlocked) || errors.Is(e.err, outlook.ErrTimeout) {
		return exitOutlookBlocked
	}
	return exitOutlook
}

func outlookFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "start", Usage: "start Outlook when it is not running"},
		&cli.DurationFlag{Name: "timeout", Value: com.DefaultTimeout, Usage: "longest wait for one answer from Outlook"},
	}
}

func newOutlookCommand() *cli.Command {
	return &cli.Command{
		Name:  "outlook",
		Usage: "check the live connection to Outlook on this PC (Windows)",
		// The flags belong to "outlook" (the subcommands read them from
		// there): "pstsync outlook selftest --start" puts them in front of
		// the subcommand's name (interspersed).
		Flags: outlookFlags(),
		Subcommands: []*cli.Command{
			{
				Name:  "status",
				Usage: "whether Outlook can be reached, its stores, and the items in its default Calendar and Contacts",
				Action: func(c *cli.Context) error {
					return runOutlookStatus(c.Context, c.App.Writer, openOutlook, outlookOptions(c))
				},
			},
			{
				Name:  "selftest",
				Usage: "round-trip a fixed set of items through a temporary Outlook folder and print a pass/fail table",
				Action: func(c *cli.Context) error {
					return runOutlookSelftest(c.Context, c.App.Writer, openOutlook, outlookOptions(c), time.Now())
				},
			},
		},
	}
}

func outlookOptions(c *cli.Context) com.Options {
	return com.Options{Start: c.Bool("start"), Timeout: c.Duration("timeout")}
}

// runOutlookStatus prints what the bridge sees.
func runOutlookStatus(ctx context.Context, w io.Writer, open outlookOpener, opts com.Options) error {
	s, err := open(ctx, opts)
	if err != nil {
		return &outlookError{err}
	}
	defer s.Close()
	stores, err := s.Stores(ctx)
	if err != nil {
		return &outlookError{err}
	}
	fmt.Fprintf(w, "Outlook: reachable\nstores: %s\n", strings.Join(stores, "; "))
	if len(stores) > 1 {
		fmt.Fprintln(w, "several stores: pstsync uses the default store's Calendar and Contacts; name --share folders as \"Store/Folder\" when a name is in more than one store")
	}
	for _, f := range []outlook.FolderRef{{Kind: outlook.Calendar}, {Kind: outlook.Contacts}} {
		es, err := s.List(ctx, f)
		if err != nil {
			return &outlookError{err}
		}
		linked := 0
		for _, e := range es {
			if e.UID != "" {
				linked++
			}
		}
		fmt.Fprintf(w, "%s: %d items, %d written by pstsync\n", f, len(es), linked)
	}
	return nil
}

// selftestFailedError is a selftest with items that did not come back
// unchanged: exit 3, as an export with failed items.
type selftestFailedError struct{ failed, total int }

func (e *selftestFailedError) Error() string {
	return fmt.Sprintf("outlook selftest: %d of %d items did not come back unchanged; see the table above", e.failed, e.total)
}

func (e *selftestFailedError) exitCode() int { return exitPartial }

// runOutlookSelftest round-trips the fixed set and prints the table.
func runOutlookSelftest(ctx context.Context, w io.Writer, open outlookOpener, opts com.Options, now time.Time) error {
	s, err := open(ctx, opts)
	if err != nil {
		return &outlookError{err}
	}
	defer s.Close()
	res, err := outlook.Selftest(ctx, s, now)
	if err != nil {
		return &outlookError{err}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ITEM\tRESULT")
	failed := 0
	for _, r := range res {
		switch {
		case r.OK():
			fmt.Fprintf(tw, "%s\tpass\n", r.Name)
		case r.Err != nil:
			failed++
			fmt.Fprintf(tw, "%s\tFAIL: %v\n", r.Name, r.Err)
		default:
			failed++
			fmt.Fprintf(tw, "%s\tFAIL: %s\n", r.Name, oneLine(r.Diffs[0]))
			for _, d := range r.Diffs[1:] {
				fmt.Fprintf(tw, "\t      %s\n", oneLine(d))
			}
		}
	}
	tw.Flush()
	if failed > 0 {
		return &selftestFailedError{failed, len(res)}
	}
	fmt.Fprintf(w, "outlook selftest: all %d items came back unchanged; the temporary folders were removed\n", len(res))
	return nil
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r\n", " ")
	return strings.ReplaceAll(s, "\n", " ")
}
