package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func newExportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "export PST files to EML/mbox/Maildir, vCard and iCalendar",
		ArgsUsage: "FILE...",
		Action: func(c *cli.Context) error {
			return fmt.Errorf("export: not yet implemented")
		},
	}
}
