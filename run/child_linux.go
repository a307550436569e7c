package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"

	"github.com/denproject/den/overlay"
	"github.com/denproject/den/pull"
	"github.com/denproject/den/run/ctl"
	"github.com/denproject/den/run/records"
	"github.com/denproject/den/userns"
)

// IsChild reports whether this process is den in the user namespace,
// started to serve one request.
func IsChild() bool { return os.Getenv(ctl.EnvRole) == "child" }

// child is den in the user namespace, serving one request.
type child struct {
	g      *Global
	den    *ctl.Conn // to the den the user ran
	ctx    context.Context
	cancel context.CancelFunc
	store  *overlay.Store

	mu sync.Mutex
	// init is the container's init once its command runs: only then has
	// it its signal handlers (before, a signal is lost, or ends it).
	init *os.Process
	// toInit is the init's control socket: den's TTYReady goes on to it.
	toInit *ctl.Conn
	// pending are signals that came before the init: it gets them first.
	pending []syscall.Signal
	// rec is the record of the container this child runs.
	rec *records.Record
	// exitR is slirp4netns's exit pipe when the init holds its other end.
	exitR *os.File
	// exiting is locked while this child cleans up after it reported the
	// container's exit (exiting_linux.go).
	exiting     *os.File
	exitingPath string
	// preserved are den run --preserve-fds's descriptors (preservedFiles).
	preserved []*os.File
	// early is den run's init, started before the container is created
	// (forkinit_linux.go), until a start takes it.
	early    *forked
	earlyNet *earlyNet
	// earlyPasta is the network startPastaEarly started, kept for the
	// removal of its files at the end.
	earlyPasta *earlyNet
}

// operation serves one request; its result goes back to den.
type operation func(c *child, args json.RawMessage) (any, error)

// operations are registered by the init of the file that defines each:
// a new request is a new file.
var operations = map[string]operation{}

func register(name string, op operation) { operations[name] = op }

func init() {
	if IsChild() {
		// main runs on the process's first thread, the only one whose
		// parent-death signal is set: reportExit clears it from there.
		runtime.LockOSThread()
	}
	register("run", (*child).run)
	register("pull", (*child).pull)
	register("load", (*child).load)
	register("images", (*child).images)
	register("rmi", (*child).rmi)
	register("ps", (*child).ps)
	register("rm", (*child).rm)
	register("kill", (*child).kill)
	register("stop", (*child).stop)
	register("inspect", (*child).inspect)
	register("logs", (*child).logs)
	register("prune", (*child).prune)
	register("unshare", (*child).unshare)
}

// ChildMain serves the request on the control socket and returns the
// process's exit status.
func ChildMain() int {
	os.Unsetenv(ctl.EnvRole) // not for what den runs in the namespace
	// The child copies the container's output to den's terminal from a
	// process group of its own: with stty tostop a write from there
	// would stop it, unless SIGTTOU is ignored.
	signal.Ignore(syscall.SIGTTOU)
	conn := ctl.Inherited()
	var req ctl.RequestBody
	var ra requestArgs
	_, err := conn.Expect(ctl.Request, &req)
	if err == nil {
		err = json.Unmarshal(req.Args, &ra)
	}
	op := operations[req.Op]
	if err == nil && (ra.Global == nil || op == nil) {
		err = fmt.Errorf("den: unknown request %q", req.Op)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "den:", err)
		return 125
	}
	c := &child{g: ra.Global, den: conn}
	c.g.Stderr = os.Stderr
	c.g.quietLibraries()
	c.ctx, c.cancel = context.WithCancel(context.Background())
	defer c.cancel()
	go c.listen()
	if !seesNoExiting[req.Op] {
		c.g.awaitExiting(c.ctx)
	}
	result, err := op(c, ra.Args)
	if c.store != nil {
		c.store.Close()
	}
	_ = conn.Send(ctl.Done, done(result, err))
	c.cleanedUp()
	return 0
}

// done is an operation's outcome as a Done message.
func done(result any, err error) ctl.DoneBody {
	var d ctl.DoneBody
	var ee *ExitError
	var coded interface{ ExitCode() int }
	var join *joinError
	switch {
	case errors.As(err, &join):
		d.Error, d.Join = err.Error(), join.target
	case errors.As(err, &ee):
		d.Code = ee.Code
	case errors.As(err, &coded):
		d.Code, d.Error = coded.ExitCode(), err.Error()
	case err != nil:
		d.Error = err.Error()
	}
	if result != nil && err == nil {
		d.Result, _ = json.Marshal(result)
	}
	return d
}

// listen handles den's messages: signals go to the container's init, or
// stop what the child is doing; TTYReady goes on to the init.
func (c *child) listen() {
	for {
		m, files, err := c.den.Recv()
		ctl.CloseAll(files)
		if err != nil {
			return // den is gone: killed (then so are we) or detached
		}
		c.mu.Lock()
		toInit := c.toInit
		c.mu.Unlock()
		switch m.Type {
		case ctl.Signal:
			var s ctl.SignalBody
			if m.Decode(&s) != nil {
				continue
			}
			sig := syscall.Signal(s.Signal)
			c.mu.Lock()
			init := c.init
			if init == nil {
				c.pending = append(c.pending, sig)
			}
			c.mu.Unlock()
			if init != nil {
				_ = init.Signal(sig)
			} else if sig == syscall.SIGINT || sig == syscall.SIGTERM {
				c.cancel() // a pull stops; a container not yet started gets it first
			}
		case ctl.TTYReady:
			if toInit != nil {
				_ = toInit.Send(ctl.TTYReady, nil)
			}
		}
	}
}

// open opens the store; every operation but unshare needs it.
func (c *child) open() (*overlay.Store, error) {
	if c.store != nil {
		return c.store, nil
	}
	c.g.debugf("opening the store")
	st, err := overlay.Open(overlay.Options{
		Root:         c.g.Root,
		RunRoot:      c.g.RunRoot,
		SingleID:     userns.SingleID(),
		IDs:          userns.MappedIDs(),
		MaxLayerSize: c.g.MaxLayerSize,
		Debugf:       c.g.debugf,
	})
	if err != nil {
		return nil, err
	}
	c.store = st
	return st, nil
}

// container opens the store and finds the named container.
func (c *child) container(name string) (*overlay.Store, *overlay.Container, error) {
	st, err := c.open()
	if err != nil {
		return nil, nil, err
	}
	ctr, err := st.FindContainer(name)
	return st, ctr, err
}

// progress sends a pull's events to den, which draws them.
func (c *child) progress(ev pull.Event) { _ = c.den.Send(ctl.Progress, ev) }

func decode[T any](args json.RawMessage) (T, error) {
	var v T
	if len(args) == 0 {
		return v, nil
	}
	if err := json.Unmarshal(args, &v); err != nil {
		return v, fmt.Errorf("reading the request: %w", err)
	}
	return v, nil
}
