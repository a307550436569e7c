package run

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/run/ctl"
	"github.com/denproject/den/run/pid1"
	"github.com/denproject/den/run/spec"
	"github.com/denproject/den/userns"
)

// joinTarget prepares h for --network container:NAME. The other
// container's network namespace belongs to the user namespace of the den
// that started it, and only a process inside that user namespace may
// enter it (see userns.Join): this den, their owner, opens both
// namespaces of the container's init, starts its child inside the user
// namespace and hands it the network namespace at ctl.RequestFD.
func (g *Global) joinTarget(h *hooks) (release func(), err error) {
	var init int
	if err := g.call("top", h.join, &init, hooks{}); err != nil {
		return nil, fmt.Errorf("--network container:%s: %w", h.join, err)
	}
	if init == 0 {
		return nil, fmt.Errorf("--network container:%s: the container is not running; start it first (den start %s)", h.join, h.join)
	}
	user, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", init))
	if err != nil {
		return nil, fmt.Errorf("--network container:%s: the container stopped (%v); start it again", h.join, err)
	}
	net, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", init))
	if err != nil {
		user.Close()
		return nil, fmt.Errorf("--network container:%s: the container stopped (%v); start it again", h.join, err)
	}
	h.file, h.userNS = net, user
	return func() { user.Close(); net.Close() }, nil
}

// joinedNetwork is the child's side of --network container:NAME: the
// network namespace den handed over, checked to still be the running
// container's, and that container's hostname and /etc files, which the
// new container shares as in docker.
func (c *child) joinedNetwork(n spec.Network) (net *os.File, hostname string, files []pid1.Bind, err error) {
	if !userns.Joined() {
		return nil, "", nil, &joinError{target: n.Container}
	}
	id, init, err := c.containerInit(n.Container)
	if err != nil {
		return nil, "", nil, err
	}
	own, _ := os.Readlink("/proc/self/ns/user")
	theirs, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", init))
	if init == 0 || own != theirs {
		return nil, "", nil, fmt.Errorf("--network container:%s: the container stopped or restarted meanwhile; run again", n.Container)
	}
	st, err := c.open()
	if err != nil {
		return nil, "", nil, err
	}
	dir, err := st.Dir(id)
	if err != nil {
		return nil, "", nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "hostname"))
	if err != nil {
		return nil, "", nil, fmt.Errorf("--network container:%s: reading its hostname: %w", n.Container, err)
	}
	for _, name := range []string{"hostname", "hosts", "resolv.conf"} {
		files = append(files, pid1.Bind{Source: filepath.Join(dir, name), Dest: "/etc/" + name})
	}
	return joinedNS(), strings.TrimSpace(string(b)), files, nil
}

// joinError says a request must be made again inside the user namespace
// of the container target, whose network namespace the container joins
// (den start of a container created with --network container:NAME).
type joinError struct{ target string }

func (e *joinError) Error() string {
	return fmt.Sprintf("--network container:%s: den must start this container inside %s's user namespace", e.target, e.target)
}

// joinedNS is the network namespace den handed over, kept open for every
// start of the container (--restart).
var joinedNS = sync.OnceValue(func() *os.File {
	unix.CloseOnExec(ctl.RequestFD)
	return os.NewFile(ctl.RequestFD, "joined-netns")
})

// enterNetwork moves the calling thread, which launch keeps for the init,
// into the joined network namespace, so that the init is cloned in it.
// The thread can never come back (den's own network namespace belongs to
// the host's user namespace), so it stays locked to this goroutine.
func enterNetwork(net *os.File) error {
	if net == nil {
		return nil
	}
	runtime.LockOSThread()
	if err := unix.Setns(int(net.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("entering the other container's network namespace: %w", err)
	}
	return nil
}
