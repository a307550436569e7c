package run

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

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
	// containermaxprocs=0: the runtime would keep the host's cgroup cpu
	// files open in the init for its life (Go 1.25+), within reach of a
	// container with SYS_PTRACE.
	cmd.Env = []string{ctl.EnvRole + "=init", "GOMAXPROCS=1", "GODEBUG=containermaxprocs=0"}
	if c.g.Debug {
		cmd.Env = append(cmd.Env, ctl.EnvStart+"="+os.Getenv(ctl.EnvStart))
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The init never holds den's terminal or a file den writes to (it is
	// within reach of a container with CAP_SYS_PTRACE, /proc/1/fd): this
	// den copies from a pipe instead, and Wait waits for the copy.
	if !ctl.Passable(os.Stdout) {
		cmd.Stdout = struct{ io.Writer }{os.Stdout}
	}
	if !ctl.Passable(os.Stderr) {
		cmd.Stderr = struct{ io.Writer }{os.Stderr}
		if sameOpenFile(os.Stdout, os.Stderr) {
			cmd.Stderr = cmd.Stdout // > f 2>&1: one pipe keeps the lines' order
		}
	}
	cmd.WaitDelay = 2 * time.Second // what a process outside the container kept open ends the copy
	if len(sp.Attach) > 0 {         // -a: a stream not named goes nowhere (the log still has it)
		if !slices.Contains(sp.Attach, "stdout") {
			cmd.Stdout = nil
		}
		if !slices.Contains(sp.Attach, "stderr") {
			cmd.Stderr = nil
		}
	}
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

// sameOpenFile says whether a and b are the same file (2>&1).
func sameOpenFile(a, b *os.File) bool {
	var sa, sb unix.Stat_t
	return unix.Fstat(int(a.Fd()), &sa) == nil && unix.Fstat(int(b.Fd()), &sb) == nil && sa.Dev == sb.Dev && sa.Ino == sb.Ino
}
