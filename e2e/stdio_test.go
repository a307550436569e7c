package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Without -t the command never holds the user's terminal, nor a file den
// writes to: it gets pipes, as docker's streams are. With the terminal it
// could change its modes, or push input into the user's shell (TIOCSTI).
func TestStdioIsNeverTheHostsOwn(t *testing.T) {
	e, ref := pulled(t)
	e.ok("run", "-d", "--name", "box", ref, "sleep", "60")
	probe := "ls -l /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2; stty -echo <&1; echo done"
	for _, args := range [][]string{
		{"run", "--rm", "-i", ref, "sh", "-c", probe}, // no log: den's own descriptors
		{"run", "-i", ref, "sh", "-c", probe},         // logged: stdout through the log's pipe
		{"exec", "-i", "box", "sh", "-c", probe},
	} {
		master, slave := openPTY(t)
		before, _ := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
		cmd := onTerminal(t, e, slave, args...)
		scr := readScreen(master)
		scr.waitFor(t, "done")
		master.Write([]byte{4}) // ^D: stdin's end, for the commands that read it
		waitExit(t, cmd)
		scr.mu <- struct{}{}
		out := scr.buf.String()
		<-scr.mu
		if strings.Count(out, "-> pipe:") != 3 {
			t.Fatalf("den %s: the command's descriptors are not all pipes:\n%s", args[0], out)
		}
		after, _ := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
		if after.Lflag != before.Lflag {
			t.Fatalf("den %s: the command changed the user's terminal", args[0])
		}
	}

	// A file den's output goes to: a pipe too, and all of it lands.
	p := filepath.Join(e.dir, "out.txt")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	cmd := e.command(t.Context(), "run", "--rm", ref, "sh", "-c", "ls -l /proc/self/fd/1; seq 1 20000 | tail -1")
	cmd.Stdout = f
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	b, _ := os.ReadFile(p)
	if !strings.Contains(string(b), "-> pipe:") || !strings.HasSuffix(string(b), "20000\n") {
		t.Fatalf("run > file: %q", b)
	}
}

// den start -ai of a container without -t, from a terminal: its stdin
// reaches the command (the child's group once stopped on SIGTTIN).
func TestStartAttachInteractiveFromTerminal(t *testing.T) {
	e, ref := pulled(t)
	e.ok("create", "-i", "--name", "reader", ref, "sh", "-c", "read v; echo got $v")
	master, slave := openPTY(t)
	cmd := onTerminal(t, e, slave, "start", "-ai", "reader")
	scr := readScreen(master)
	time.Sleep(300 * time.Millisecond)
	master.Write([]byte("hello\n"))
	scr.waitFor(t, "got hello")
	waitExit(t, cmd)
}

// With SYS_PTRACE a container reaches its init's descriptors through
// /proc/1/fd: none of them leads out of the container (the init's
// output is a pipe, its directory a detached mount whose .. stays).
func TestInitDescriptorsLeadNowhere(t *testing.T) {
	e, ref := pulled(t)
	if err := os.WriteFile(filepath.Join(e.dir, "HOST-MARKER"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(e.dir, "out.txt")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	probe := `for f in /proc/1/fd/*; do p=$f; for i in 1 2 3 4 5 6 7 8; do p=$p/..; ls -a $p 2>/dev/null; done; done; ls -l /proc/1/fd/; echo done`
	cmd := e.command(t.Context(), "run", "--rm", "--cap-add", "SYS_PTRACE", ref, "sh", "-c", probe)
	cmd.Stdout = f
	err = cmd.Run()
	f.Close()
	b, _ := os.ReadFile(out)
	if err != nil || !strings.Contains(string(b), "done") {
		t.Fatalf("probe: %v: %s", err, b)
	}
	if strings.Contains(string(b), "HOST-MARKER") {
		t.Fatalf("a container with SYS_PTRACE walked from its init's descriptors to the host:\n%s", b)
	}
	if strings.Contains(string(b), out) {
		t.Fatalf("the init holds the file den writes to:\n%s", b)
	}
	// One socket: the one den exec dials. The control connection to den's
	// child is closed once the command runs (its peer, SO_PEERPIDFD, is the
	// child, in den's mount namespace).
	if n := strings.Count(string(b), "socket:["); n != 1 {
		t.Fatalf("the init holds %d sockets, want the listening one:\n%s", n, b)
	}
}
