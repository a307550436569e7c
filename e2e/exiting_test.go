package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// den run reports the exit status before its child has cleaned up; what
// a script does next still finds the container gone, its name free and
// its exit recorded (issue 14).
func TestExitReportedBeforeCleanup(t *testing.T) {
	e, ref := pulled(t)
	for i := 0; i < 5; i++ {
		if r := e.den("run", "--rm", "--name", "again", "--network", "none", ref, "sh", "-c", "exit 7"); r.code != 7 {
			t.Fatalf("run %d: exit %d, want 7: %s", i, r.code, r.stderr)
		}
		if ps := e.ok("ps", "-aq").stdout; ps != "" {
			t.Fatalf("run %d: ps -a lists a --rm container that ended: %q", i, ps)
		}
	}
	if r := e.den("run", "--name", "kept", "--network", "none", ref, "sh", "-c", "exit 5"); r.code != 5 {
		t.Fatalf("exit %d, want 5", r.code)
	}
	if out := e.ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "kept").stdout; out != "exited 5\n" {
		t.Fatalf("inspect right after the run: %q", out)
	}
	e.ok("rm", "kept")
	// Early indeed: a container with many files takes its child a while
	// to remove, and den has returned before (its lock is still held).
	exiting := filepath.Join(e.run, "den", "exiting")
	e.ok("run", "--rm", "--network", "none", ref, "sh", "-c",
		"mkdir /junk && cd /junk && i=0; while [ $i -lt 8000 ]; do : > f$i; i=$((i+1)); done")
	if ents, _ := os.ReadDir(exiting); len(ents) != 1 {
		t.Fatalf("den run returned after its child had cleaned up (%v)", ents)
	}
	if ps := e.ok("ps", "-aq").stdout; ps != "" {
		t.Fatalf("ps -a lists the removed container: %q", ps)
	}
	if ents, _ := os.ReadDir(exiting); len(ents) != 0 {
		t.Fatalf("den ps did not wait for the cleanup: %v", ents)
	}
	e.ok("rmi", ref) // no container holds it any more
}

// A child still cleaning up holds its file's lock: den ps waits for it,
// and a file whose child is gone is removed.
func TestCommandsWaitForCleanup(t *testing.T) {
	e, _ := pulled(t)
	dir := filepath.Join(e.run, "den", "exiting")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "0123abcd"))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	cmd := e.command(t.Context(), "ps", "-a")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- cmd.Wait() }()
	select {
	case <-ended:
		t.Fatal("den ps did not wait for a cleanup under way")
	case <-time.After(1500 * time.Millisecond):
	}
	f.Close() // as the child's end would
	select {
	case err := <-ended:
		if err != nil {
			t.Fatalf("den ps: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("den ps still waits after the cleanup ended")
	}
	if !strings.Contains(stderr.String(), "waiting for den") {
		t.Fatalf("den ps waited without saying so: %q", stderr.String())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 || !strings.Contains(e.ok("ps", "-a").stdout, "CONTAINER ID") {
		t.Fatalf("left in %s: %v", dir, ents)
	}
}
