package testutil

import (
	"flag"
	"testing"
)

// RapidDefaults makes property tests (pgregory.net/rapid) deterministic and
// thorough in a normal run: 500 cases from a fixed seed, no fail files in
// the tree, unless -rapid.checks or -rapid.seed are given on the command
// line. The calling test binary must import rapid, which defines the flags.
func RapidDefaults(t testing.TB) {
	t.Helper()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, v := range map[string]string{"rapid.checks": "500", "rapid.seed": "20190805", "rapid.nofailfile": "true"} {
		if !set[name] {
			if err := flag.Set(name, v); err != nil {
				t.Fatalf("flag %s: %v", name, err)
			}
		}
	}
}
