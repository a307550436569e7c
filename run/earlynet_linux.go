package run

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/netns"
	"github.com/denproject/den/run/spec"
)

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
// id, whose directory is dir, if it has one of its own and it has not
// started yet: as soon as the container exists, beside the mount and the
// config.
func (c *child) startNetworkEarly(sp *spec.Spec, id, dir string) {
	f := c.early
	if c.earlyNet != nil || f == nil || !sp.Network.Own() {
		return
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
