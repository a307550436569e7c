package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/denproject/den/pull"
	"github.com/denproject/den/run/ctl"
	"github.com/denproject/den/run/records"
	"github.com/denproject/den/run/security"
	"github.com/denproject/den/run/spec"
	"github.com/denproject/den/userns"
)

// Create is `den create`: the container, made as den run makes it, but
// not started; it prints the id.
func Create(g *Global, sp *spec.Spec, progress func(pull.Event)) error {
	var id string
	err := g.call("create", runArgs{Spec: sp, Report: progress != nil}, &id, hooks{progress: progress})
	if err != nil {
		return err
	}
	if sp.CIDFile != "" {
		if err := os.WriteFile(sp.CIDFile, []byte(id), 0o644); err != nil {
			return fmt.Errorf("--cidfile: %w", err)
		}
	}
	fmt.Println(id)
	return nil
}

func (c *child) createOp(raw json.RawMessage) (any, error) {
	a, err := decode[runArgs](raw)
	if err != nil || a.Spec == nil {
		return nil, fmt.Errorf("den create: no spec (%v)", err)
	}
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	ctr, _, _, err := c.create(st, a.Spec, a.Report, records.Created)
	if err != nil {
		return nil, err
	}
	return ctr.ID, nil
}

type startArgs struct {
	Name        string `json:"name"`
	Attach      bool   `json:"attach,omitempty"`
	Interactive bool   `json:"interactive,omitempty"`
}

// Start is `den start`: a created or stopped container runs again with
// the same spec and its writable layer as it was. With attach, den stays
// with it as den run does and exits with its status; else it returns
// once the command runs, printing the name.
func Start(g *Global, names []string, attach, interactive bool) error {
	if attach && len(names) > 1 {
		return fmt.Errorf("den start -a takes one container")
	}
	for _, n := range names {
		h := hooks{detach: !attach, stdin: attach && interactive}
		if attach {
			t := newTerminal()
			defer t.close()
			defer t.drain()
			h.tty = func(master *os.File) { t.attach(master, interactive) }
		} else {
			h.started = func(string) bool { fmt.Println(n); return true }
		}
		err := g.call("start", startArgs{Name: n, Attach: attach, Interactive: interactive}, nil, h)
		var join *joinError
		if errors.As(err, &join) {
			// Made with --network container:NAME: its child must start
			// inside NAME's user namespace (netjoin_linux.go).
			h.join = join.target
			err = g.call("start", startArgs{Name: n, Attach: attach, Interactive: interactive}, nil, h)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *child) startOp(raw json.RawMessage) (any, error) {
	a, err := decode[startArgs](raw)
	if err != nil {
		return nil, err
	}
	st, ctr, err := c.container(a.Name)
	if err != nil {
		return nil, err
	}
	rec := records.Decode(ctr.Metadata)
	if rec.State == records.Running {
		_ = c.den.Send(ctl.Started, ctl.StatusBody{ID: ctr.ID})
		return nil, nil
	}
	if rec.Spec == nil {
		return nil, fmt.Errorf("%s was made by an older den and cannot start again: den rm %s, then den run", a.Name, a.Name)
	}
	sp := rec.Spec
	if sp.Network.Mode == spec.ModeContainer && !userns.Joined() {
		return nil, &joinError{target: sp.Network.Container}
	}
	if sp.Sandbox, err = security.Resolve(sp.Security); err != nil {
		return nil, err
	}
	sp.Detach, sp.Interactive = !a.Attach, a.Attach && a.Interactive
	cfg, err := imageConfig(st, ctr.ImageID, sp.Image)
	if err != nil {
		return nil, err
	}
	rec.State, rec.Pid, rec.StartedAt, rec.ExitCode = records.Running, os.Getpid(), time.Now(), 0
	if err := st.SetMetadata(ctr.ID, rec.Encode()); err != nil {
		return nil, err
	}
	return c.runCreated(st, ctr, &rec, cfg.Config, sp, false)
}

// Restart is `den restart`: den stop, then den start.
func Restart(g *Global, names []string, timeout *time.Duration) error {
	if err := g.call("stop", stopArgs{Names: names, Timeout: timeout, Quiet: true}, nil, hooks{}); err != nil {
		return err
	}
	return Start(g, names, false, false)
}

func init() {
	register("create", (*child).createOp)
	register("start", (*child).startOp)
}
