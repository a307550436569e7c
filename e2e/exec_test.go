package e2e

import (
	"bufio"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// running starts a detached container that sleeps, and removes it after.
func running(t *testing.T, args ...string) (*env, string) {
	t.Helper()
	e, ref := pulled(t)
	name := "x" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	run := append([]string{"run", "-d", "--name", name, "-e", "FROM_RUN=1"}, args...)
	e.ok(append(run, ref, "sleep", "300")...)
	t.Cleanup(func() { e.den("rm", "-f", name) })
	return e, name
}

func TestExecRunsInTheContainer(t *testing.T) {
	e, name := running(t, "--network", "none", "--hostname", "box")
	r := e.den("exec", name, "sh", "-c", "echo out; echo err >&2; hostname; exit 42")
	if r.code != 42 || r.stdout != "out\nbox\n" || r.stderr != "err\n" {
		t.Fatalf("exec: %s", r)
	}
	// Every namespace is the container's command's.
	for _, ns := range []string{"user", "mnt", "pid", "uts", "ipc", "net"} {
		r := e.ok("exec", name, "sh", "-c", "readlink /proc/$(pidof sleep)/ns/"+ns+"; readlink /proc/self/ns/"+ns)
		if f := strings.Fields(r.stdout); len(f) != 2 || f[0] != f[1] || !strings.HasPrefix(f[0], ns+":[") {
			t.Errorf("%s namespace: the command and the exec'd process differ: %q", ns, r.stdout)
		}
	}
	// The container's sandbox: capabilities, no_new_privs, seccomp.
	status := e.ok("exec", name, "cat", "/proc/self/status").stdout
	if statusField(t, status, "CapEff") != "00000000a80425fb" || statusField(t, status, "NoNewPrivs") != "1" || statusField(t, status, "Seccomp") != "2" {
		t.Fatalf("exec'd process is not sandboxed as the container: %s", status)
	}
	priv := e.ok("exec", "--privileged", name, "cat", "/proc/self/status").stdout
	if statusField(t, priv, "Seccomp") != "0" || statusField(t, priv, "CapEff") == "00000000a80425fb" {
		t.Fatalf("--privileged exec got no more: %s", priv)
	}
	// The image's and the container's env, plus -e; -u and -w.
	out := e.ok("exec", "-u", "nobody", "-w", "/tmp", "-e", "EXTRA=2", name, "sh", "-c", `id -u; pwd; echo "$FROM_RUN $EXTRA $PATH"`).stdout
	if out != "65534\n/tmp\n1 2 /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n" {
		t.Fatalf("exec -u -w -e: %q", out)
	}
	// Stdin reaches the process with -i, not without.
	if r := e.denIn(strings.NewReader("piped\n"), "exec", "-i", name, "cat"); r.stdout != "piped\n" {
		t.Fatalf("exec -i: %s", r)
	}
	if r := e.denIn(strings.NewReader("piped\n"), "exec", name, "cat"); r.stdout != "" || r.code != 0 {
		t.Fatalf("exec without -i read stdin: %s", r)
	}
}

func TestExecReapsAndDetaches(t *testing.T) {
	e, name := running(t, "--network", "none")
	e.ok("exec", name, "sh", "-c", "sleep 0.1 & exit 0")
	e.ok("exec", "-d", name, "sh", "-c", "sleep 0.2; touch /tmp/detached")
	time.Sleep(time.Second)
	if r := e.den("exec", name, "test", "-f", "/tmp/detached"); r.code != 0 {
		t.Fatalf("exec -d did not run: %s", r)
	}
	// The init reaps what exec started: no zombie is left.
	if ps := e.ok("exec", name, "ps", "-o", "stat,comm").stdout; strings.Contains(ps, "Z ") || strings.Contains(ps, "\nZ") {
		t.Fatalf("zombies in the container:\n%s", ps)
	}
}

func TestExecBadInput(t *testing.T) {
	e, name := running(t, "--network", "none")
	r := e.den("exec", name, "nosuchcommand")
	if r.code != 127 {
		t.Fatalf("missing command: %s", r)
	}
	oneLineError(t, r, "nosuchcommand")
	if r := e.den("exec", name, "/etc"); r.code != 126 {
		t.Fatalf("a directory as command: %s", r)
	}
	// As docker exec: a working directory that is a file cannot be entered.
	r = e.den("exec", "-w", "/etc/passwd", name, "true")
	if r.code != 126 {
		t.Fatalf("-w a file: %s", r)
	}
	oneLineError(t, r, "/etc/passwd")
	r = e.den("exec", "nosuchcontainer", "true")
	if r.code != 125 {
		t.Fatalf("unknown container: %s", r)
	}
	oneLineError(t, r, "nosuchcontainer")
	oneLineError(t, e.den("exec", "-u", "nosuchuser", name, "true"), "nosuchuser")
	e.ok("stop", "-t", "0", name)
	r = e.den("exec", name, "true")
	if r.code != 125 {
		t.Fatalf("stopped container: %s", r)
	}
	oneLineError(t, r, name, "not running")
}

func TestExecForwardsSignals(t *testing.T) {
	e, name := running(t, "--network", "none")
	cmd := e.command(t.Context(), "exec", name, "sh", "-c", trapScript)
	assertTrapCatchesSIGINT(t, cmd, "exec'd")
}

func TestExecInteractiveTerminal(t *testing.T) {
	e, name := running(t, "--network", "none")
	master, slave := openPTY(t)
	unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 31, Col: 99})
	cmd := onTerminal(t, e, slave, "exec", "-it", name, "sh")
	scr := readScreen(master)
	scr.waitFor(t, "# ")
	master.Write([]byte("stty size; tty\n"))
	scr.waitFor(t, "31 99")
	scr.waitFor(t, "/dev/pts/")
	scr.reset()
	unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 44, Col: 111})
	time.Sleep(200 * time.Millisecond)
	master.Write([]byte("stty size\n"))
	scr.waitFor(t, "44 111")
	master.Write([]byte("exit 5\n"))
	if code := waitExit(t, cmd); code != 5 {
		t.Fatalf("exec -it: exit %d, want 5", code)
	}
}

// readScreen copies what den writes to the terminal into a screen.
func readScreen(master interface{ Read([]byte) (int, error) }) *screen {
	scr := &screen{mu: make(chan struct{}, 1)}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			scr.mu <- struct{}{}
			scr.buf.Write(b[:n])
			<-scr.mu
			if err != nil {
				return
			}
		}
	}()
	return scr
}

func waitExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("den did not exit after the command did")
	}
	return cmd.ProcessState.ExitCode()
}

func TestAttachToDetachedContainer(t *testing.T) {
	e, ref := pulled(t)
	// -di: stdin is kept for den attach; what comes in goes back out.
	e.ok("run", "-di", "--name", "cat", "--network", "none", ref, "sh", "-c", "while read l; do echo got $l; done")
	t.Cleanup(func() { e.den("rm", "-f", "cat") })
	cmd := e.command(t.Context(), "attach", "cat")
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(out)
	in.Write([]byte("one\n"))
	if line, _ := br.ReadString('\n'); line != "got one\n" {
		t.Fatalf("attach: %q", line)
	}
	// ctrl-p ctrl-q detaches; the container runs on.
	in.Write([]byte{16, 17})
	if code := waitExit(t, cmd); code != 0 {
		t.Fatalf("detach: exit %d", code)
	}
	if ps := e.ok("ps").stdout; !strings.Contains(ps, "cat") {
		t.Fatal("the container stopped when den detached")
	}
	// Attached again: the container's end is den's status.
	cmd = e.command(t.Context(), "attach", "--detach-keys", "ctrl-x", "cat")
	in, _ = cmd.StdinPipe()
	out, _ = cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	br = bufio.NewReader(out)
	in.Write([]byte("two\n"))
	if line, _ := br.ReadString('\n'); line != "got two\n" {
		t.Fatalf("attach again: %q", line)
	}
	in.Close() // EOF ends read, and the command with 0
	time.Sleep(200 * time.Millisecond)
	e.ok("kill", "-s", "TERM", "cat")
	if code := waitExit(t, cmd); code != 143 && code != 0 {
		t.Fatalf("attached den's status after the container ended: %d", code)
	}
	if logs := e.ok("logs", "cat").stdout; logs != "got one\ngot two\n" {
		t.Fatalf("logs of an attached container: %q", logs)
	}
	oneLineError(t, e.den("attach", "nosuch"), "nosuch")
	oneLineError(t, e.den("attach", "--detach-keys", "ctrl-1", "cat"), "--detach-keys")
}

func TestAttachToTerminal(t *testing.T) {
	e, ref := pulled(t)
	e.ok("run", "-dit", "--name", "tty", "--network", "none", ref, "sh")
	t.Cleanup(func() { e.den("rm", "-f", "tty") })
	master, slave := openPTY(t)
	unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 27, Col: 88})
	cmd := e.command(t.Context(), "attach", "tty")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	scr := readScreen(master)
	master.Write([]byte("stty size; tty\n"))
	scr.waitFor(t, "27 88")
	scr.waitFor(t, "/dev/pts/")
	master.Write([]byte{16, 17})
	if code := waitExit(t, cmd); code != 0 {
		t.Fatalf("detach from a terminal: exit %d", code)
	}
	if ps := e.ok("ps").stdout; !strings.Contains(ps, "tty") {
		t.Fatal("the container stopped when den detached")
	}
}

// trapScript prints ready once its SIGINT trap is set; the trap exits 7.
const trapScript = `trap 'echo caught; exit 7' INT; echo ready; while true; do sleep 0.1; done`

// assertTrapCatchesSIGINT starts cmd (running trapScript), sends den
// SIGINT once the trap is set, and checks that the trap ran.
func assertTrapCatchesSIGINT(t *testing.T, cmd *exec.Cmd, what string) {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(out)
	if line, _ := br.ReadString('\n'); line != "ready\n" {
		t.Fatalf("got %q before the trap was set", line)
	}
	cmd.Process.Signal(syscall.SIGINT)
	rest, _ := br.ReadString('\n')
	cmd.Wait()
	if rest != "caught\n" || cmd.ProcessState.ExitCode() != 7 {
		t.Fatalf("SIGINT did not reach the %s trap: %q, exit %d", what, rest, cmd.ProcessState.ExitCode())
	}
}
