//go:build !unix

package sink

import "testing"

// tempKinds: outside unix every temporary file is named.
var tempKinds = []tempKind{{"named", func(*testing.T) {}}}
