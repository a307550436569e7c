package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
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
	// Join, on the second ask from inside a container's user namespace,
	// is the container the first child found the record joins.
	Join string `json:"join,omitempty"`
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
		if h.stdin && !ctl.Passable(os.Stdin) && hasTTY(g, n) { // asked only where a pipe would be made
			h.stdin = false // den feeds its pty from stdin itself
		}
		if attach {
			t := newTerminal()
			defer t.close()
			defer t.drain()
			h.tty = func(master *os.File) { t.attach(master, interactive) }
		} else {
			h.started = func(string) bool { fmt.Println(n); return true }
		}
		if err := startOne(g, startArgs{Name: n, Attach: attach, Interactive: interactive}, h); err != nil {
			return err
		}
	}
	return nil
}

// startOne asks den's child to start a container; one made with --network
// container:NAME must start inside NAME's user namespace, which the first
// child, in its own, says (netjoin_linux.go): den asks again from there.
// Ctrl-C or SIGTERM during the first ask, which the first child took as
// meant for a container not yet started, ends den instead.
func startOne(g *Global, a startArgs, h hooks) error {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(stop)
	err := g.call("start", a, nil, h)
	var join *joinError
	if !errors.As(err, &join) {
		return err
	}
	select {
	case s := <-stop:
		return &ExitError{Code: 128 + int(s.(syscall.Signal))}
	default:
	}
	h.join, a.Join = join.target, join.target
	return g.call("start", a, nil, h)
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
	if userns.Joined() && sp.Network.Container != a.Join {
		return nil, fmt.Errorf("%s was removed or made again while den started it; start it again", a.Name)
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

// Restart is `den restart`: den stop, then den start, one container after
// the other as docker does (a container joined to another's network
// after that one), going on past a failure; the failures are reported at
// the end.
func Restart(g *Global, names []string, timeout *time.Duration) error {
	var errs []error
	for _, n := range names {
		err := g.call("stop", stopArgs{Names: []string{n}, Timeout: timeout, Quiet: true}, nil, hooks{})
		if err == nil {
			err = Start(g, []string{n}, false, false)
		}
		var exit *ExitError
		if errors.As(err, &exit) {
			return err // interrupted
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func init() {
	register("create", (*child).createOp)
	register("start", (*child).startOp)
}

// hasTTY says whether the container was made with -t (den start -ai
// then relays stdin to its pty; else the child gets stdin through a pipe).
func hasTTY(g *Global, name string) bool {
	items, err := Inspect(g, []string{name}, TypeContainer)
	if err != nil || len(items) != 1 {
		return false
	}
	var c struct{ Config struct{ Tty bool } }
	return json.Unmarshal(items[0], &c) == nil && c.Config.Tty
}
