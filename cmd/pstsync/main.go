// Command pstsync reads Outlook PST files, exports them to open formats and
// (later) keeps shared calendars and contacts in sync.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"

	"github.com/pstsync/pstsync/sink"
	"github.com/urfave/cli/v2"
)

var version = "dev"

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// syncGC tunes the garbage collector for a sync: collect when the heap
// has grown ninefold instead of doubled, under a soft limit of 768 MiB.
// A sync builds its large structures once (the state, the revision's
// items, the side read) and keeps most of them to the end: with the
// default the collector ran a dozen times and took about a fifth of the
// CPU of a sync that changes nothing. The limit keeps 100,000 items under
// 1 GB (scripts/sync-rss). GOGC or GOMEMLIMIT in the environment win.
func syncGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(800)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(768 << 20)
	}
}

// run is main without the process exit, for tests.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	app := newApp(stdout, stderr)
	err := app.RunContext(ctx, interspersed(app, args))
	code := exitCode(err)
	if err != nil && code != exitOK {
		var ec cli.ExitCoder
		msg := err.Error()
		if errors.As(err, &ec) && ec.Error() == "" {
			msg = ""
		}
		if msg != "" {
			fmt.Fprintln(stderr, "pstsync: "+sink.RedactURL(msg))
		}
	}
	return code
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "pstsync",
		Usage:     "read Outlook PST files, export them to open formats, share calendars and contacts",
		Version:   version,
		Writer:    stdout,
		ErrWriter: stderr,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "verbose", Usage: "log progress details to stderr"},
		},
		Before: func(c *cli.Context) error {
			level := slog.LevelWarn
			if c.Bool("verbose") {
				level = slog.LevelDebug
			}
			slog.SetDefault(slog.New(redacting(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))))
			return nil
		},
		// urfave prints usage errors itself; we only map them to exit 2.
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
		ExitErrHandler: func(*cli.Context, error) {},
		Commands: withUsageErrors(
			newInspectCommand(),
			newExportCommand(),
			newConfigCommand(), newScheduleCommand(),
			newSyncCommand(), newMergeCommand(), newReportCommand(), newLogCommand(), newRestoreCommand(), newCheckCommand(), newPruneCommand(), newKeyCommand(), newStoreCommand(),
			newOutlookCommand(),
		),
	}
}

// withUsageErrors makes flag errors of every command exit with exitUsage.
func withUsageErrors(cmds ...*cli.Command) []*cli.Command {
	for _, c := range cmds {
		c.OnUsageError = func(_ *cli.Context, err error, _ bool) error { return usageError{err} }
	}
	return cmds
}

// interspersed moves a subcommand's flags in front of its file arguments,
// so that "pstsync export a.pst b.pst --out DIR" works as people type it
// (urfave/cli stops at the first argument that is not a flag). Everything
// after "--" stays as it is.
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	var cmd *cli.Command
	i := 1
	for ; i < len(args); i++ {
		if !strings.HasPrefix(args[i], "-") {
			cmd = app.Command(args[i])
			break
		}
	}
	if cmd == nil {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	out := append([]string(nil), args[:i+1]...)
	var files []string
	rest := args[i+1:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		switch {
		case a == "--":
			files = append(files, rest[j:]...)
			j = len(rest)
		case strings.HasPrefix(a, "-") && a != "-":
			out = append(out, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && takesValue[name] && j+1 < len(rest) {
				j++
				out = append(out, rest[j])
			}
		default:
			files = append(files, a)
		}
	}
	return append(out, files...)
}
