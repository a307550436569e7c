package run

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/overlay"
	"github.com/denproject/den/run/ctl"
	"github.com/denproject/den/run/pid1"
	"github.com/denproject/den/run/records"
	"github.com/denproject/den/run/spec"
)

// socketName, in the container's run directory, is the init's listening
// socket, which den exec dials.
const socketName = "ctl.sock"

// launch starts the container's init in new pid, mount, uts and ipc
// namespaces (and net, unless --network host; with container:NAME in that
// container's, joined), configures it over its
// control socket and waits for it, relaying the pty and signals.
func (c *child) launch(st *overlay.Store, ic *pid1.Config, sp *spec.Spec, id string, joined *os.File) (int, error) {
	conn, remote, err := ctl.Pair()
	if err != nil {
		return 125, err
	}
	defer conn.Close()
	dir, err := st.RunDir(id)
	if err != nil {
		return 125, err
	}
	ln, err := ctl.Listen(filepath.Join(dir, socketName))
	if err != nil {
		return 125, err
	}
	defer ln.Close()
	logDir, err := containerDir(st, id)
	if err != nil {
		return 125, err
	}
	defer logDir.Close()
	cmd := c.initCommand(ic, sp, remote, ln, logDir)
	alone := leavesAlone(sp)
	if alone {
		// The init outlives this den: no parent-death signal. It ends
		// itself if den goes before the command starts (its control
		// socket closes).
		cmd.SysProcAttr.Pdeathsig = 0
		exitW, err := c.tieNetwork(sp)
		if err != nil {
			return 125, err
		}
		if exitW != nil {
			defer exitW.Close()
			cmd.ExtraFiles = append(cmd.ExtraFiles, exitW) // held by the init for its life
		}
	}
	// The parent-death signal follows the forking thread, not den: keep
	// that thread ours until the init is reaped (golang/go#27505).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := enterNetwork(joined); err != nil {
		return 125, err
	}
	err = cmd.Start()
	remote.Close()
	ln.Close()
	logDir.Close()
	c.g.debugf("init started")
	if err != nil {
		return 125, fmt.Errorf("starting the container init: %w", err)
	}
	c.mu.Lock()
	c.toInit = conn
	c.mu.Unlock()
	// For den stop and den kill, from other shells.
	_ = records.WriteInitPid(dir, cmd.Process.Pid)
	if alone {
		c.noteInit(st, id, cmd.Process.Pid)
	}
	network, err := c.configure(conn, ic, sp, id, cmd.Process.Pid)
	if network != nil {
		defer network.Stop()
	}
	if err != nil {
		return c.abort(cmd, conn, id, err)
	}
	c.g.debugf("init configured")
	started, failed := c.relayInit(conn, id)
	if started {
		c.signalsTo(cmd.Process)
	}
	if alone && started && c.leave(st, id) {
		if network != nil {
			network.Release() // slirp4netns goes with the init now
		}
		return 0, errLeftRunning
	}
	if started && sp.Detach {
		ctl.Shed() // this den now only waits, and carries the network
	}
	werr := cmd.Wait()
	c.mu.Lock()
	c.init = nil // a restart's next init takes signals once it runs
	c.mu.Unlock()
	if failed != nil {
		return failed.code, failed
	}
	return ctl.WaitCode(werr, 125), nil
}

// relayInit passes the init's messages on to den until the command runs
// (Started) or the init gives up (Failed, or its end).
func (c *child) relayInit(conn *ctl.Conn, id string) (started bool, failed *codedError) {
	for {
		m, files, err := conn.Recv()
		if err != nil {
			return false, nil
		}
		switch m.Type {
		case ctl.TTY:
			_ = c.den.Send(ctl.TTY, nil, files...)
		case ctl.Started:
			_ = c.den.Send(ctl.Started, ctl.StatusBody{ID: id})
			return true, nil
		case ctl.Failed:
			var st ctl.StatusBody
			if err := m.Decode(&st); err != nil {
				return false, &codedError{code: 125, msg: err.Error()}
			}
			return false, &codedError{code: st.Code, msg: st.Msg}
		}
		ctl.CloseAll(files)
	}
}

// initCommand is the init's process: den again, in new namespaces, with
// its descriptors in ctl's order.
func (c *child) initCommand(ic *pid1.Config, sp *spec.Spec, remote, ln, logDir *os.File) *exec.Cmd {
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{"den-init"}
	// One P: the init mostly waits, and each P costs it a mark worker's
	// stack and caches (same start-up time, measured; 0.15 MB less).
	cmd.Env = []string{ctl.EnvRole + "=init", "GOMAXPROCS=1"}
	if c.g.Debug {
		cmd.Env = append(cmd.Env, ctl.EnvStart+"="+os.Getenv(ctl.EnvStart))
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if sp.Detach {
		// The init keeps the command's output in the log.
		cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	}
	cmd.ExtraFiles = []*os.File{remote, ln, logDir}                              // ctl.FD, ctl.ListenFD, ctl.LogFD
	cmd.ExtraFiles = append(cmd.ExtraFiles, c.preservedFiles(sp.PreserveFDs)...) // from ctl.InitPreserveFD on
	ic.PreserveFDs = sp.PreserveFDs
	ic.Log = sp.Log
	flags := uintptr(syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC)
	if ic.NewNet {
		flags |= syscall.CLONE_NEWNET
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags, Pdeathsig: syscall.SIGKILL}
	if ic.KeepID {
		keepIDAttr(cmd.SysProcAttr) // keepid_linux.go: a nested user namespace
	}
	return cmd
}

// containerDir opens the container's directory for the init, which keeps
// the log there.
func containerDir(st *overlay.Store, id string) (*os.File, error) {
	dir, err := st.Dir(id)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening the container's directory: %w", err)
	}
	return os.NewFile(uintptr(fd), "container-dir"), nil
}

// signalsTo sends the container's init the signals that came while it set
// up (it forwards them to the command), and later ones as they come.
func (c *child) signalsTo(init *os.Process) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init = init
	for _, sig := range c.pending {
		_ = init.Signal(sig)
	}
	c.pending = nil
}

// abort ends an init that has not all it needs: killed before that, it
// has nothing to say of its own, unless it failed on a config it had.
func (c *child) abort(cmd *exec.Cmd, conn *ctl.Conn, id string, err error) (int, error) {
	_ = cmd.Process.Kill()
	_, failed := c.relayInit(conn, id)
	_ = cmd.Wait()
	if failed != nil {
		return failed.code, failed
	}
	return 125, err
}

// preservedFiles are den run --preserve-fds's descriptors as this child
// has them, made once: each *os.File closes its descriptor when collected,
// so a second one for the same number (a restart's) would close it under
// the first, or under whatever took the number next.
func (c *child) preservedFiles(n int) []*os.File {
	for i := len(c.preserved); i < n; i++ {
		c.preserved = append(c.preserved, os.NewFile(uintptr(ctl.ChildPreserveFD+i), "preserved"))
	}
	return c.preserved[:n]
}
