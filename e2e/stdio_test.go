package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
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
		cmd := e.command(t.Context(), args...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
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
		scr.waitFor(t, "done")
		master.Write([]byte{4}) // ^D: stdin's end, for the commands that read it
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		select {
		case <-waited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("den %s did not exit", args[0])
		}
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
