package e2e

import (
	"strings"
	"testing"
	"time"
)

func TestCreateStartRestart(t *testing.T) {
	e, ref := pulled(t)
	id := strings.TrimSpace(e.ok("create", "--name", "c1", "--network", "none", "-e", "WHO=den", ref,
		"sh", "-c", `echo "run by $WHO" >> /runs; wc -l < /runs; sleep 300`).stdout)
	if len(id) != 64 {
		t.Fatalf("den create prints the id: %q", id)
	}
	if ps := e.ok("ps", "-a").stdout; !strings.Contains(ps, "c1") || !strings.Contains(ps, "Created") {
		t.Fatalf("a created container in ps -a:\n%s", ps)
	}
	if r := e.ok("start", "c1"); r.stdout != "c1\n" {
		t.Fatalf("den start prints the name: %s", r)
	}
	waitLog(t, e, "c1", "1\n")
	// Stopped and started again: same spec, same writable layer.
	e.ok("stop", "-t", "0", "c1")
	e.ok("start", "c1")
	waitLog(t, e, "c1", "2\n")
	if out := e.ok("exec", "c1", "cat", "/runs").stdout; out != "run by den\nrun by den\n" {
		t.Fatalf("the layer after a restart holds %q", out)
	}
	if r := e.ok("restart", "-t", "0", "c1"); r.stdout != "c1\n" {
		t.Fatalf("den restart prints each name once: %s", r)
	}
	waitLog(t, e, "c1", "3\n")
	e.ok("rm", "-f", "c1")

	// start -a stays with the container: its output, its status.
	e.ok("create", "--name", "c2", "--network", "none", ref, "sh", "-c", "echo attached; exit 6")
	if r := e.den("start", "-a", "c2"); r.code != 6 || r.stdout != "attached\n" {
		t.Fatalf("den start -a: %s", r)
	}
	oneLineError(t, e.den("start", "nosuch"), "nosuch")
	oneLineError(t, e.den("create", "--pull", "sometimes", ref), "--pull")
}

// waitLog waits until the container's log ends with want.
func waitLog(t *testing.T, e *env, name, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := e.ok("logs", name).stdout
		if strings.HasSuffix(out, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("den logs %s: %q, want it to end with %q", name, out, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
