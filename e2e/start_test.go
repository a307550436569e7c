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

func TestRestartPolicy(t *testing.T) {
	e, ref := pulled(t)
	// on-failure:2 runs it three times in all, then gives up.
	e.ok("run", "-d", "--name", "r1", "--restart", "on-failure:2", "--network", "none", ref, "sh", "-c", "echo run; exit 3")
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := e.ok("wait", "r1")
		if r.stdout == "3\n" && e.ok("logs", "r1").stdout == "run\nrun\nrun\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("on-failure:2: wait %q, logs %q", r.stdout, e.ok("logs", "r1").stdout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// always restarts a command that succeeds, until den stop.
	e.ok("run", "-d", "--name", "r2", "--restart", "always", "--network", "none", ref, "sh", "-c", "echo up; sleep 0.2")
	waitLog(t, e, "r2", "up\nup\n")
	e.ok("stop", "r2")
	if ps := e.ok("ps").stdout; strings.Contains(ps, "r2") {
		t.Fatalf("den stop did not end a restarting container:\n%s", ps)
	}
	oneLineError(t, e.den("run", "--restart", "always", "--rm", ref, "true"), "--restart")
	oneLineError(t, e.den("run", "--restart", "always", ref, "true"), "-d")
	oneLineError(t, e.den("run", "-d", "--restart", "sometimes", ref, "true"), "--restart")
}

// Names complete for the commands that take them (cobra's __complete is
// what the shell scripts call).
func TestCompletionOfNames(t *testing.T) {
	e, ref := pulled(t)
	e.ok("create", "--name", "made", "--network", "none", ref, "true")
	e.ok("run", "-d", "--name", "up", "--network", "none", ref, "sleep", "60")
	t.Cleanup(func() { e.den("rm", "-f", "up") })
	complete := func(args ...string) string {
		return e.ok(append([]string{"__complete"}, args...)...).stdout
	}
	if out := complete("rm", ""); !strings.Contains(out, "made") || !strings.Contains(out, "up") {
		t.Fatalf("rm completes every container: %q", out)
	}
	if out := complete("stop", ""); !strings.Contains(out, "up") || strings.Contains(out, "made") {
		t.Fatalf("stop completes running containers only: %q", out)
	}
	if out := complete("exec", "u"); !strings.Contains(out, "up") {
		t.Fatalf("exec completes its container: %q", out)
	}
	if out := complete("rmi", ""); !strings.Contains(out, "busybox") {
		t.Fatalf("rmi completes images: %q", out)
	}
	if out := complete("run", ""); !strings.Contains(out, "busybox") {
		t.Fatalf("run completes images: %q", out)
	}
}

func TestVersionFormat(t *testing.T) {
	e := newEnv(t)
	if r := e.ok("version", "--format", "{{.Os}}/{{.Arch}}"); !strings.HasPrefix(r.stdout, "linux/") {
		t.Fatalf("version --format: %s", r)
	}
	if r := e.ok("version", "--format", "json"); !strings.HasPrefix(r.stdout, `{"Version":`) {
		t.Fatalf("version --format json: %s", r)
	}
	oneLineError(t, e.den("version", "--format", "{{.Nope"), "template")
}
