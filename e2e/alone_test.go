package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func comm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

// allPids lists the processes in /proc.
func allPids() []int {
	var out []int
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		if n, err := strconv.Atoi(filepath.Base(p)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func ppid(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		if f := strings.Fields(s[i+1:]); len(f) > 1 {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// A detached container with no network program to keep is one den
// process, its init: the den that started it is gone (issue 15).
func TestDetachedContainerIsItsInitAlone(t *testing.T) {
	e, ref := pulled(t)
	e.ok("run", "-d", "--name", "lone", "--network", "none", ref, "sh", "-c", "echo up; sleep 300")
	t.Cleanup(func() { e.den("rm", "-f", "lone") })
	pid, _ := strconv.Atoi(strings.TrimSpace(e.ok("inspect", "-f", "{{.State.Pid}}", "lone").stdout))
	if pid == 0 || comm(pid) != "den-init" {
		t.Fatalf("the container's init is %d (%q)", pid, comm(pid))
	}
	if parent := ppid(pid); comm(parent) == "den" {
		t.Fatalf("a den process (%d) still runs beside the init", parent)
	}
	// Everything works with no den beside it.
	waitLog(t, e, "lone", "up\n")
	if out := e.ok("exec", "lone", "echo", "in").stdout; out != "in\n" {
		t.Fatalf("exec: %q", out)
	}
	if ps := e.ok("ps").stdout; !strings.Contains(ps, "lone") || !strings.Contains(ps, "Up") {
		t.Fatalf("ps:\n%s", ps)
	}
	e.ok("stop", "-t", "1", "lone")
	if r := e.ok("wait", "lone"); r.stdout != "143\n" {
		t.Fatalf("wait after stop: %s", r)
	}
	if out := e.ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "lone").stdout; out != "exited 143\n" {
		t.Fatalf("inspect after stop: %q", out)
	}
	// It starts again, and ends with its own status.
	e.ok("start", "lone")
	waitLog(t, e, "lone", "up\nup\n")
	e.ok("kill", "-s", "TERM", "lone")
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(e.ok("ps", "-a").stdout, "Exited"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the restarted container did not end")
		}
	}
}

// SIGKILL of the init: the next den that looks records the truth, and a
// --rm container goes.
func TestKilledInitIsSettled(t *testing.T) {
	e, ref := pulled(t)
	e.ok("run", "-d", "--name", "k", "--network", "none", ref, "sleep", "300")
	id := strings.TrimSpace(e.ok("run", "-d", "--rm", "--network", "none", ref, "sleep", "300").stdout)
	for _, name := range []string{"k", id} {
		pid, _ := strconv.Atoi(strings.TrimSpace(e.ok("inspect", "-f", "{{.State.Pid}}", name).stdout))
		if pid == 0 {
			t.Fatalf("%s has no init", name)
		}
		syscall.Kill(pid, syscall.SIGKILL)
		for deadline := time.Now().Add(5 * time.Second); processAlive(pid); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the init outlived SIGKILL")
			}
		}
	}
	ps := e.ok("ps", "-a").stdout
	if !strings.Contains(ps, "Exited (137)") || strings.Contains(ps, id[:12]) {
		t.Fatalf("ps -a after the inits were killed:\n%s", ps)
	}
	e.ok("rm", "k")
	e.ok("run", "-d", "--rm", "--name", "again", "--network", "none", ref, "true")
	time.Sleep(300 * time.Millisecond)
	// An ended --rm container's name is free at once.
	e.ok("run", "-d", "--rm", "--name", "again", "--network", "none", ref, "true")
}

func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z'
}

// Fixes from review: a relative command runs from -w; --preserve-fds
// passes only what den was given; den stop ends a container between two
// starts of --restart.
func TestRelativeCommandAndRestartBackoff(t *testing.T) {
	e, ref := pulled(t)
	if r := e.ok("run", "--rm", "--network", "none", "-w", "/bin", ref, "./echo", "rel"); r.stdout != "rel\n" {
		t.Fatalf("relative command with -w: %s", r)
	}
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	cmd := e.command(t.Context(), "run", "--rm", "--preserve-fds", "3", ref, "true")
	cmd.ExtraFiles = []*os.File{null}
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 125 || !strings.Contains(string(out), "--preserve-fds") {
		t.Fatalf("--preserve-fds past what den was given: %d %s", cmd.ProcessState.ExitCode(), out)
	}
	e.ok("run", "-d", "--name", "loop", "--restart", "always", "--network", "none", ref, "false")
	time.Sleep(2 * time.Second) // in a back-off by now, most likely
	e.ok("stop", "loop")
	for deadline := time.Now().Add(5 * time.Second); strings.Contains(e.ok("ps").stdout, "loop"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("den stop did not end a container between restarts")
		}
	}
	e.ok("rm", "loop")
}

// With slirp4netns (no published port) the container is its init and
// slirp4netns, which ends with the init, even when the init is killed.
func TestSlirp4netnsGoesWithTheInit(t *testing.T) {
	e, ref := pulled(t)
	if !strings.Contains(strings.Join(backends(t), " "), "slirp4netns") {
		t.Skip("slirp4netns is not installed")
	}
	before := helpers()
	e.ok("run", "-d", "--name", "sl", "--network", "slirp4netns", ref, "sleep", "300")
	t.Cleanup(func() { e.den("rm", "-f", "sl") })
	pid, _ := strconv.Atoi(strings.TrimSpace(e.ok("inspect", "-f", "{{.State.Pid}}", "sl").stdout))
	if pid == 0 || comm(ppid(pid)) == "den" {
		t.Fatalf("init %d has a den beside it (parent %q)", pid, comm(ppid(pid)))
	}
	if helpers() != before+1 {
		t.Fatalf("slirp4netns is not running for the container (%d, before %d)", helpers(), before)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	for deadline := time.Now().Add(5 * time.Second); helpers() > before; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("slirp4netns outlived the container's init")
		}
	}
	if ps := e.ok("ps", "-a").stdout; !strings.Contains(ps, "Exited (137)") {
		t.Fatalf("ps -a after the init was killed:\n%s", ps)
	}
}

// With pasta the container is its init and pasta, which forwards the
// published port itself: no den stays. pasta ends when the init removes
// the namespace file it watches; if the init is killed, when the next den
// looks.
func TestPastaGoesWithTheInit(t *testing.T) {
	if !strings.Contains(strings.Join(backends(t), " "), "pasta") {
		t.Skip("pasta is not installed")
	}
	_, ref := busybox(t)
	// The store on a tmpfs, as in make bench: there den rm -f removed the
	// namespace file among the others, and pasta missed it.
	shm, err := os.MkdirTemp("/dev/shm", "den-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(shm) }) // after the env's own cleanup
	e := newEnv(t)
	e.data = filepath.Join(shm, "data")
	e.ok("pull", "-q", ref)
	port := freePorts(t, 1)
	url := fmt.Sprintf("http://127.0.0.1:%d/i", port)
	before := helpers()
	e.ok("run", "-d", "--name", "pa", "--network", "pasta", "-p", fmt.Sprintf("127.0.0.1:%d:8080", port), ref,
		"sh", "-c", "mkdir -p /w && echo $HOSTNAME > /w/i && exec httpd -f -p 8080 -h /w")
	t.Cleanup(func() { e.den("rm", "-f", "pa") })
	host := strings.TrimSpace(e.ok("inspect", "-f", "{{.Config.Hostname}}", "pa").stdout)
	waitHTTP(t, url, host+"\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(e.ok("inspect", "-f", "{{.State.Pid}}", "pa").stdout))
	if pid == 0 || comm(ppid(pid)) == "den" {
		t.Fatalf("init %d has a den beside it (parent %q)", pid, comm(ppid(pid)))
	}
	if helpers() != before+1 {
		t.Fatalf("pasta is not running for the container (%d, before %d)", helpers(), before)
	}
	e.ok("stop", "-t", "1", "pa")
	waitHelpers(t, before, "after den stop")
	if _, err := http.Get(url); err == nil {
		t.Fatal("the port still answers after den stop")
	}
	// Started again, on the same port, and killed.
	e.ok("start", "pa")
	waitHTTP(t, url, host+"\n")
	pid, _ = strconv.Atoi(strings.TrimSpace(e.ok("inspect", "-f", "{{.State.Pid}}", "pa").stdout))
	syscall.Kill(pid, syscall.SIGKILL)
	for deadline := time.Now().Add(5 * time.Second); processAlive(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the init outlived SIGKILL")
		}
	}
	if ps := e.ok("ps", "-a").stdout; !strings.Contains(ps, "Exited (137)") {
		t.Fatalf("ps -a after the init was killed:\n%s", ps)
	}
	waitHelpers(t, before, "after the init was killed and den looked")
	// den rm -f of several at once, which removes their directories whole.
	names := []string{"pa"}
	e.ok("start", "pa")
	for _, n := range []string{"pb", "pc"} {
		e.ok("run", "-d", "--name", n, "--network", "pasta", ref, "sleep", "300")
		names = append(names, n)
	}
	waitHelpers(t, before+3, "three running")
	e.ok(append([]string{"rm", "-f"}, names...)...)
	waitHelpers(t, before, "after den rm -f")
}

// A restart policy is applied by the init itself: no den stays beside
// it, the command starts again in the same container, and den stop ends
// it (issue 15).
func TestRestartByTheInitAlone(t *testing.T) {
	e, ref := pulled(t)
	secs := strconv.Itoa(2000 + os.Getpid()%1000) // unique to this run
	e.ok("run", "-d", "--name", "rs", "--restart", "always", "--network", "none", ref,
		"sh", "-c", "sleep "+secs+" & echo up; touch /tmp/mark; sleep 0.3")
	t.Cleanup(func() { e.den("rm", "-f", "rs") })
	pid, _ := strconv.Atoi(strings.TrimSpace(e.ok("inspect", "-f", "{{.State.Pid}}", "rs").stdout))
	if pid == 0 || comm(pid) != "den-init" || comm(ppid(pid)) == "den" {
		t.Fatalf("init %d (%q) has a den beside it (parent %q)", pid, comm(pid), comm(ppid(pid)))
	}
	waitLog(t, e, "rs", "up\nup\nup\n")
	// The same container: the same init, and what a run wrote is there.
	if again, _ := strconv.Atoi(strings.TrimSpace(e.ok("inspect", "-f", "{{.State.Pid}}", "rs").stdout)); again != pid {
		t.Fatalf("the init changed from %d to %d", pid, again)
	}
	if n, _ := strconv.Atoi(strings.TrimSpace(e.ok("inspect", "-f", "{{.RestartCount}}", "rs").stdout)); n < 2 {
		t.Fatalf("RestartCount %d after three runs", n)
	}
	e.ok("exec", "rs", "test", "-e", "/tmp/mark")
	// What a run left running went before the next run, as with docker.
	if n := countProcs("sleep", secs); n > 1 {
		t.Fatalf("%d background processes of earlier runs are still there", n)
	}
	e.ok("stop", "-t", "2", "rs")
	if ps := e.ok("ps").stdout; strings.Contains(ps, "rs") {
		t.Fatalf("den stop did not end a restarting container:\n%s", ps)
	}
	if processAlive(pid) {
		t.Fatal("the init outlived den stop")
	}
	// Started again, it restarts again.
	e.ok("start", "rs")
	waitLog(t, e, "rs", "up\nup\nup\nup\nup\n")
}

// countProcs counts the processes whose command line is argv.
func countProcs(argv ...string) int {
	want := strings.Join(argv, "\x00") + "\x00"
	n := 0
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && string(b) == want && processAlive(pidOf(p)) {
			n++
		}
	}
	return n
}
