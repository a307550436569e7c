package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLogsStreamsTailTimes(t *testing.T) {
	e, ref := pulled(t)
	e.ok("run", "--name", "l1", "--network", "none", ref, "sh", "-c",
		"for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done; printf partial")
	r := e.ok("logs", "l1")
	if r.stdout != "out1\nout2\nout3\nout4\nout5\npartial" || r.stderr != "err1\nerr2\nerr3\nerr4\nerr5\n" {
		t.Fatalf("logs: %s", r)
	}
	// The two streams are copied apart, so only one stream's order is
	// fixed: --tail on a container that writes stdout alone.
	e.ok("run", "--name", "l2", "--network", "none", ref, "sh", "-c", "for i in 1 2 3 4 5; do echo out$i; done")
	if r := e.ok("logs", "--tail", "2", "l2"); r.stdout != "out4\nout5\n" {
		t.Fatalf("logs --tail 2: %s", r)
	}
	if r := e.ok("logs", "--tail", "0", "l1"); r.stdout != "" || r.stderr != "" {
		t.Fatalf("logs --tail 0: %s", r)
	}
	r = e.ok("logs", "-t", "l1")
	first := strings.SplitN(r.stdout, " ", 2)
	if ts, err := time.Parse(time.RFC3339Nano, first[0]); err != nil || time.Since(ts) > time.Minute || !strings.HasPrefix(first[1], "out1\n") {
		t.Fatalf("logs -t: %q", r.stdout)
	}
	if r := e.ok("logs", "--since", "1m", "l1"); !strings.HasPrefix(r.stdout, "out1") {
		t.Fatalf("logs --since 1m: %s", r)
	}
	if r := e.ok("logs", "--until", "1h", "l1"); r.stdout != "" {
		t.Fatalf("logs --until 1h (an hour ago): %s", r)
	}
	future := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	if r := e.ok("logs", "--since", future, "l1"); r.stdout != "" || r.stderr != "" {
		t.Fatalf("logs --since the future: %s", r)
	}
	oneLineError(t, e.den("logs", "--tail", "-1", "l1"), "--tail")
	oneLineError(t, e.den("logs", "--since", "yesterday-ish", "l1"), "--since")
	oneLineError(t, e.den("logs", "nosuch"), "nosuch")

	// A detached --rm container's log is followed until it ends and goes.
	id := strings.TrimSpace(e.ok("run", "-d", "--rm", "--network", "none", ref, "sh", "-c", "echo one; sleep 0.5; echo two").stdout)
	if r := e.ok("logs", "-f", id); r.stdout != "one\ntwo\n" {
		t.Fatalf("logs -f of a detached --rm container: %s", r)
	}
	// A foreground --rm container keeps none; --log-driver none neither.
	e.ok("run", "--name", "quiet", "--log-driver", "none", "--network", "none", ref, "echo", "hi")
	oneLineError(t, e.den("logs", "quiet"), "none")
	oneLineError(t, e.den("run", "--log-opt", "max-size=big", ref, "true"), "max-size")
	oneLineError(t, e.den("run", "--log-driver", "syslog", ref, "true"), "--log-driver")
}

func TestLogsFollowAndRotation(t *testing.T) {
	e, ref := pulled(t)
	e.ok("run", "-d", "--name", "rot", "--network", "none", "--log-opt", "max-size=2k", "--log-opt", "max-file=3", ref,
		"sh", "-c", "i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done; sleep 1; echo last")
	r := e.ok("logs", "-f", "rot")
	if !strings.HasSuffix(r.stdout, "line-199\nlast\n") {
		t.Fatalf("logs -f did not follow to the end: %q", tail(r.stdout))
	}
	// Rotated: at most three files, none much over 2k, the oldest lines gone.
	dir := containerDirOf(t, e, "rot")
	files, _ := filepath.Glob(filepath.Join(dir, "ctr.log*"))
	if len(files) != 3 {
		t.Fatalf("log files %v, want 3", files)
	}
	for _, f := range files {
		if fi, _ := os.Stat(f); fi.Size() > 2048+200 {
			t.Fatalf("%s is %d bytes, over max-size", f, fi.Size())
		}
	}
	// Once rotated away, the first lines are gone from den logs (den logs
	// -f above may have read them before the rotation).
	if all := e.ok("logs", "rot").stdout; strings.Contains(all, "line-0\n") || !strings.HasSuffix(all, "line-199\nlast\n") {
		t.Fatalf("logs after rotation: %q", tail(all))
	}
}

func tail(s string) string {
	if len(s) > 60 {
		return "..." + s[len(s)-60:]
	}
	return s
}

// containerDirOf is the container's directory in the store, where its log
// is.
func containerDirOf(t *testing.T, e *env, name string) string {
	t.Helper()
	id := inspectID(t, e, name)
	matches, _ := filepath.Glob(filepath.Join(e.store(), "overlay-containers", id, "userdata"))
	if len(matches) != 1 {
		t.Fatalf("no directory for container %s (%s)", name, id)
	}
	return matches[0]
}

func inspectID(t *testing.T, e *env, name string) string {
	t.Helper()
	out := e.ok("inspect", name).stdout
	i := strings.Index(out, `"Id": "`)
	if i < 0 {
		t.Fatalf("inspect %s: %s", name, out)
	}
	return out[i+7 : i+7+64]
}

func TestStopSignalWaitCidfile(t *testing.T) {
	e, ref := pulled(t)
	cid := filepath.Join(e.dir, "cid")
	e.ok("run", "-d", "--name", "w1", "--cidfile", cid, "--stop-signal", "USR1", "--network", "none", ref,
		"sh", "-c", `trap "exit 42" USR1; trap "exit 1" TERM; while true; do sleep 0.1; done`)
	b, err := os.ReadFile(cid)
	if err != nil || len(b) != 64 {
		t.Fatalf("--cidfile: %q %v", b, err)
	}
	oneLineError(t, e.den("run", "--cidfile", cid, ref, "true"), "--cidfile")
	time.Sleep(300 * time.Millisecond)
	e.ok("stop", "w1")
	if r := e.ok("wait", "w1"); r.stdout != "42\n" {
		t.Fatalf("stop with --stop-signal USR1, then wait: %s", r)
	}
	// wait blocks until the container stops, and reads a --rm one's status.
	id := strings.TrimSpace(e.ok("run", "-d", "--rm", "--network", "none", ref, "sh", "-c", "sleep 0.5; exit 3").stdout)
	if r := e.ok("wait", id); r.stdout != "3\n" {
		t.Fatalf("wait of a --rm container: %s", r)
	}
	oneLineError(t, e.den("wait", "nosuch"), "nosuch")
	oneLineError(t, e.den("run", "--stop-signal", "NOPE", ref, "true"), "--stop-signal")
	e.ok("rm", "-v", "w1")
}
