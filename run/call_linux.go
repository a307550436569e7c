package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/denproject/den/pull"
	"github.com/denproject/den/run/ctl"
	"github.com/denproject/den/userns"
)

// hooks are what the den a user runs does with the child's messages
// besides waiting for the request's end.
type hooks struct {
	progress func(pull.Event)
	// tty receives the container's pty master; den sizes it before the
	// command starts.
	tty func(master *os.File)
	// started is told the container's id once its command runs; true
	// leaves the child running and ends the call (den run -d).
	started func(id string) bool
	stdin   bool // hand den's stdin to the child (through a pipe unless ctl.Passable)
	detach  bool // the child outlives this den
	// terminal leaves the child in den's process group, for commands that
	// read the terminal themselves (den unshare sh); signals from the
	// terminal then reach it directly and are not relayed.
	terminal bool
	// file is handed to the child at ctl.RequestFD.
	file *os.File
	// preserve are den run --preserve-fds's descriptors, handed to the
	// child from ctl.ChildPreserveFD on.
	preserve []*os.File
	// join is NAME of --network container:NAME: the child starts inside
	// that container's user namespace (userNS), see joinTarget.
	join   string
	userNS *os.File
}

// requestArgs is a request's body: the shared options, then the
// operation's own arguments.
type requestArgs struct {
	Global *Global         `json:"global"`
	Args   json.RawMessage `json:"args,omitempty"`
}

// call starts den in the user namespace, asks it for op with args and
// waits for the answer, decoded into result (unless nil). The child's
// failure comes back as an error with its message and exit status.
func (g *Global) call(op string, args, result any, h hooks) error {
	if err := g.fill(); err != nil {
		return err
	}
	// Signals are caught from now on, and relayed once the child can take
	// them: a SIGTERM during the start must reach the container, not end
	// den.
	var sigs chan os.Signal
	notified := make(chan struct{})
	if h.terminal {
		defer ignoreTerminalKeys()()
		close(notified)
	} else {
		// Notify takes up to a millisecond: beside the child's start.
		sigs = make(chan os.Signal, 16)
		go func() { signal.Notify(sigs, ctl.Signals...); close(notified) }()
		defer func() { <-notified; signal.Stop(sigs) }()
	}
	if h.join != "" {
		release, err := g.joinTarget(&h)
		if err != nil {
			return err
		}
		defer release()
	}
	conn, remote, err := ctl.Pair()
	if err != nil {
		return err
	}
	defer conn.Close()
	child, err := g.startChild(remote, h)
	remote.Close()
	if err != nil {
		return err
	}
	g.debugf("id maps written")
	body, err := json.Marshal(args)
	if err == nil {
		var ra []byte
		ra, err = json.Marshal(requestArgs{Global: g, Args: body})
		if err == nil {
			err = conn.Send(ctl.Request, ctl.RequestBody{Op: op, Args: ra})
		}
	}
	if err != nil {
		_ = child.Wait()
		return err
	}
	if sigs != nil {
		// After the request: the child reads that first.
		<-notified
		defer relay(sigs, conn)()
	}
	return g.answer(conn, child, result, h)
}

func (g *Global) startChild(remote *os.File, h hooks) (*userns.Child, error) {
	plan := userns.NewPlan()
	if plan.Warning != "" {
		g.warnf("%s", plan.Warning)
	}
	uo := userns.Options{Plan: plan, Args: os.Args[1:], Stdout: os.Stdout, Stderr: os.Stderr,
		ExtraFiles: []*os.File{remote}, Env: []string{ctl.EnvRole + "=child"},
		Setpgid: !h.terminal, Detach: h.detach}
	switch {
	case h.stdin && h.terminal:
		uo.Stdin = os.Stdin
	case h.stdin:
		in, handed, err := ctl.GuardInput(os.Stdin)
		if err != nil {
			return nil, err
		}
		defer handed()
		uo.Stdin = in
	}
	if h.file != nil || len(h.preserve) > 0 {
		f := h.file
		if f == nil {
			null, err := os.Open(os.DevNull)
			if err != nil {
				return nil, err
			}
			defer null.Close()
			f = null
		}
		uo.ExtraFiles = append(uo.ExtraFiles, f) // ctl.RequestFD
		uo.ExtraFiles = append(uo.ExtraFiles, h.preserve...)
	}
	if h.detach {
		null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return nil, err
		}
		defer null.Close()
		uo.Stdin, uo.Stdout, uo.Stderr = null, null, null
	}
	g.debugf("entering the user namespace")
	if h.userNS != nil {
		return userns.Join(uo, h.userNS)
	}
	return userns.Start(uo)
}

// answer handles the child's messages until its Done, or its end.
func (g *Global) answer(conn *ctl.Conn, child *userns.Child, result any, h hooks) error {
	for {
		m, files, err := conn.Recv()
		if err != nil {
			// The child died without an answer: its own status tells.
			code := ctl.WaitCode(child.Wait(), 125)
			if errors.Is(err, io.EOF) {
				return &ExitError{Code: code}
			}
			return err
		}
		switch m.Type {
		case ctl.Progress:
			var ev pull.Event
			if m.Decode(&ev) == nil && h.progress != nil {
				h.progress(ev)
			}
		case ctl.Published:
			var port string
			if m.Decode(&port) == nil {
				fmt.Fprintf(g.Stderr, "den: published %s\n", port)
			}
		case ctl.TTY:
			if len(files) > 0 && h.tty != nil {
				h.tty(files[0])
			}
			if err := conn.Send(ctl.TTYReady, nil); err != nil {
				return err
			}
		case ctl.Started:
			var st ctl.StatusBody
			if m.Decode(&st) == nil && h.started != nil && h.started(st.ID) {
				return nil // the container runs on without this den
			}
		case ctl.Exited:
			// The child cleans up on its own; commands that could see the
			// container wait for it (exiting_linux.go).
			var st ctl.StatusBody
			if err := m.Decode(&st); err != nil {
				return err
			}
			return doneError(ctl.DoneBody{Code: st.Code}, nil)
		case ctl.Done:
			var d ctl.DoneBody
			if err := m.Decode(&d); err != nil {
				return err
			}
			_ = child.Wait()
			return doneError(d, result)
		}
	}
}

// doneError turns a Done into what the CLI reports, and decodes the
// result.
func doneError(d ctl.DoneBody, result any) error {
	if d.Join != "" {
		return &joinError{target: d.Join}
	}
	if d.Error != "" {
		if d.Code != 0 {
			return &codedError{code: d.Code, msg: d.Error}
		}
		return errors.New(d.Error)
	}
	if result != nil && len(d.Result) > 0 {
		if err := json.Unmarshal(d.Result, result); err != nil {
			return fmt.Errorf("reading den's answer: %w", err)
		}
	}
	if d.Code != 0 {
		return &ExitError{Code: d.Code}
	}
	return nil
}

// relay sends what arrives on ch over conn until the returned stop.
func relay(ch chan os.Signal, conn *ctl.Conn) (stop func()) {
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-ch:
				_ = conn.Send(ctl.Signal, ctl.SignalBody{Signal: int(s.(syscall.Signal))})
			case <-done:
				return
			}
		}
	}()
	return func() { close(done) }
}

// ignoreTerminalKeys keeps Ctrl-C and Ctrl-\ from ending den while a
// command that shares its terminal gets them; until the returned stop.
func ignoreTerminalKeys() (stop func()) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGQUIT)
	return func() { signal.Stop(ch) }
}
