package run

import (
	"encoding/json"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/overlay"
	"github.com/denproject/den/run/records"
)

type killArgs struct {
	Names  []string `json:"names"`
	Signal int      `json:"signal"`
}

// Kill is `den kill`: the signal goes to the container's init, which
// passes it on to the command (SIGKILL ends the whole pid namespace). The
// den that runs the container then records the end and, with --rm,
// removes it, as after any exit.
func Kill(g *Global, names []string, sig unix.Signal) error {
	return g.call("kill", killArgs{Names: names, Signal: int(sig)}, nil, hooks{})
}

func (c *child) kill(args json.RawMessage) (any, error) {
	a, err := decode[killArgs](args)
	if err != nil {
		return nil, err
	}
	return nil, c.eachContainer(a.Names, func(n string, ctr *overlay.Container, r records.Record) error {
		if r.State != records.Running {
			return fmt.Errorf("%s: container is not running", n)
		}
		return c.signalInit(n, ctr.ID, r.Pid, unix.Signal(a.Signal))
	})
}

type stopArgs struct {
	Names   []string      `json:"names"`
	Timeout time.Duration `json:"timeout"`
}

// Stop is `den stop`: SIGTERM, then SIGKILL after timeout, and waits for
// the den that runs the container to finish (and clean up). A stopped
// container is not an error, as with docker.
func Stop(g *Global, names []string, timeout time.Duration) error {
	return g.call("stop", stopArgs{Names: names, Timeout: timeout}, nil, hooks{})
}

func (c *child) stop(args json.RawMessage) (any, error) {
	a, err := decode[stopArgs](args)
	if err != nil {
		return nil, err
	}
	return nil, c.eachContainer(a.Names, func(n string, ctr *overlay.Container, r records.Record) error {
		if r.State != records.Running {
			return nil
		}
		if err := c.signalInit(n, ctr.ID, r.Pid, unix.SIGTERM); err != nil {
			return err
		}
		if records.WaitGone(r.Pid, a.Timeout) {
			return nil
		}
		// The init may have ended meanwhile; only the outcome counts.
		_ = c.signalInit(n, ctr.ID, r.Pid, unix.SIGKILL)
		if !records.WaitGone(r.Pid, 10*time.Second) {
			return fmt.Errorf("%s: still running 10s after SIGKILL", n)
		}
		return nil
	})
}

// signalInit signals the container's init, whose pid the den that runs
// the container (pid) recorded in the container's run directory.
func (c *child) signalInit(name, id string, pid int, sig unix.Signal) error {
	dir, err := c.store.RunDir(id)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	init, err := records.InitOf(dir, pid)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := unix.Kill(init, sig); err != nil {
		return fmt.Errorf("%s: sending %s: %w", name, unix.SignalName(sig), err)
	}
	return nil
}

func killPid(pid int) error { return unix.Kill(pid, unix.SIGKILL) }
