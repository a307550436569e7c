package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pulled returns an env whose store holds the busybox image.
func pulled(t *testing.T) (*env, string) {
	t.Helper()
	_, ref := busybox(t)
	e := newEnv(t)
	e.ok("pull", "-q", ref)
	return e, ref
}

func TestRunIdentity(t *testing.T) {
	e, ref := pulled(t)
	r := e.ok("run", "--rm", "--hostname", "x", ref, "sh", "-c", "hostname; id -u; cat /proc/self/uid_map; test -e /run/.containerenv && echo containerenv")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) < 5 || lines[0] != "x" || lines[1] != "0" || lines[len(lines)-1] != "containerenv" {
		t.Fatalf("hostname, uid, containerenv: %q", r.stdout)
	}
	base := subuidBase(t)
	if f := strings.Fields(lines[3]); len(f) != 3 || f[0] != "1" || f[1] != strconv.Itoa(base) || f[2] != "65536" {
		t.Fatalf("uid_map does not map the whole subuid range: %q", r.stdout)
	}
	if f := strings.Fields(lines[2]); len(f) != 3 || f[0] != "0" || f[1] != strconv.Itoa(os.Getuid()) {
		t.Fatalf("uid_map does not map root to the user: %q", r.stdout)
	}
	// The default hostname is the short container id.
	if h := strings.TrimSpace(e.ok("run", "--rm", ref, "hostname").stdout); len(h) != 12 {
		t.Fatalf("default hostname %q is not a short id", h)
	}
}

func TestRunBindMountOwnership(t *testing.T) {
	base := subuidBase(t)
	e, ref := pulled(t)
	vol := filepath.Join(e.dir, "vol")
	if err := os.Mkdir(vol, 0o777); err != nil {
		t.Fatal(err)
	}
	e.ok("run", "--rm", "-v", vol+":/vol", ref, "sh", "-c", "echo root > /vol/root.txt; su user -c 'echo user > /vol/user.txt' || (touch /vol/user.txt; chown 1000:1000 /vol/user.txt)")
	if st := stat(t, filepath.Join(vol, "root.txt")); int(st.Uid) != os.Getuid() {
		t.Errorf("a file written as root is owned by %d, want %d", st.Uid, os.Getuid())
	}
	if st := stat(t, filepath.Join(vol, "user.txt")); int(st.Uid) != base+999 {
		t.Errorf("a file written as uid 1000 is owned by %d, want %d", st.Uid, base+999)
	}
	r := e.den("run", "--rm", "-v", vol+":/vol:ro", ref, "touch", "/vol/nope")
	if r.code == 0 {
		t.Fatalf("a :ro volume accepted a write: %s", r)
	}
	if _, err := os.Stat(filepath.Join(vol, "nope")); err == nil {
		t.Fatal("a :ro volume was written")
	}
}

func TestRunOneUIDFallbackWarns(t *testing.T) {
	_, ref := busybox(t)
	e := newEnv(t)
	e.path = "/nonexistent" // no newuidmap: the one-uid fallback
	r := e.ok("run", "--rm", "--network", "none", ref, "sh", "-c", "id -u; cat /proc/self/uid_map; stat -c %u /home/user")
	if !strings.Contains(r.stderr, "newuidmap") || !strings.Contains(r.stderr, "apt-get install uidmap") {
		t.Fatalf("no warning naming newuidmap and the fix: %s", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || lines[0] != "0" || strings.Join(strings.Fields(lines[1]), " ") != fmt.Sprintf("0 %d 1", os.Getuid()) {
		t.Fatalf("fallback mapping: %q", r.stdout)
	}
	if lines[2] != "0" {
		t.Fatalf("in the fallback, files of other owners are squashed to root: got %s", lines[2])
	}
}

func TestRunExitCodes(t *testing.T) {
	e, ref := pulled(t)
	cases := []struct {
		args []string
		code int
	}{
		{[]string{"true"}, 0},
		{[]string{"false"}, 1},
		{[]string{"sh", "-c", "false"}, 1},
		{[]string{"sh", "-c", "exit 42"}, 42},
		{[]string{"sh", "-c", "kill -9 $$"}, 137},
		{[]string{"nosuchcommand"}, 127},
		{[]string{"/etc"}, 126},
	}
	for _, c := range cases {
		for _, rm := range []bool{true, false} {
			args := append([]string{"run"}, ref)
			if rm {
				args = append([]string{"run", "--rm"}, ref)
			}
			r := e.den(append(args, c.args...)...)
			if r.code != c.code {
				t.Errorf("den %v: exit %d, want %d (%s)", c.args, r.code, c.code, r.stderr)
			}
		}
	}
	r := e.den("run", "--rm", ref, "nosuchcommand")
	oneLineError(t, r, "nosuchcommand", "not found")
	r = e.den("run", "--rm", "--pull=never", "absent/image", "true")
	if r.code != 125 {
		t.Fatalf("--pull=never on an absent image: %s", r)
	}
	oneLineError(t, r, "absent/image", "--pull=never")
}

func TestRunReapsOrphans(t *testing.T) {
	e, ref := pulled(t)
	// The inner sh exits at once; its background sleep is orphaned to
	// init, exits, and must be reaped while the command still runs.
	script := `sh -c 'sleep 0.1 &' ; sleep 0.2; sh -c 'sleep 0.1 &'; sleep 0.6; cat /proc/[0-9]*/stat`
	r := e.ok("run", "--rm", ref, "sh", "-c", script)
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, ") Z ") {
			t.Fatalf("zombie left in the container: %s\n%s", line, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "(den-init)") && !strings.Contains(r.stdout, "(exe)") {
		t.Logf("processes: %s", r.stdout)
	}
}

func TestRunForwardsSignals(t *testing.T) {
	e, ref := pulled(t)
	cmd := e.command(t.Context(), "run", "--rm", ref, "sleep", "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 143 {
		t.Fatalf("SIGTERM: exit %d, want 143", code)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("SIGTERM took %v", d)
	}

	cmd = e.command(t.Context(), "run", "--rm", ref, "sh", "-c", trapScript)
	assertTrapCatchesSIGINT(t, cmd, "run's")
}

func TestRunStdin(t *testing.T) {
	e, ref := pulled(t)
	if r := e.denIn(strings.NewReader("hello\n"), "run", "--rm", "-i", ref, "cat"); r.stdout != "hello\n" {
		t.Fatalf("-i did not pipe stdin: %s", r)
	}
	if r := e.denIn(strings.NewReader("hello\n"), "run", "--rm", ref, "cat"); r.code != 0 || r.stdout != "" {
		t.Fatalf("without -i stdin must not reach the command: %s", r)
	}
}

func TestRunConfigFlags(t *testing.T) {
	e, ref := pulled(t)
	envFile := filepath.Join(e.dir, "env")
	os.WriteFile(envFile, []byte("# comment\nFROMFILE=yes\n"), 0o644)
	r := e.ok("run", "--rm", "-e", "A=1", "--env-file", envFile, "-w", "/made/here", "-u", "user", ref,
		"sh", "-c", `echo $A $FROMFILE; pwd; id -u; id -G`)
	if r.stdout != "1 yes\n/made/here\n1000\n1000 2000\n" {
		t.Fatalf("env, workdir, user: %q", r.stdout)
	}
	if r := e.ok("run", "--rm", "-u", "1000:0", ref, "id"); !strings.HasPrefix(r.stdout, "uid=1000(user) gid=0(root)") {
		t.Fatalf("-u uid:gid: %q", r.stdout)
	}
	if r := e.ok("run", "--rm", "--entrypoint", "echo", ref, "via", "entrypoint"); r.stdout != "via entrypoint\n" {
		t.Fatalf("--entrypoint: %q", r.stdout)
	}
	if r := e.ok("run", "--rm", "--init", "--network", "none", ref, "sh", "-c", "cat /sys/class/net/lo/operstate; ls /sys/class/net"); r.stdout != "unknown\nlo\n" {
		t.Fatalf("--network none: %q", r.stdout)
	}
	r = e.ok("run", "--rm", ref, "sh", "-c", "echo x > /dev/null && ls /dev/pts/ptmx && test -c /dev/zero && grep -c . /proc/self/mounts >/dev/null && echo devok")
	if !strings.Contains(r.stdout, "devok") {
		t.Fatalf("/dev: %s", r)
	}
}

func TestRunWritesStayInTheContainer(t *testing.T) {
	e, ref := pulled(t)
	e.ok("run", "--rm", ref, "sh", "-c", "rm /bin/ls && echo changed > /etc/passwd && mkdir /new")
	r := e.ok("run", "--rm", ref, "sh", "-c", "test -e /bin/ls && grep -c root /etc/passwd && test ! -e /new && echo pristine")
	if !strings.HasSuffix(r.stdout, "pristine\n") {
		t.Fatalf("a container's writes reached the image: %s", r)
	}
}

func containerDirs(t *testing.T, e *env) []string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(e.store(), "overlay-containers", "*"))
	var out []string
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			out = append(out, d)
		}
	}
	return out
}

func TestRunRmLeavesNothing(t *testing.T) {
	e, ref := pulled(t)
	layersBefore, _ := filepath.Glob(filepath.Join(e.store(), "overlay", "*", "diff"))
	e.ok("run", "--rm", ref, "sh", "-c", "echo data > /root/file")
	e.den("run", "--rm", ref, "sh", "-c", "kill -9 $$")
	// den run returns with the status while its child still removes the
	// container; the next den that looks waits for that (ps here).
	if r := e.ok("ps", "-a", "--format", "json"); strings.TrimSpace(r.stdout) != "" {
		t.Fatalf("ps -a after --rm: %s", r.stdout)
	}
	if d := containerDirs(t, e); len(d) != 0 {
		t.Fatalf("--rm left container dirs: %v", d)
	}
	if layers, _ := filepath.Glob(filepath.Join(e.store(), "overlay", "*", "diff")); len(layers) != len(layersBefore) {
		t.Fatalf("--rm left layers: %d, before %d", len(layers), len(layersBefore))
	}
}

func TestRunKilledDenCanBeRemoved(t *testing.T) {
	e, ref := pulled(t)
	secs := strconv.Itoa(1000 + os.Getpid()%1000) // unique to this run
	cmd := e.command(t.Context(), "run", "--name", "victim", ref, "sleep", secs)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for processRunning("sleep", secs) {
		if time.Now().After(deadline) {
			t.Fatal("the container outlived den killed with SIGKILL")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := e.ok("ps", "-a"); !strings.Contains(r.stdout, "victim") || !strings.Contains(r.stdout, "Exited") {
		t.Fatalf("ps -a after den was killed: %s", r.stdout)
	}
	e.ok("rm", "victim")
	if d := containerDirs(t, e); len(d) != 0 {
		t.Fatalf("rm left %v", d)
	}
	oneLineError(t, e.den("rm", "victim"), "no such container")
}

func processRunning(argv ...string) bool {
	want := strings.Join(argv, "\x00") + "\x00"
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && string(b) == want {
			return true
		}
	}
	return false
}

func TestRunBadInput(t *testing.T) {
	reg, ref := busybox(t)
	e := newEnv(t)
	e.ok("pull", "-q", ref)
	file := filepath.Join(e.dir, "afile")
	os.WriteFile(file, nil, 0o644)
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"run", "--rm", reg.host + "/test/nosuch:latest", "true"}, []string{"nosuch", "not found"}},
		{[]string{"run", "--rm", "-v", "/does/not/exist:/x", ref, "true"}, []string{"/does/not/exist", "does not exist"}},
		{[]string{"run", "--rm", "-v", "nocolon", ref, "true"}, []string{"invalid volume"}},
		{[]string{"run", "--rm", "-u", "ghost", ref, "true"}, []string{"ghost", "passwd"}},
		{[]string{"run", "--rm", "-w", "/etc/passwd", ref, "true"}, []string{"/etc/passwd", "not a directory"}},
		{[]string{"run", "--rm", "--pull", "sometimes", ref, "true"}, []string{"--pull"}},
		{[]string{"run", "--rm", "--network", "bridge0", ref, "true"}, []string{"--network"}},
	}
	for _, c := range cases {
		r := e.den(c.args...)
		if r.code != 125 {
			t.Errorf("den %v: exit %d, want 125", c.args, r.code)
		}
		oneLineError(t, r, c.want...)
	}
	e.den("run", "-u", "ghost", ref, "true") // without --rm: still nothing kept
	if r := e.ok("ps", "-a", "--format", "json"); strings.TrimSpace(r.stdout) != "" {
		t.Fatalf("failed runs left containers: %s", r.stdout)
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	e, ref := pulled(t)
	cases := []struct {
		args []string
		says []string
	}{
		{[]string{"--tmpfs", "tmp"}, []string{"--tmpfs", "absolute"}},
		{[]string{"--security-opt", "speed=max"}, []string{"--security-opt", "speed=max"}},
		{[]string{"--env-file", filepath.Join(e.dir, "no-such.env")}, []string{"--env-file", "no-such.env"}},
		{[]string{"-v", e.dir + ":/x:zz"}, []string{"zz"}},
		{[]string{"-p", "80:80:80:80"}, []string{"-p"}},
		{[]string{"--cap-add", "CAP_FLY"}, []string{"CAP_FLY"}},
	}
	for _, c := range cases {
		r := e.den(append(append([]string{"run", "--rm"}, c.args...), ref, "true")...)
		if r.code != 125 {
			t.Errorf("den run %v: exit %d, want 125", c.args, r.code)
		}
		oneLineError(t, r, c.says...)
	}
	if r := e.ok("ps", "-a"); strings.Count(r.stdout, "\n") > 1 {
		t.Fatalf("refused runs left containers behind:\n%s", r.stdout)
	}
}

func TestStopKillInspect(t *testing.T) {
	e, ref := pulled(t)
	// start runs den run in the background until the command prints
	// "ready" (its traps are set by then).
	start := func(args ...string) *exec.Cmd {
		t.Helper()
		cmd := e.command(t.Context(), append([]string{"run"}, args...)...)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		ready := make(chan bool, 1)
		go func() {
			line, _ := bufio.NewReader(out).ReadString('\n')
			ready <- line == "ready\n"
			io.Copy(io.Discard, out)
		}()
		select {
		case ok := <-ready:
			if !ok {
				t.Fatalf("den run %v did not get ready", args)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("den run %v did not get ready", args)
		}
		return cmd
	}
	exitOf := func(cmd *exec.Cmd) int {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
			return cmd.ProcessState.ExitCode()
		case <-time.After(15 * time.Second):
			t.Fatal("den run did not end")
			return 0
		}
	}

	// stop: SIGTERM reaches the command; --rm still removes the container.
	run := start("--rm", "--name", "s1", "--network", "none", ref, "sh", "-c", "echo ready; exec sleep 30")
	if r := e.ok("stop", "s1"); r.stdout != "s1\n" {
		t.Fatalf("den stop: %s", r)
	}
	if code := exitOf(run); code != 143 {
		t.Fatalf("a stopped container's den run exits %d, want 143", code)
	}
	if strings.Contains(e.ok("ps", "-a").stdout, "s1") {
		t.Fatal("den stop of a --rm container left it behind")
	}

	// stop of a command that ignores SIGTERM: SIGKILL after -t.
	run = start("--name", "s2", "--network", "none", ref, "sh", "-c", `trap "" TERM; echo ready; while true; do sleep 0.1; done`)
	t0 := time.Now()
	e.ok("stop", "-t", "1", "s2")
	if code := exitOf(run); code != 137 || time.Since(t0) > 8*time.Second {
		t.Fatalf("stop -t 1 of a TERM-proof command: exit %d after %v, want 137 after about 1s", code, time.Since(t0))
	}
	e.ok("stop", "s2") // already stopped: not an error, as with docker

	// kill -s: any signal reaches the command, whose status is den's.
	run = start("--name", "k1", "--network", "none", ref, "sh", "-c", `trap "exit 42" USR1; echo ready; while true; do sleep 0.1; done`)
	e.ok("kill", "-s", "USR1", "k1")
	if code := exitOf(run); code != 42 {
		t.Fatalf("kill -s USR1: den run exits %d, want 42", code)
	}
	var info []struct {
		ID    string `json:"Id"`
		Name  string `json:"Name"`
		State struct {
			Status   string
			Running  bool
			ExitCode int
		}
	}
	if err := json.Unmarshal([]byte(e.ok("inspect", "k1").stdout), &info); err != nil || len(info) != 1 {
		t.Fatalf("den inspect k1: %v %+v", err, info)
	}
	if info[0].Name != "/k1" || info[0].State.Status != "exited" || info[0].State.Running || info[0].State.ExitCode != 42 {
		t.Fatalf("den inspect k1: %+v", info[0])
	}
	oneLineError(t, e.den("kill", "k1"), "k1", "not running")
	oneLineError(t, e.den("kill", "-s", "NOPE", "k1"), "NOPE")
	oneLineError(t, e.den("stop", "-t", "-2", "k1"), "--time")
	oneLineError(t, e.den("logs", "no-such-container"), "no-such-container")
	oneLineError(t, e.den("inspect", "no-such-thing"), "no-such-thing")
	if out := e.ok("inspect", ref).stdout; !strings.Contains(out, `"Cmd"`) {
		t.Fatalf("den inspect of an image prints its config: %s", out)
	}
	e.ok("rm", "k1", "s2")
}

func TestDetachAndLogs(t *testing.T) {
	e, ref := pulled(t)
	// den run -d returns at once, its output closed (a caller reading
	// $(den run -d ...) gets EOF), while the container runs on.
	t0 := time.Now()
	r := e.ok("run", "-d", "--name", "d1", "--network", "none", ref, "sh", "-c", "echo out; echo err >&2; sleep 30")
	if took := time.Since(t0); took > 10*time.Second {
		t.Fatalf("den run -d took %v", took)
	}
	id := strings.TrimSpace(r.stdout)
	if len(id) != 64 || !isHex(id) || r.stdout != id+"\n" {
		t.Fatalf("den run -d prints the container id alone: %q", r.stdout)
	}
	if !strings.Contains(e.ok("ps").stdout, "d1") {
		t.Fatal("the detached container is not running")
	}
	var logs result
	for deadline := time.Now().Add(10 * time.Second); logs.stdout != "out\n" || logs.stderr != "err\n"; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("den logs d1: %s", logs)
		}
		logs = e.ok("logs", "d1")
	}
	e.ok("stop", "d1")
	if r := e.ok("logs", "-f", "d1"); r.stdout != "out\n" || r.stderr != "err\n" {
		t.Fatalf("den logs -f of a stopped container: %s", r)
	}
	if out := e.ok("inspect", id).stdout; !strings.Contains(out, `"ExitCode": 143`) {
		t.Fatalf("den inspect after stop: %s", out)
	}
	e.ok("rm", "d1")

	// With --rm the container goes when its command ends.
	id = strings.TrimSpace(e.ok("run", "-d", "--rm", "--network", "none", ref, "true").stdout)
	for deadline := time.Now().Add(10 * time.Second); strings.Contains(e.ok("ps", "-a").stdout, id[:12]); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("den run -d --rm left its container")
		}
	}
	// A command that cannot start is den run -d's failure, as with docker.
	r = e.den("run", "-d", "--network", "none", ref, "nosuchcommand")
	if r.code != 127 {
		t.Fatalf("den run -d of a missing command: exit %d", r.code)
	}
	oneLineError(t, r, "nosuchcommand")
	// A foreground container keeps its logs too, as with docker; --rm
	// ones keep none.
	if r := e.ok("run", "--name", "fg", "--network", "none", ref, "sh", "-c", "echo o; echo e >&2"); r.stdout != "o\n" || r.stderr != "e\n" {
		t.Fatalf("foreground output: %s", r)
	}
	if r := e.ok("logs", "fg"); r.stdout != "o\n" || r.stderr != "e\n" {
		t.Fatalf("den logs of a foreground container: %s", r)
	}
}

func isHex(s string) bool { return strings.Trim(s, "0123456789abcdef") == "" }

func TestPrune(t *testing.T) {
	bb, multi := images(t)
	reg := newRegistry(t)
	ref := reg.push(t, "test/busybox:latest", bb)
	e := newEnv(t)
	// The tag moves to another image: the first is left without a name.
	moving := reg.push(t, "test/moving:latest", multi)
	e.ok("pull", "-q", moving)
	reg.push(t, "test/moving:latest", bb)
	e.ok("pull", "-q", moving)
	e.ok("pull", "-q", ref)
	if out := e.ok("images").stdout; !strings.Contains(out, "<none>") {
		t.Fatalf("the re-pulled tag left no unnamed image:\n%s", out)
	}
	e.ok("run", "--name", "stopped", "--network", "none", ref, "true")
	e.ok("run", "-d", "--name", "running", "--network", "none", ref, "sleep", "30")

	blobs := filepath.Join(e.data, "den", "blobs", "blobs", "sha256")
	before, _ := os.ReadDir(blobs)
	r := e.ok("prune")
	if strings.Count(r.stdout, "Deleted container:") != 1 || strings.Count(r.stdout, "Deleted image:") != 1 {
		t.Fatalf("den prune removes the stopped container and the unnamed image:\n%s", r.stdout)
	}
	// The unnamed image's own blobs (its config at least) go with it.
	if after, _ := os.ReadDir(blobs); len(before) == 0 || len(after) >= len(before) {
		t.Fatalf("den prune left the removed image's kept blobs: %d before, %d after", len(before), len(after))
	}
	ps := e.ok("ps", "-a").stdout
	if strings.Contains(ps, "stopped") || !strings.Contains(ps, "running") {
		t.Fatalf("after den prune:\n%s", ps)
	}
	if out := e.ok("images").stdout; strings.Contains(out, "<none>") || !strings.Contains(out, "test/busybox") {
		t.Fatalf("after den prune:\n%s", out)
	}
	// -a spares what a running container uses, and takes the rest.
	e.ok("prune", "-a")
	if out := e.ok("images").stdout; !strings.Contains(out, "test/busybox") {
		t.Fatalf("den prune -a removed an image in use:\n%s", out)
	}
	e.ok("stop", "-t", "0", "running")
	e.ok("prune", "-a")
	if rows := imageRows(t, e); len(rows) != 0 {
		t.Fatalf("den prune -a left images: %v", rows)
	}
	if out := e.ok("run", "--rm", "--network", "none", ref, "echo", "again").stdout; out != "again\n" {
		t.Fatalf("the store does not work after den prune: %q", out)
	}
}
