package pid1

import (
	"encoding/json"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/run/ctl"
)

// fanout writes to every attached client; one that fails is dropped.
type fanout struct {
	mu sync.Mutex
	ws map[*os.File]bool
}

func newFanout() *fanout { return &fanout{ws: map[*os.File]bool{}} }

func (f *fanout) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for w := range f.ws {
		if _, err := w.Write(p); err != nil {
			delete(f.ws, w)
			w.Close()
		}
	}
	return len(p), nil
}

func (f *fanout) add(w *os.File) {
	f.mu.Lock()
	f.ws[w] = true
	f.mu.Unlock()
}

func (f *fanout) remove(w *os.File) {
	f.mu.Lock()
	if f.ws[w] {
		delete(f.ws, w)
		w.Close()
	}
	f.mu.Unlock()
}

// attachable is what den attach reaches in a detached container: its
// output, and the way into its stdin (the pty master, or the write end
// of the stdin pipe); nil when the container was started otherwise.
var attachable struct {
	stdout, stderr *fanout
	input          *os.File
	tty            bool
}

// stdio gives the command its stdin, stdout and stderr. In the
// foreground they are den's (through the child; through a pipe unless
// passable), with the output also kept in the log; with -t the pty's master goes to den. Detached, the
// init keeps them: output to the log and to attached clients, stdin from
// attached clients. drain waits for the output's end; done closes the
// init's copies once the command has them.
func (p *initProc) stdio(c *Config) (stdio []*os.File, done, drain func(), err error) {
	var w *logWriter
	if c.Log != nil {
		if w, err = openLog(ctl.LogFD, *c.Log); err != nil {
			return nil, nil, nil, err
		}
	}
	switch {
	case c.Detached:
		return detachedStdio(c, w)
	case c.Tty:
		slave, err := p.openTTY(c.UID)
		if err != nil {
			return nil, nil, nil, err
		}
		return []*os.File{slave, slave, slave}, func() { slave.Close() }, func() {}, nil
	case w != nil:
		in, inDone, _, err := guard([]*os.File{os.Stdin})
		if err != nil {
			return nil, nil, nil, err
		}
		out, errOut, wait, err := logStreams(w, os.Stdout, os.Stderr)
		if err != nil {
			inDone()
			return nil, nil, nil, err
		}
		return []*os.File{in[0], out, errOut}, func() { inDone(); out.Close(); errOut.Close() }, wait, nil
	}
	return guard([]*os.File{os.Stdin, os.Stdout, os.Stderr})
}

func detachedStdio(c *Config, w *logWriter) ([]*os.File, func(), func(), error) {
	attachable.stdout, attachable.stderr, attachable.tty = newFanout(), newFanout(), c.Tty
	if w == nil {
		w = discardLog()
	}
	if c.Tty {
		master, slave, err := allocPTY(c.UID)
		if err != nil {
			return nil, nil, nil, err
		}
		attachable.input = master
		done := make(chan struct{})
		go func() {
			defer close(done)
			copyLines(master, attachable.stdout, func(line []byte) { w.write("stdout", line) })
		}()
		drain := func() { waitAtMost(done) }
		return []*os.File{slave, slave, slave}, func() { slave.Close() }, drain, nil
	}
	out, errOut, wait, err := logStreams(w, attachable.stdout, attachable.stderr)
	if err != nil {
		return nil, nil, nil, err
	}
	stdin, err := os.Open(os.DevNull)
	if err != nil {
		return nil, nil, nil, err
	}
	if c.Interactive {
		r, wr, err := os.Pipe()
		if err != nil {
			return nil, nil, nil, err
		}
		stdin.Close()
		stdin, attachable.input = r, wr
	}
	done := func() { stdin.Close(); out.Close(); errOut.Close() }
	return []*os.File{stdin, out, errOut}, done, wait, nil
}

var _ io.Writer = (*fanout)(nil)

// discardLog is the log of a container started with --log-driver none.
func discardLog() *logWriter {
	f, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	return &logWriter{dir: -1, f: f}
}

// waitAtMost waits for done, at most a second after the command ended: a
// background process that keeps the output open must not keep the
// container up.
func waitAtMost(done <-chan struct{}) {
	select {
	case <-done:
	case <-time.After(time.Second):
	}
}

// writeExit leaves the command's status beside the log, for the den that
// looks next: with den run -d no den may be waiting for this init.
func writeExit(code int) {
	writeBeside(ctl.ExitFile, ctl.ExitStatus{Code: code, FinishedAt: time.Now().UTC()})
}

// writeBeside writes v as JSON to name in the container's directory
// (ctl.LogFD), whole or not at all: a den may read it at any moment.
func writeBeside(name string, v any) {
	b, _ := json.Marshal(v)
	fd, err := unix.Openat(ctl.LogFD, name+".tmp", unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return
	}
	_, _ = unix.Write(fd, b)
	unix.Close(fd)
	_ = unix.Renameat(ctl.LogFD, name+".tmp", ctl.LogFD, name)
}
