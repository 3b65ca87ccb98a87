//go:build unix

package localstore

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// nobody is the user and group id the unprivileged worker runs as.
const nobody = 65534

// runUnprivileged runs the test binary's test named by run as an ordinary
// user (nobody), with env set to dir, which it hands over to that user.
// The binary is copied to a place that user may execute.
func runUnprivileged(t *testing.T, dir, run, env string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "worker.test")
	if err := copyExecutable(os.Args[0], bin); err != nil {
		t.Fatal(err)
	}
	// t.TempDir's folders and their common parent are private to root.
	for _, p := range []string{filepath.Dir(bin), filepath.Dir(dir), filepath.Dir(filepath.Dir(bin))} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(dir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run="+run, "-test.v")
	cmd.Env = append(os.Environ(), env+"="+dir)
	cmd.Dir = filepath.Dir(bin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the unprivileged worker failed: %v\n%s", err, out)
	}
	t.Logf("unprivileged worker (uid %d):\n%s", nobody, out)
}

func copyExecutable(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
