package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/denproject/den/overlay"
	"github.com/denproject/den/run/ctl"
	"github.com/denproject/den/run/records"
)

type logsArgs struct {
	Name   string `json:"name"`
	Follow bool   `json:"follow,omitempty"`
}

// Logs is `den logs`: what a detached container wrote (stdout and stderr
// together, in order); with follow, until the container stops.
func Logs(g *Global, name string, follow bool) error {
	return g.call("logs", logsArgs{Name: name, Follow: follow}, nil, hooks{})
}

// logFile is where a detached container's output goes.
func logFile(st *overlay.Store, id string) (string, error) {
	dir, err := st.Dir(id)
	if err != nil {
		return "", err
	}
	return dir + "/ctr.log", nil
}

func (c *child) logs(args json.RawMessage) (any, error) {
	a, err := decode[logsArgs](args)
	if err != nil {
		return nil, err
	}
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	ctr, err := st.FindContainer(a.Name)
	if err != nil {
		return nil, err
	}
	path, err := logFile(st, ctr.ID)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s has no logs: den keeps the output of containers started with -d", a.Name)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	for {
		if _, err := io.Copy(os.Stdout, f); err != nil {
			return nil, err
		}
		if !a.Follow || c.ctx.Err() != nil {
			return nil, nil
		}
		now, err := st.FindContainer(ctr.ID)
		if err != nil || records.Decode(now.Metadata).State != records.Running {
			_, err := io.Copy(os.Stdout, f) // what came before the end
			return nil, err
		}
		time.Sleep(100 * time.Millisecond)
	}
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
