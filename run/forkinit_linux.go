package run

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/netns"
	"github.com/denproject/den/run/ctl"
	"github.com/denproject/den/run/pid1"
	"github.com/denproject/den/run/spec"
	"github.com/denproject/den/userns"
)

// forked is a container's init, started and waiting for its config. Its
// listening socket and the container's directory come with the config
// (ctl.ListenFD and ctl.LogFD hold the control socket until then), so
// that den run can start it before the container exists: its start, a
// second Go start, then overlaps the store's create and mount. The root
// filesystem reaches such an early init as a detached mount (rootfsTree).
type forked struct {
	cmd  *exec.Cmd
	conn *ctl.Conn
	err  error
	// ready closes once the start has returned (err says how).
	ready chan struct{}
	// release lets the forking thread go: the init's parent-death signal
	// follows that thread, not den (golang/go#27505), so it is kept until
	// the init has been reaped.
	release chan struct{}
	// early: started before the rootfs was mounted.
	early bool
}

// forkInit starts the init in new pid, mount, uts and ipc namespaces (and
// net, unless --network host; with container:NAME in that container's,
// joined), from a thread of its own.
func (c *child) forkInit(sp *spec.Spec, newNet, keepID bool, joined *os.File) *forked {
	f := &forked{ready: make(chan struct{}), release: make(chan struct{})}
	conn, remote, err := ctl.Pair()
	if err != nil {
		f.err = err
		close(f.ready)
		return f
	}
	f.conn = conn
	f.cmd = c.initCommand(sp, newNet, keepID, remote)
	var exitW *os.File
	if leavesAlone(sp) {
		// The init outlives this den: no parent-death signal. It ends
		// itself if den goes before the command starts (its control
		// socket closes).
		f.cmd.SysProcAttr.Pdeathsig = 0
		if exitW, err = c.tieNetwork(sp); err != nil {
			remote.Close()
			f.err = err
			close(f.ready)
			return f
		}
		if exitW != nil {
			f.cmd.ExtraFiles = append(f.cmd.ExtraFiles, exitW) // held by the init for its life
		}
	}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the init's life
		if f.err = enterNetwork(joined); f.err == nil {
			if f.err = f.cmd.Start(); f.err != nil {
				f.err = fmt.Errorf("starting the container init: %w", f.err)
			}
		}
		remote.Close() // the init's end is then the socket's
		if exitW != nil {
			exitW.Close()
		}
		close(f.ready)
		<-f.release
	}()
	return f
}

// wait returns once the init has started, or failed to.
func (f *forked) wait() error {
	<-f.ready
	return f.err
}

// end lets the forking thread go, killing and reaping an init that was
// never handed its container.
func (f *forked) end(unused bool) {
	if unused && f.wait() == nil {
		_ = f.cmd.Process.Kill()
		_ = f.cmd.Wait()
	}
	if f.conn != nil {
		f.conn.Close()
	}
	close(f.release)
}

// initCommand is the init's process: den again, in new namespaces, with
// its descriptors in ctl's order.
func (c *child) initCommand(sp *spec.Spec, newNet, keepID bool, remote *os.File) *exec.Cmd {
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
	// ctl.FD, then ctl.ListenFD and ctl.LogFD held by the socket until the
	// config brings them.
	cmd.ExtraFiles = []*os.File{remote, remote, remote}
	cmd.ExtraFiles = append(cmd.ExtraFiles, c.preservedFiles(sp.PreserveFDs)...) // from ctl.InitPreserveFD on
	flags := uintptr(syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC)
	if newNet {
		flags |= syscall.CLONE_NEWNET
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags, Pdeathsig: syscall.SIGKILL}
	if keepID {
		keepIDAttr(cmd.SysProcAttr) // keepid_linux.go: a nested user namespace
	}
	return cmd
}

// rootfsTree is the mounted rootfs as a detached copy, which an init
// started before the mount attaches in its own mount namespace.
func rootfsTree(rootfs string) (*os.File, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, rootfs, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("handing the root filesystem to the init (open_tree): %w", err)
	}
	return os.NewFile(uintptr(fd), "rootfs"), nil
}

// earlyInit starts den run's init before the container is created, where
// nothing the init needs at its start depends on the container: not with
// --network container:NAME, whose namespace the init is started in.
func (c *child) earlyInit(sp *spec.Spec) {
	if sp.Network.Mode == spec.ModeContainer || sp.Host.KeepID && userns.SingleID() {
		return
	}
	c.early = c.forkInit(sp, sp.Network.Mode != spec.ModeHost, sp.Host.KeepID, nil)
	c.early.early = true
}

// takeInit is the early init if there is one (a first start), else a
// new one.
func (c *child) takeInit(sp *spec.Spec, ic *pid1.Config, joined *os.File) *forked {
	if f := c.early; f != nil {
		c.early = nil
		return f
	}
	return c.forkInit(sp, ic.NewNet, ic.KeepID, joined)
}

// dropEarly ends an early init that no start took (the create failed).
func (c *child) dropEarly() {
	if c.early != nil {
		c.early.end(true)
		c.early = nil
	}
}

// earlyNet is a network started before the init was configured: pasta's
// start (5-7 ms, most of it writing its 26 MB of buffers) is then beside
// the store's work instead of on the run's path.
type earlyNet struct {
	// made closes once n (nil for none) and madeErr are set; done once
	// the network has started (startErr) or will not.
	made, done chan struct{}
	n          *netns.Network
	madeErr    error
	startErr   error
	// dir, for pasta started before the container existed, holds its
	// namespace and pid files in the runtime directory, under lock.
	dir  string
	lock *os.File
}

func newEarlyNet() *earlyNet {
	return &earlyNet{made: make(chan struct{}), done: make(chan struct{})}
}

// begin takes the network made (nil for none) and starts it in the
// background.
func (e *earlyNet) begin(n *netns.Network, err error) {
	e.n, e.madeErr = n, err
	close(e.made)
	if n == nil || err != nil {
		close(e.done)
		return
	}
	go func() {
		e.startErr = n.Start()
		close(e.done)
	}()
}

// startPastaEarly starts pasta for a foreground run as soon as the early
// init exists, before the container does. Not for a container that
// outlives den (pasta's namespace file must then be in the container's
// directory, which ends it), nor where den picks host ports or reads the
// image's (-P): those go into the record, made later.
func (c *child) startPastaEarly(sp *spec.Spec) {
	f := c.early
	if f == nil || sp.Network.Mode != netns.Pasta || leavesAlone(sp) || sp.Network.PublishAllSet {
		return
	}
	for _, p := range sp.Network.Ports {
		if p.HostPort == 0 {
			return
		}
	}
	dir, lock, err := pastaDir(filepath.Join(c.g.RunRoot, "pasta"))
	if err != nil {
		return // the network starts later, the usual way
	}
	e := newEarlyNet()
	e.dir, e.lock = dir, lock
	c.earlyNet, c.earlyPasta = e, e
	go func() {
		if err := f.wait(); err != nil {
			e.begin(nil, err)
			return
		}
		// No port to pick: c.network touches neither the record nor den's
		// connection, which the run's goroutine uses meanwhile.
		e.begin(c.network(sp, "", dir, f.cmd.Process.Pid))
	}()
}

// pastaDir makes this den's directory under root, with a lock file in it
// locked for this process's life, and first removes what early pastas of
// dens killed with SIGKILL left: directories whose lock is free (pids are
// reused, and a killed den's init may linger as a zombie). root's own lock
// keeps a sweep from removing a directory between its making and its
// locking.
func pastaDir(root string) (string, *os.File, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", nil, err
	}
	rootLock, err := os.OpenFile(filepath.Join(root, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return "", nil, err
	}
	defer rootLock.Close()
	if err := unix.Flock(int(rootLock.Fd()), unix.LOCK_EX); err != nil {
		return "", nil, err
	}
	ents, _ := os.ReadDir(root)
	for _, ent := range ents {
		if !ent.IsDir() {
			continue
		}
		dir := filepath.Join(root, ent.Name())
		if f, err := os.Open(filepath.Join(dir, "lock")); err == nil {
			if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
				_ = os.RemoveAll(dir)
			}
			f.Close()
		} else if errors.Is(err, os.ErrNotExist) {
			_ = os.RemoveAll(dir) // killed before it locked: never made under root's lock
		}
	}
	dir := filepath.Join(root, strconv.Itoa(os.Getpid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return "", nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return "", nil, err
	}
	return dir, f, nil
}

// startNetworkEarly starts the network for the early init of container
// id, if it has one of its own and it has not started yet: as soon as the
// container's directory exists, beside the mount and the config.
func (c *child) startNetworkEarly(sp *spec.Spec, id string) {
	f := c.early
	if c.earlyNet != nil || f == nil || !sp.Network.Own() {
		return
	}
	dir, err := c.store.Dir(id)
	if err != nil {
		return // the network starts later, the usual way
	}
	if f.wait() != nil {
		return
	}
	e := newEarlyNet()
	c.earlyNet = e
	// Here c.network may pick ports and write them to the record: it runs
	// on the run's goroutine, only the start beside it.
	e.begin(c.network(sp, id, dir, f.cmd.Process.Pid))
}

// takeNetwork is the network configure starts for the init: the one
// started early, or a new one. settle, which configure runs before it
// returns, waits for an early network's start: a network stopped before
// its start has ended would be left running.
func (c *child) takeNetwork(sp *spec.Spec, id string, pid int) (n *netns.Network, start func() error, settle func(), err error) {
	if e := c.earlyNet; e != nil {
		c.earlyNet = nil
		<-e.made
		settle = func() { <-e.done }
		if e.n == nil || e.madeErr != nil {
			return e.n, nil, settle, e.madeErr
		}
		return e.n, func() error { <-e.done; return e.startErr }, settle, nil
	}
	settle = func() {}
	dir, err := c.store.Dir(id)
	if err != nil {
		return nil, nil, settle, err
	}
	n, err = c.network(sp, id, dir, pid)
	if n == nil {
		return nil, nil, settle, err
	}
	return n, n.Start, settle, err
}

// dropNetwork stops an early network no configure took (the start
// failed before the init was configured).
func (c *child) dropNetwork() {
	if e := c.earlyNet; e != nil {
		c.earlyNet = nil
		<-e.done
		if e.n != nil {
			e.n.Stop()
		}
	}
}

// removePastaDir removes the files of the pasta startPastaEarly started,
// once it has been stopped.
func (c *child) removePastaDir() {
	if e := c.earlyPasta; e != nil {
		<-e.done
		_ = os.RemoveAll(e.dir)
		e.lock.Close()
	}
}
