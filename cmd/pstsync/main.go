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

	"github.com/urfave/cli/v2"
)

var version = "dev"

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run is main without the process exit, for tests.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	app := newApp(stdout, stderr)
	err := app.RunContext(ctx, args)
	code := exitCode(err)
	if err != nil && code != exitOK {
		var ec cli.ExitCoder
		msg := err.Error()
		if errors.As(err, &ec) && ec.Error() == "" {
			msg = ""
		}
		if msg != "" {
			fmt.Fprintln(stderr, "pstsync: "+msg)
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
			slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})))
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
