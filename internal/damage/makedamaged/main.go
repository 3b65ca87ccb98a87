// Command makedamaged writes the damaged-file test set (see package
// damage) into a directory: scripts/make-damaged runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pstsync/pstsync/internal/damage"
)

func main() {
	samples := flag.String("samples", "testdata/pst-samples", "directory holding the sample PSTs")
	out := flag.String("out", "", "directory to write the damaged copies into (required)")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "makedamaged: -out DIR is required")
		os.Exit(2)
	}
	if err := run(*samples, *out); err != nil {
		fmt.Fprintln(os.Stderr, "makedamaged:", err)
		os.Exit(1)
	}
}

func run(samples, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var index []byte
	for _, name := range damage.Samples {
		orig, err := os.ReadFile(filepath.Join(samples, name+".pst"))
		if err != nil {
			return err
		}
		for _, c := range damage.Make(name, orig) {
			if err := os.WriteFile(filepath.Join(out, c.Name), c.Data, 0o644); err != nil {
				return err
			}
			index = fmt.Appendf(index, "%s\t%s\n", c.Name, c.What)
		}
	}
	return os.WriteFile(filepath.Join(out, "INDEX.tsv"), index, 0o644)
}
