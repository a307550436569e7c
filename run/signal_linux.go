package run

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/moby/sys/signal"
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
		return c.signalInit(n, ctr.ID, &r, unix.Signal(a.Signal), false)
	})
}

type stopArgs struct {
	Names []string `json:"names"`
	// Timeout overrides the container's --stop-timeout; Signal its
	// --stop-signal and the image's StopSignal.
	Timeout *time.Duration `json:"timeout,omitempty"`
	Signal  string         `json:"signal,omitempty"`
	Quiet   bool           `json:"quiet,omitempty"` // den restart prints names once
}

// Stop is `den stop`: the container's stop signal (--stop-signal, else
// the image's StopSignal, else SIGTERM), then SIGKILL after its stop
// timeout, and waits for the den that runs the container to finish (and
// clean up). A stopped container is not an error, as with docker. A nil
// timeout or empty signal leaves the container's own.
func Stop(g *Global, names []string, timeout *time.Duration, sig string) error {
	return g.call("stop", stopArgs{Names: names, Timeout: timeout, Signal: sig}, nil, hooks{})
}

func (c *child) stop(args json.RawMessage) (any, error) {
	a, err := decode[stopArgs](args)
	if err != nil {
		return nil, err
	}
	each := c.eachContainer
	if a.Quiet {
		each = c.eachContainerQuiet
	}
	return nil, each(a.Names, func(n string, ctr *overlay.Container, r records.Record) error {
		if r.State != records.Running {
			return nil
		}
		sig, timeout := c.stopSettings(ctr, &r, a)
		if err := c.signalInit(n, ctr.ID, &r, sig, true); err != nil {
			return err
		}
		if timeout < 0 {
			timeout = 100 * 365 * 24 * time.Hour
		}
		if !r.WaitEnd(timeout) {
			// The init may have ended meanwhile; only the outcome counts.
			_ = c.signalInit(n, ctr.ID, &r, unix.SIGKILL, true)
			if !r.WaitEnd(10 * time.Second) {
				return fmt.Errorf("%s: still running 10s after SIGKILL", n)
			}
		}
		if now, err := c.store.FindContainer(ctr.ID); err == nil && r.Alone() {
			// No den of its own records the end: this one does, and ends
			// its pasta if the init was killed before it could (read
			// again: another den may have started it meanwhile).
			c.settle(c.store, now)
		}
		return nil
	})
}

// stopSettings picks the signal and the grace period of den stop.
func (c *child) stopSettings(ctr *overlay.Container, r *records.Record, a stopArgs) (unix.Signal, time.Duration) {
	name, timeout := a.Signal, 10*time.Second
	if r.Spec != nil {
		if name == "" {
			name = r.Spec.StopSignal
		}
		if r.Spec.StopTimeout != nil {
			timeout = time.Duration(*r.Spec.StopTimeout) * time.Second
		}
	}
	if a.Timeout != nil {
		timeout = *a.Timeout
	}
	if name == "" {
		if cfg, err := imageConfig(c.store, ctr.ImageID, ""); err == nil {
			name = cfg.Config.StopSignal
		}
	}
	sig := unix.SIGTERM
	if name != "" {
		if s, err := signal.ParseSignal(name); err == nil && s != 0 {
			sig = s
		}
	}
	return sig, timeout
}

// signalInit signals the container's init, whose pid the den that runs
// the container (pid) recorded in the container's run directory.
func (c *child) signalInit(name, id string, r *records.Record, sig unix.Signal, stopping bool) error {
	dir, err := c.store.RunDir(id)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	ctrDir, err := c.store.Dir(id)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	init, err := r.Init(dir)
	if err != nil && stopping && r.Pid > 0 && records.Alive(r.Pid) {
		// Between two starts of --restart: no init, but its den waits to
		// start the next; the mark ends that.
		records.MarkStopped(ctrDir)
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if sig == unix.SIGKILL || sig == unix.SIGTERM || stopping {
		// The user ended it: its restart policy, applied by its den or by
		// its init, must not start it again.
		records.MarkStopped(ctrDir)
	}
	if err := unix.Kill(init, sig); err != nil {
		return fmt.Errorf("%s: sending %s: %w", name, unix.SignalName(sig), err)
	}
	return nil
}

// killNow ends a running container at once: its den, whose init dies
// with it, and an init started to run alone, which outlives its den (and
// is one before that den has handed it over: killed then, it left both in
// the record, and den rm -f removed a container whose command ran on).
func (c *child) killNow(ctr *overlay.Container, r *records.Record) {
	if r.Pid > 0 && records.Alive(r.Pid) {
		_ = unix.Kill(r.Pid, unix.SIGKILL)
	}
	if r.InitPid > 0 && records.StartTime(r.InitPid) == r.InitStart {
		_ = unix.Kill(r.InitPid, unix.SIGKILL)
	}
	r.WaitEnd(5 * time.Second)
}
