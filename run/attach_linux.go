package run

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/denproject/den/run/ctl"
	"github.com/denproject/den/run/spec"
)

// AttachOptions are den attach's flags.
type AttachOptions struct {
	NoStdin    bool
	DetachKeys string // "" means docker's ctrl-p,ctrl-q
	SigProxy   bool
}

// Attach is `den attach`: den joins a detached container's output and,
// unless NoStdin, its stdin, until the detach keys (the container runs
// on) or the container's exit (den exits with its status).
func Attach(g *Global, name string, o AttachOptions) error {
	if _, err := spec.ParseDetachKeys(o.DetachKeys); err != nil {
		return err
	}
	var t execTarget
	if err := g.call("exec-target", name, &t, hooks{}); err != nil {
		return err
	}
	if o.DetachKeys == "" {
		o.DetachKeys = t.DetachKeys // the container's own, from den run --detach-keys
	}
	keys, err := spec.ParseDetachKeys(o.DetachKeys)
	if err != nil {
		return err
	}
	conn, err := ctl.Dial(t.Socket)
	if err != nil {
		return &codedError{code: 1, msg: fmt.Sprintf("%s: container is not running (its init does not answer: %v)", name, err)}
	}
	// The init never holds this den's terminal or file (ctl.Passable):
	// pipes, copied here. At the end the connection goes first: the init
	// lets go of the pipes once den has (a detach leaves it running).
	var outs []*os.File
	var ends []func()
	defer func() {
		conn.Close()
		for _, end := range ends {
			end()
		}
	}()
	for _, f := range []*os.File{os.Stdout, os.Stderr} {
		out, handed, wait, err := ctl.GuardOutput(f)
		if err != nil {
			return err
		}
		ends = append(ends, func() {
			handed()
			// what the container wrote before den left; after a detach
			// the init may hold the pipe a while longer
			copied := make(chan struct{})
			go func() { wait(); close(copied) }()
			select {
			case <-copied:
			case <-time.After(time.Second):
			}
		})
		outs = append(outs, out)
	}
	if err := conn.Send(ctl.Attach, ctl.AttachBody{Stdin: !o.NoStdin}, outs...); err != nil {
		return err
	}
	m, files, err := conn.Recv()
	if err != nil {
		return err
	}
	if m.Type == ctl.Failed {
		var st ctl.StatusBody
		_ = m.Decode(&st)
		return &codedError{code: 1, msg: st.Msg}
	}
	var at ctl.AttachedBody
	_ = m.Decode(&at)
	detached := make(chan struct{})
	if len(files) > 0 {
		input := files[0]
		defer input.Close()
		if at.Tty {
			t := &terminal{}
			t.raw(input)
			defer t.close()
		}
		go func() {
			if copyInput(input, os.Stdin, keys) {
				close(detached)
			}
		}()
	}
	if o.SigProxy && !at.Tty {
		sigs := make(chan os.Signal, 16)
		signal.Notify(sigs, ctl.Signals...)
		defer signal.Stop(sigs)
		defer relay(sigs, conn)()
	}
	return waitAttached(conn, detached)
}

// waitAttached waits for the container's exit, or for the detach keys.
func waitAttached(conn *ctl.Conn, detached <-chan struct{}) error {
	exit := make(chan error, 1)
	go func() {
		for {
			m, files, err := conn.Recv()
			ctl.CloseAll(files)
			if errors.Is(err, io.EOF) {
				exit <- nil
				return
			}
			var st ctl.StatusBody
			if err == nil && m.Type == ctl.Exit && m.Decode(&st) == nil {
				if st.Code != 0 {
					exit <- &ExitError{Code: st.Code}
				} else {
					exit <- nil
				}
				return
			}
			if err != nil {
				exit <- err
				return
			}
		}
	}()
	select {
	case err := <-exit:
		return err
	case <-detached:
		return nil
	}
}

// copyInput copies what the user types into the container, and says
// whether it stopped at the detach keys (true) or at the end of input.
// Keys that begin the sequence are held back until it is clear they do
// not end it.
func copyInput(dst io.Writer, src io.Reader, keys []byte) bool {
	buf := make([]byte, 4096)
	var held []byte
	for {
		n, err := src.Read(buf)
		var out bytes.Buffer
		for _, b := range buf[:n] {
			held = append(held, b)
			switch {
			case bytes.Equal(held, keys):
				_, _ = dst.Write(out.Bytes())
				return true
			case bytes.HasPrefix(keys, held):
			default:
				out.Write(held)
				held = held[:0]
			}
		}
		if out.Len() > 0 {
			if _, werr := dst.Write(out.Bytes()); werr != nil {
				return false
			}
		}
		if err != nil {
			return false
		}
	}
}
