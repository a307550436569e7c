package netns

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rootless-containers/rootlesskit/v3/pkg/port"
	"github.com/rootless-containers/rootlesskit/v3/pkg/port/builtin"
)

// forwarder publishes ports with rootlesskit's builtin port driver (for
// slirp4netns and the built-in stack; pasta forwards by itself). den
// listens on the host; the driver's child half runs in the container's
// init, inside the network namespace, and hands den a socket connected to
// the container's port for every connection. No user-mode TCP stack is in
// the path, but the container sees connections from its own address:
// the client's address is not preserved.
type forwarder struct {
	parent port.ParentDriver
	dir    string
	ready  chan struct{}
	failed chan error
	quit   chan struct{}
}

func newForwarder(dir string, log io.Writer) (*forwarder, error) {
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return nil, fmt.Errorf("preparing the port forwarder: %w", err)
	}
	d, err := builtin.NewParentDriver(log, dir, false, "")
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("preparing the port forwarder: %w", err)
	}
	f := &forwarder{parent: d, dir: dir, ready: make(chan struct{}, 1), failed: make(chan error, 1), quit: make(chan struct{})}
	go func() {
		if err := d.RunParentDriver(f.ready, f.quit, nil); err != nil {
			f.failed <- err
		}
	}()
	return f, nil
}

// publish waits for the child half and listens on the host ports.
func (f *forwarder) publish(ports []Port, exited <-chan struct{}) error {
	select {
	case <-f.ready:
	case err := <-f.failed:
		return fmt.Errorf("starting the port forwarder: %w", err)
	case <-exited:
		return fmt.Errorf("starting the port forwarder: the container init exited")
	case <-time.After(10 * time.Second):
		return fmt.Errorf("starting the port forwarder: the container side did not answer in 10s")
	}
	for _, p := range ports {
		spec := port.Spec{Proto: p.Proto, ParentIP: p.HostIP, ParentPort: p.HostPort, ChildIP: ContainerIP, ChildPort: p.ContainerPort}
		if _, err := f.parent.AddPort(context.Background(), spec); err != nil {
			return portError(&p, err)
		}
	}
	return nil
}

func (f *forwarder) stop() {
	close(f.quit)
	if ports, err := f.parent.ListPorts(context.Background()); err == nil {
		for _, p := range ports {
			_ = f.parent.RemovePort(context.Background(), p.ID)
		}
	}
	os.RemoveAll(f.dir)
}

// ChildHalf is what the container's init needs to run the forwarder's
// child half (rootlesskit's builtin child driver); nil when none is needed.
func (n *Network) ChildHalf() map[string]string {
	if n == nil || n.fwd == nil {
		return nil
	}
	return n.fwd.parent.OpaqueForChild()
}

// Publish makes the published ports answer; call it once the container's
// init runs its child half. exited closes if the init dies first.
func (n *Network) Publish(exited <-chan struct{}) error {
	if n == nil || n.fwd == nil {
		return nil
	}
	return n.fwd.publish(n.opts.Ports, exited)
}
