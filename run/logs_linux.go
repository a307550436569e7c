package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/denproject/den/run/ctl"
	"github.com/denproject/den/run/pid1"
	"github.com/denproject/den/run/records"
)

// LogsOptions are den logs' flags: Tail < 0 means every line; zero
// times mean no bound.
type LogsOptions struct {
	Follow     bool      `json:"follow,omitempty"`
	Tail       int       `json:"tail"`
	Since      time.Time `json:"since,omitzero"`
	Until      time.Time `json:"until,omitzero"`
	Timestamps bool      `json:"timestamps,omitempty"`
}

type logsArgs struct {
	Name string      `json:"name"`
	Opts LogsOptions `json:"opts"`
}

// Logs is `den logs`: what the container wrote, stdout on den's stdout
// and stderr on den's stderr; with Follow, until the container stops.
func Logs(g *Global, name string, o LogsOptions) error {
	return g.call("logs", logsArgs{Name: name, Opts: o}, nil, hooks{})
}

func (c *child) logs(args json.RawMessage) (any, error) {
	a, err := decode[logsArgs](args)
	if err != nil {
		return nil, err
	}
	st, ctr, err := c.container(a.Name)
	if err != nil {
		return nil, err
	}
	dir, err := st.Dir(ctr.ID)
	if err != nil {
		return nil, err
	}
	rec := records.Decode(ctr.Metadata)
	if _, err := os.Stat(filepath.Join(dir, pid1.LogName)); err != nil {
		if rec.State == records.Created {
			return nil, nil // never started: nothing to show, as docker
		}
		if rec.Spec != nil && rec.Spec.Rm {
			return nil, fmt.Errorf("%s keeps no logs: it was started with --rm", a.Name)
		}
		return nil, fmt.Errorf("%s has no logs (started with --log-driver none, or by an older den)", a.Name)
	}
	running := func() bool {
		now, err := st.FindContainer(ctr.ID)
		return err == nil && records.Decode(now.Metadata).State == records.Running
	}
	return nil, followLogs(c.ctx, dir, a.Opts, running, logOutput{os.Stdout, os.Stderr})
}

// Unshare runs a host command inside den's user namespace, where the
// store's files have the owners the container sees; like podman unshare,
// it lets a user inspect or delete what den stored.
func Unshare(g *Global, args []string) error {
	if len(args) == 0 {
		sh := os.Getenv("SHELL")
		if sh == "" {
			sh = "/bin/sh"
		}
		args = []string{sh}
	}
	return g.call("unshare", args, nil, hooks{stdin: true, terminal: true})
}

func (c *child) unshare(raw json.RawMessage) (any, error) {
	args, err := decode[[]string](raw)
	if err != nil || len(args) == 0 {
		return nil, fmt.Errorf("den unshare: no command")
	}
	// The terminal's keys reach the command itself; den waits for it.
	// Caught, not ignored: an ignored signal would stay ignored in the
	// command.
	defer ignoreTerminalKeys()()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return nil, &ExitError{Code: ctl.WaitCode(err, 125)}
	}
	return nil, err
}
