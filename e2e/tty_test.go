package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns a pty pair, as a terminal emulator would give den.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// onTerminal starts den with slave as its controlling terminal and
// stdio, as a shell at a terminal would.
func onTerminal(t *testing.T, e *env, slave *os.File, args ...string) *exec.Cmd {
	t.Helper()
	cmd := e.command(t.Context(), args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// screen collects what den writes to the terminal.
type screen struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func (s *screen) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		s.mu <- struct{}{}
		ok := strings.Contains(s.buf.String(), want)
		<-s.mu
		if ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("terminal never showed %q; it shows %q", want, s.buf.String())
}

func (s *screen) reset() {
	s.mu <- struct{}{}
	s.buf.Reset()
	<-s.mu
}

func TestRunInteractiveTerminal(t *testing.T) {
	e, ref := pulled(t)
	master, slave := openPTY(t)
	if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 33, Col: 101}); err != nil {
		t.Fatal(err)
	}
	before, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	cmd := onTerminal(t, e, slave, "run", "-it", "--rm", "--hostname", "x", ref, "sh")
	scr := readScreen(master)
	scr.waitFor(t, "# ")
	master.Write([]byte("stty size; hostname; tty\n"))
	scr.waitFor(t, "33 101")
	scr.waitFor(t, "/dev/pts/")
	scr.reset()
	unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 120})
	time.Sleep(200 * time.Millisecond)
	master.Write([]byte("stty size\n"))
	scr.waitFor(t, "40 120")
	master.Write([]byte("exit 3\n"))
	if code := waitExit(t, cmd); code != 3 {
		t.Fatalf("exit %d, want 3", code)
	}
	after, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if after.Lflag != before.Lflag || after.Iflag != before.Iflag || after.Oflag != before.Oflag {
		t.Fatalf("terminal mode not restored: lflag %x -> %x", before.Lflag, after.Lflag)
	}
}
