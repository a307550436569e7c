package run

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"golang.org/x/sys/unix"
)

// terminal is the outer den's side of -t: the container's init sends the
// pty master over a socket; den puts its own terminal in raw mode, copies
// both ways and passes on every window resize.
type terminal struct {
	local, remote *os.File
	master        *os.File
	saved         *unix.Termios
	out           chan struct{}
	winch         chan os.Signal
}

func newTerminal() (*terminal, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("creating the terminal socket: %w", err)
	}
	return &terminal{
		local:  os.NewFile(uintptr(fds[0]), "tty-local"),
		remote: os.NewFile(uintptr(fds[1]), "tty-remote"),
		out:    make(chan struct{}),
	}, nil
}

// serve receives the master, sizes it, acknowledges, then copies.
func (t *terminal) serve(interactive bool) {
	defer close(t.out)
	master, err := recvFD(t.local)
	if err != nil {
		return // the container failed before its tty; init says why
	}
	t.master = master
	if st, err := unix.IoctlGetTermios(0, unix.TCGETS); err == nil {
		t.saved = st
		raw := *st
		raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		raw.Oflag &^= unix.OPOST
		raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		raw.Cflag &^= unix.CSIZE | unix.PARENB
		raw.Cflag |= unix.CS8
		raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
		_ = unix.IoctlSetTermios(0, unix.TCSETS, &raw)
	}
	t.resize()
	t.winch = make(chan os.Signal, 4)
	signal.Notify(t.winch, unix.SIGWINCH)
	go func() {
		for range t.winch {
			t.resize()
		}
	}()
	_, _ = t.local.Write([]byte{1})
	if interactive {
		go func() { _, _ = io.Copy(master, os.Stdin) }()
	}
	_, _ = io.Copy(os.Stdout, master)
}

// resize copies den's window size to the container's pty; without a
// terminal of its own den gives the conventional 80x24.
func (t *terminal) resize() {
	ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ)
	if err != nil {
		if ws, err = unix.IoctlGetWinsize(1, unix.TIOCGWINSZ); err != nil {
			ws = &unix.Winsize{Row: 24, Col: 80}
		}
	}
	_ = unix.IoctlSetWinsize(int(t.master.Fd()), unix.TIOCSWINSZ, ws)
}

// drain waits briefly for the last output after the container exits.
func (t *terminal) drain() {
	t.local.Close()
	select {
	case <-t.out:
	case <-time.After(2 * time.Second):
	}
}

// close restores den's terminal; it runs on every return path.
func (t *terminal) close() {
	if t.winch != nil {
		signal.Stop(t.winch)
	}
	if t.saved != nil {
		_ = unix.IoctlSetTermios(0, unix.TCSETS, t.saved)
	}
	t.local.Close()
	t.remote.Close()
}

func recvFD(sock *os.File) (*os.File, error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, 0)
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) == 0 {
		return nil, fmt.Errorf("no pty received")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) == 0 {
		return nil, fmt.Errorf("no pty received")
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}
