package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/denproject/den/run/ctl"
	"github.com/denproject/den/run/records"
)

// ExecOptions are den exec's flags, checked and resolved (env files read,
// a bare -e KEY given den's value).
type ExecOptions struct {
	Args        []string
	Env         []string
	User        string
	Workdir     string
	Tty         bool
	Interactive bool
	Privileged  bool
	Detach      bool
}

// execTarget is where a running container's init listens.
type execTarget struct {
	ID         string `json:"id"`
	Socket     string `json:"socket"`
	DetachKeys string `json:"detachKeys,omitempty"`
}

// Exec is `den exec`: the container's init starts the process, in all of
// the container's namespaces and under its sandbox, and reaps it; den
// hands it its stdio (or relays a pty), relays signals and exits with its
// status.
func Exec(g *Global, name string, o ExecOptions) error {
	var t execTarget
	if err := g.call("exec-target", name, &t, hooks{}); err != nil {
		return err
	}
	// Caught from before the process starts, relayed once it runs.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, ctl.Signals...)
	defer signal.Stop(sigs)
	conn, err := ctl.Dial(t.Socket)
	if err != nil {
		return &codedError{code: 125, msg: fmt.Sprintf("%s: container is not running (its init does not answer: %v)", name, err)}
	}
	defer conn.Close()
	body := ctl.ExecBody{Args: o.Args, Env: o.Env, User: o.User, Workdir: o.Workdir, Tty: o.Tty,
		Interactive: o.Interactive, Privileged: o.Privileged, Detach: o.Detach}
	var files []*os.File
	if !o.Tty && !o.Detach {
		stdin, err := os.Open(os.DevNull)
		if err != nil {
			return err
		}
		defer stdin.Close()
		if o.Interactive {
			in, handed, err := ctl.GuardInput(os.Stdin)
			if err != nil {
				return err
			}
			defer handed()
			stdin = in
		}
		files = []*os.File{stdin}
		for _, f := range []*os.File{os.Stdout, os.Stderr} {
			// The init never holds this den's terminal or file (see
			// ctl.Passable): it gets a pipe, copied here.
			out, handed, wait, err := ctl.GuardOutput(f)
			if err != nil {
				return err
			}
			defer wait()
			defer handed()
			files = append(files, out)
		}
	}
	if err := conn.Send(ctl.Exec, body, files...); err != nil {
		return err
	}
	var term *terminal
	if o.Tty {
		term = newTerminal()
		defer term.close()
		defer term.drain()
	}
	return execAnswer(conn, term, o, sigs)
}

// execAnswer follows the exec'd process until it exits.
func execAnswer(conn *ctl.Conn, term *terminal, o ExecOptions, sigs chan os.Signal) error {
	stop := func() {}
	defer func() { stop() }()
	for {
		m, files, err := conn.Recv()
		if errors.Is(err, io.EOF) {
			return &codedError{code: 125, msg: "den exec: the container's init ended the connection (the container stopped?)"}
		}
		if err != nil {
			return err
		}
		var st ctl.StatusBody
		switch m.Type {
		case ctl.TTY:
			if len(files) > 0 && term != nil {
				term.attach(files[0], o.Interactive)
			}
			if err := conn.Send(ctl.TTYReady, nil); err != nil {
				return err
			}
		case ctl.Started:
			if o.Detach {
				return nil
			}
			stop = relay(sigs, conn)
		case ctl.Failed:
			if err := m.Decode(&st); err != nil {
				return err
			}
			return &codedError{code: st.Code, msg: st.Msg}
		case ctl.Exit:
			if err := m.Decode(&st); err != nil {
				return err
			}
			if st.Code != 0 {
				return &ExitError{Code: st.Code}
			}
			return nil
		}
	}
}

func (c *child) execTarget(args json.RawMessage) (any, error) {
	name, err := decode[string](args)
	if err != nil {
		return nil, err
	}
	st, ctr, err := c.container(name)
	if err != nil {
		return nil, err
	}
	rec, _ := c.settle(st, ctr)
	if rec.State != records.Running {
		return nil, fmt.Errorf("%s: container is not running (den start %s first)", name, name)
	}
	dir, err := st.RunDir(ctr.ID)
	if err != nil {
		return nil, err
	}
	t := execTarget{ID: ctr.ID, Socket: filepath.Join(dir, socketName)}
	if rec.Spec != nil {
		t.DetachKeys = rec.Spec.DetachKeys
	}
	return t, nil
}

func init() { register("exec-target", (*child).execTarget) }
