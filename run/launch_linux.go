package run

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

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

// launch starts the container's init (or takes the one den run started
// early, forkinit_linux.go), configures it over its control socket and
// waits for it, relaying the pty and signals.
func (c *child) launch(st *overlay.Store, ic *pid1.Config, sp *spec.Spec, id string, joined *os.File) (int, error) {
	f := c.takeInit(sp, ic, joined)
	handed := false // to the command, or to itself (alone)
	defer func() { f.end(!handed) }()
	dir, err := st.RunDir(id)
	if err != nil {
		return 125, err
	}
	files, err := c.initFiles(st, id, dir, ic, f.early)
	defer func() { ctl.CloseAll(files) }()
	if err != nil {
		return 125, err
	}
	if err := f.wait(); err != nil {
		return 125, err
	}
	c.g.debugf("init started")
	cmd, conn := f.cmd, f.conn
	c.mu.Lock()
	c.toInit = conn
	c.mu.Unlock()
	// For den stop and den kill, from other shells.
	_ = records.WriteInitPid(dir, cmd.Process.Pid)
	alone := leavesAlone(sp)
	if alone {
		c.noteInit(st, id, cmd.Process.Pid)
	}
	ic.PreserveFDs = sp.PreserveFDs
	ic.Log = sp.Log
	network, err := c.configure(conn, ic, sp, id, cmd.Process.Pid, &files)
	ctl.CloseAll(files)
	files = nil
	if network != nil {
		defer network.Stop()
	}
	handed = true // abort and Wait reap it from here on
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

// initFiles are what the config brings the init: its listening socket,
// bound in the container's run directory (runDir), which den exec dials;
// the container's directory, for its log; and for an init started before
// the mount, the root filesystem.
func (c *child) initFiles(st *overlay.Store, id, runDir string, ic *pid1.Config, early bool) ([]*os.File, error) {
	ln, err := ctl.Listen(filepath.Join(runDir, socketName))
	if err != nil {
		return nil, err
	}
	logDir, err := containerDir(st, id)
	if err != nil {
		ln.Close()
		return nil, err
	}
	files := []*os.File{ln, logDir}
	ic.Passed = []string{pid1.PassListen, pid1.PassDir}
	if early {
		tree, err := rootfsTree(ic.Rootfs)
		if err != nil {
			ctl.CloseAll(files)
			return nil, err
		}
		files = append(files, tree)
		ic.Passed = append(ic.Passed, pid1.PassRootfs)
	}
	return files, nil
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

// containerDir opens the container's directory for the init, which keeps
// the log there.
func containerDir(st *overlay.Store, id string) (*os.File, error) {
	dir, err := st.Dir(id)
	if err != nil {
		return nil, err
	}
	// A detached clone of the directory's mount, not the directory: the
	// init holds it for its life, and a container with CAP_SYS_PTRACE
	// reaches the init's descriptors (/proc/1/fd); from a plain one, ".."
	// would walk up to the host's root. A detached mount's root has no
	// parent to walk to.
	fd, err := unix.OpenTree(unix.AT_FDCWD, dir, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
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
