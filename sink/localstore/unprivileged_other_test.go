//go:build !unix

package localstore

import "testing"

// runUnprivileged is reached only as root, which has no meaning here.
func runUnprivileged(t *testing.T, dir, run, env string) {
	t.Helper()
	t.Fatalf("running %s as another user is not supported on this platform (dir %s, %s)", run, dir, env)
}
