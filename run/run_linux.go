package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/denproject/den/overlay"
	"github.com/denproject/den/pull"
	"github.com/denproject/den/run/records"
	"github.com/denproject/den/run/spec"
	"github.com/denproject/den/userns"
)

type runArgs struct {
	Spec   *spec.Spec `json:"spec"`
	Report bool       `json:"report,omitempty"` // send pull progress
}

// Run is `den run`: den in the user namespace creates and starts the
// container from the spec, while this den owns the terminal. With -d it
// returns once the command runs, and prints the container's id.
func Run(g *Global, sp *spec.Spec, progress func(pull.Event)) error {
	// With -t den feeds the pty from its stdin itself, and -d keeps none:
	// the child has none then.
	h := hooks{progress: progress, stdin: sp.Interactive && !sp.Tty && !sp.Detach, detach: sp.Detach, join: sp.Network.Container}
	for i := 0; i < sp.PreserveFDs; i++ {
		h.preserve = append(h.preserve, os.NewFile(uintptr(3+i), "preserved"))
	}
	if sp.Tty && !sp.Detach {
		t := newTerminal()
		defer t.close()
		h.tty = func(master *os.File) { t.attach(master, sp.Interactive) }
		defer t.drain()
	}
	var cidErr error
	h.started = func(id string) bool {
		if sp.CIDFile != "" {
			cidErr = os.WriteFile(sp.CIDFile, []byte(id), 0o644)
		}
		if sp.Detach {
			fmt.Println(id)
		}
		// A child that leaves the container to its init ends at once:
		// wait for it, so that it is reaped here.
		return sp.Detach && !leavesAlone(sp)
	}
	if err := g.fill(); err != nil {
		return err
	}
	g.useCompiledSeccomp(&sp.Sandbox)
	if err := g.call("run", runArgs{Spec: sp, Report: progress != nil}, nil, h); err != nil {
		return err
	}
	if cidErr != nil {
		return fmt.Errorf("--cidfile: %w", cidErr)
	}
	return nil
}

func (c *child) run(raw json.RawMessage) (any, error) {
	a, err := decode[runArgs](raw)
	if err != nil || a.Spec == nil {
		return nil, fmt.Errorf("den run: no spec (%v)", err)
	}
	c.earlyInit(a.Spec)
	defer c.dropEarly()
	c.startPastaEarly(a.Spec)
	defer c.removePastaDir()
	defer c.dropNetwork()
	if a.Spec.Name != "" {
		c.g.awaitExiting(c.ctx) // the name may be an ended --rm container's
	}
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	c.g.debugf("store open")
	ctr, rec, cfg, err := c.create(st, a.Spec, a.Report, records.Running)
	if err != nil {
		return nil, err
	}
	return c.runCreated(st, ctr, rec, cfg, a.Spec, true)
}

// create makes the container's layer and record, in state (Running for
// den run, which starts it at once; Created for den create).
func (c *child) create(st *overlay.Store, sp *spec.Spec, report bool, state records.State) (*overlay.Container, *records.Record, v1.Config, error) {
	imageID, cfg, err := c.imageForRun(st, sp, report)
	if err != nil {
		return nil, nil, cfg, err
	}
	argv, err := command(cfg, sp)
	if err != nil {
		return nil, nil, cfg, err
	}
	now := time.Now()
	recSpec := sp
	if sp.Rm && !sp.Detach {
		// A throwaway container is never started again: its record stays
		// small, which keeps the store's bookkeeping off the run's time.
		recSpec = &spec.Spec{Image: sp.Image, Name: sp.Name, Rm: true, Network: spec.Network{Mode: sp.Network.Mode}}
	}
	rec := &records.Record{Image: sp.Image, Args: argv, Created: now, State: state, Spec: recSpec, Ports: sp.Network.Ports}
	if state == records.Running {
		rec.StartedAt, rec.Pid = now, os.Getpid()
	}
	if sp.Name != "" {
		// An ended --rm container of that name, whose init ran alone,
		// goes now, as its den would have removed it.
		if old, err := st.FindContainer(sp.Name); err == nil {
			c.settle(st, old)
		}
	}
	if sp.Host.KeepID && !userns.SingleID() {
		// The image's shifted copy, made once (keepid_linux.go); the
		// record says so with the container's creation, not after it.
		if imageID, err = c.keepIDImage(st, imageID); err != nil {
			return nil, nil, cfg, err
		}
		rec.Shifted = true
	}
	ctr, err := st.CreateContainer(sp.Name, imageID, rec.Encode(), sp.Rm)
	if err != nil {
		return nil, nil, cfg, c.diskFullSaying(err, "den prune -a removes what no container uses")
	}

	c.g.debugf("container %s created", ctr.ID[:12])
	return ctr, rec, cfg, nil
}

// runCreated runs a created (or stopped) container until its command
// exits, then records the exit or, with --rm, removes it. A new container
// den failed to start is not kept, --rm or not.
func (c *child) runCreated(st *overlay.Store, ctr *overlay.Container, rec *records.Record, cfg v1.Config, sp *spec.Spec, fresh bool) (any, error) {
	c.rec = rec
	code, err := c.startAndRestart(st, ctr, rec, cfg, sp)
	if errors.Is(err, errLeftRunning) {
		return nil, nil // its init runs on alone
	}
	c.g.debugf("container exited with %d", code)
	defer c.g.debugf("cleaned up")
	if err == nil && !sp.Detach {
		c.reportExit(ctr.ID, code)
	}
	if sp.Rm && err == nil && (sp.Detach || sp.Name != "") {
		c.recordRemovedExit(ctr.ID, code)
	}
	removed, startErr := false, err
	if sp.Rm || err != nil && fresh {
		rmErr := c.removeContainer(ctr)
		if removed = rmErr == nil; !removed && err == nil {
			err = rmErr
		}
	}
	if !removed {
		// Kept, or left by a removal that failed (a full disk): the
		// record says how it ended, not that its den was killed (137).
		// The mount went with the namespace; the store's count must follow.
		_ = st.Unmount(ctr.ID)
		rec.State, rec.ExitCode, rec.Pid, rec.FinishedAt = records.Exited, code, 0, time.Now()
		if startErr != nil {
			rec.ExitCode = 125
		}
		_ = st.SetMetadata(ctr.ID, rec.Encode())
	}
	if err != nil {
		return nil, err
	}
	return nil, &ExitError{Code: code}
}

// startAndRestart runs the container, and again as its --restart policy
// says, for as long as this den lives; den stop and den kill end that.
func (c *child) startAndRestart(st *overlay.Store, ctr *overlay.Container, rec *records.Record, cfg v1.Config, sp *spec.Spec) (int, error) {
	dir, _ := st.Dir(ctr.ID)
	records.ClearStopped(dir)
	if rec.InitPid != 0 || rec.ExitFile != "" {
		// An earlier start's init that ran alone: this start notes its own.
		rec.InitPid, rec.InitStart, rec.ExitFile = 0, 0, ""
		_ = st.SetMetadata(ctr.ID, rec.Encode())
	}
	var wait time.Duration
	for retries := 0; ; retries++ {
		t0 := time.Now()
		code, err := c.start(st, ctr.ID, cfg, rec.Args, sp, rec)
		if err != nil || !sp.Restart.Again(code, retries) || records.Stopped(dir) || c.ctx.Err() != nil {
			return code, err
		}
		_ = st.Unmount(ctr.ID) // each start mounts again
		wait = sp.Restart.Backoff(wait, time.Since(t0))
		// The back-off ends early for den stop, which marks the container.
		for t := time.Now(); time.Since(t) < wait && !records.Stopped(dir) && c.ctx.Err() == nil; {
			time.Sleep(50 * time.Millisecond)
		}
		if records.Stopped(dir) || c.ctx.Err() != nil {
			return code, nil
		}
		rec.RestartCount, rec.StartedAt = retries+1, time.Now()
		_ = st.SetMetadata(ctr.ID, rec.Encode())
	}
}

// imageForRun finds the image, pulling it as --pull says, and reads its
// config.
func (c *child) imageForRun(st *overlay.Store, sp *spec.Spec, report bool) (string, v1.Config, error) {
	id := ""
	if sp.Pull != spec.PullAlways {
		if im, err := findImage(st, sp.Image); err == nil {
			id = im.ID
		} else if sp.Pull == spec.PullNever {
			return "", v1.Config{}, fmt.Errorf("%s: no such image in the store and --pull=never (den pull %s first)", sp.Image, sp.Image)
		}
	}
	if id == "" {
		ref, err := pull.ParseRef(sp.Image, sp.Insecure)
		if err != nil {
			return "", v1.Config{}, err
		}
		plat, err := pull.ParsePlatform(sp.Platform)
		if err != nil {
			return "", v1.Config{}, err
		}
		img, err := c.pullOne(st, ref, plat, PullOptions{Report: report})
		if err != nil {
			return "", v1.Config{}, err
		}
		id = img.ID
	}
	cfg, err := imageConfig(st, id, sp.Image)
	if err != nil {
		return "", v1.Config{}, err
	}
	return id, cfg.Config, nil
}

// command joins entrypoint and cmd as docker does: arguments after the
// image replace Cmd; --entrypoint replaces Entrypoint and drops Cmd.
func command(cfg v1.Config, sp *spec.Spec) ([]string, error) {
	entry, cmd := cfg.Entrypoint, cfg.Cmd
	if sp.Entrypoint != nil {
		entry, cmd = *sp.Entrypoint, nil
	}
	if len(sp.Args) > 0 {
		cmd = sp.Args
	}
	args := append(append([]string{}, entry...), cmd...)
	if len(args) == 0 {
		return nil, fmt.Errorf("%s: no command given and the image has none (add one after the image name)", sp.Image)
	}
	return args, nil
}
