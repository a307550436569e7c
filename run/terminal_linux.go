package run

import (
	"io"
	"os"
	"os/signal"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// terminal is the outer den's side of -t: the container's init sends the
// pty master over the control protocol; den puts its own terminal in raw
// mode, copies both ways and passes on every window resize.
type terminal struct {
	master *os.File
	saved  *term.State
	out    chan struct{}
	winch  chan os.Signal
	once   sync.Once
}

func newTerminal() *terminal { return &terminal{out: make(chan struct{})} }

// attach takes the master, sizes it and starts copying; the command starts
// once it returns.
func (t *terminal) attach(master *os.File, interactive bool) {
	t.raw(master)
	if interactive {
		go func() { _, _ = io.Copy(master, os.Stdin) }()
	}
	go func() {
		defer close(t.out)
		_, _ = io.Copy(os.Stdout, master)
	}()
}

// raw puts den's terminal in raw mode and keeps the container's pty,
// master, at its size; close undoes both.
func (t *terminal) raw(master *os.File) {
	t.master = master
	if st, err := term.MakeRaw(0); err == nil {
		t.saved = st
	}
	t.resize()
	t.winch = make(chan os.Signal, 4)
	signal.Notify(t.winch, unix.SIGWINCH)
	go func() {
		for range t.winch {
			t.resize()
		}
	}()
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
	if t.master == nil {
		return
	}
	select {
	case <-t.out:
	case <-time.After(2 * time.Second):
	}
}

// close restores den's terminal; it runs on every return path.
func (t *terminal) close() {
	t.once.Do(func() {
		if t.winch != nil {
			signal.Stop(t.winch)
		}
		if t.saved != nil {
			_ = term.Restore(0, t.saved)
		}
		if t.master != nil {
			t.master.Close()
		}
	})
}
