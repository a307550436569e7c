package netns

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Backends, in the order "slirp" tries them.
const (
	Pasta       = "pasta"
	Slirp4netns = "slirp4netns"
	Builtin     = "builtin"
)

// packages name where a backend's program comes from, for the error.
var packages = map[string]string{Pasta: "passt", Slirp4netns: "slirp4netns"}

// Choose resolves --network: "slirp" is the first of pasta, slirp4netns
// and the built-in stack that is available; a named program must exist.
func Choose(name string) (string, error) {
	switch name {
	case "slirp", "bridge", "default": // docker's default network's names: den's default
		for _, b := range []string{Pasta, Slirp4netns} {
			if _, err := exec.LookPath(b); err == nil {
				return b, nil
			}
		}
		return Builtin, nil
	case Pasta, Slirp4netns:
		if _, err := exec.LookPath(name); err != nil {
			return "", fmt.Errorf("--network %s: %s is not installed (apt-get install %s), or use --network builtin", name, name, packages[name])
		}
		return name, nil
	case Builtin:
		return Builtin, nil
	}
	return "", fmt.Errorf("invalid --network %q: use slirp, pasta, slirp4netns, builtin, host, none or container:NAME", name)
}

// Options start networking for the namespace of process Pid.
type Options struct {
	Backend string
	Pid     int
	Ports   []Port
	// HostLoopback lets the container reach the host's 127.0.0.1 through
	// the gateway address (--add-host NAME:host-gateway).
	HostLoopback bool
	// NetAdmin says the container holds CAP_NET_ADMIN and could undo rules
	// made inside its namespace: the host's loopback is then closed by the
	// backend itself (pasta's --no-map-gw), at the cost of ping 10.0.2.2.
	NetAdmin bool
	// ExitFD, for slirp4netns, is the read end of a pipe whose write end
	// another process holds (the container's init): slirp4netns then lives
	// as long as that process, not as long as den (no parent-death signal).
	ExitFD *os.File
	// Outlive says the network program must outlive den, tied to the
	// container instead: pasta then has no parent-death signal and exits
	// when its namespace file (NsFile in StateDir) is removed, which the
	// container's init does at its end.
	Outlive  bool
	StateDir string // the container's directory
	// SocketDir is made to hold the port forwarder's socket and removed
	// at Stop: a short path (a unix socket's is at most 108 bytes).
	SocketDir string
	Log       io.Writer // the forwarder's diagnostics (--debug)
}

// Network is a running user-mode network; Stop ends it.
type Network struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	exitW  *os.File
	stop   func()
	once   sync.Once
	opts   Options
	fwd    *forwarder
}

// tunPath is a variable so that tests can aim it at a fixture.
var tunPath = "/dev/net/tun"

// CheckTun says exactly what is wrong when /dev/net/tun is not usable,
// which every backend needs.
func CheckTun() error {
	f, err := os.OpenFile(tunPath, os.O_RDWR, 0)
	if err == nil {
		f.Close()
		return nil
	}
	if errors.Is(err, os.ErrPermission) {
		mode := ""
		if fi, err := os.Stat("/dev/net/tun"); err == nil {
			mode = fmt.Sprintf(" (mode %04o here)", fi.Mode().Perm())
		}
		return fmt.Errorf("/dev/net/tun is not usable by your user%s; as root: chmod 0666 /dev/net/tun (distributions ship it 0666; a udev rule keeps it), or use --network none|host", mode)
	}
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("/dev/net/tun does not exist; as root: modprobe tun, or use --network none|host")
	}
	return fmt.Errorf("opening /dev/net/tun: %w", err)
}

// New checks the host and the published ports and prepares what the
// container's init needs to know before the network starts (ChildHalf).
func New(o Options) (*Network, error) {
	if err := CheckTun(); err != nil {
		return nil, err
	}
	for i := range o.Ports {
		if err := o.Ports[i].Reserve(); err != nil {
			return nil, err
		}
	}
	n := &Network{opts: o}
	if len(o.Ports) > 0 && o.Backend != Pasta {
		log := o.Log
		if log == nil {
			log = io.Discard
		}
		var err error
		if n.fwd, err = newForwarder(o.SocketDir, log); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// Backend names the program (or the built-in stack) serving the network.
func (n *Network) Backend() string { return n.opts.Backend }

// Start starts the backend for the namespace and returns once the
// container's interface is configured. Stop the network even when Start
// fails.
func (n *Network) Start() error {
	o := n.opts
	var b *Network
	var err error
	switch o.Backend {
	case Pasta:
		b, err = startPasta(o)
	case Slirp4netns:
		b, err = startSlirp(o)
	case Builtin:
		b, err = startBuiltin(o)
	default:
		return fmt.Errorf("unknown network backend %q", o.Backend)
	}
	if err != nil {
		return err
	}
	n.cmd, n.stderr, n.exitW, n.stop = b.cmd, b.stderr, b.exitW, b.stop
	if o.HostLoopback || o.Backend == Builtin {
		return nil // the built-in stack closes it as it makes eth0
	}
	// Without host-gateway the gateway's address takes only ping: pasta
	// maps it to the host's loopback, and slirp4netns would reach it too.
	// The default route must exist first (slirp4netns adds it after it
	// says it is ready).
	if err := waitRoute(o.Pid, nil); err != nil {
		return fmt.Errorf("%s: %w", o.Backend, err)
	}
	var hostV6 []net.IP
	if o.Backend == Pasta {
		hostV6 = v6Gateways() // the host's, which pasta gives the container
	}
	return closeGateway(o.Pid, o.Ports, o.NetAdmin, hostV6)
}

// command prepares a backend program that dies with den (pdeathsig).
func command(prog string, args ...string) (*exec.Cmd, *syncBuffer) {
	cmd := exec.Command(prog, args...)
	errb := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = errb, errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd, errb
}

// syncBuffer collects a program's output while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (n *Network) failed(prog string, err error) error {
	out := strings.TrimSpace(n.stderr.String())
	out = strings.Join(strings.Fields(out), " ")
	if len(out) > 400 {
		out = out[:400] + "..."
	}
	return fmt.Errorf("%s failed to start: %v: %s", prog, err, out)
}

// Stop ends the backend. A program's exit tears its tap device down, which
// costs the kernel an RCU grace period (20-40 ms): den does not wait for
// that, unless ports were published, which must be free again when den
// returns (a script may publish them again at once).
func (n *Network) Stop() {
	n.once.Do(func() {
		if n.fwd != nil {
			n.fwd.stop()
		}
		if n.stop != nil {
			n.stop()
		}
		if n.exitW != nil {
			n.exitW.Close()
		}
		if n.cmd == nil || n.cmd.Process == nil {
			return
		}
		if len(n.opts.Ports) == 0 {
			_ = n.cmd.Process.Kill()
			return
		}
		done := make(chan struct{})
		go func() { _ = n.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Second):
			_ = n.cmd.Process.Kill()
			<-done
		}
	})
}

// waitRoute polls the namespace's routing table until the default route
// the backend configures appears.
func waitRoute(pid int, exited <-chan struct{}) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/route", pid))
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			if f := strings.Fields(line); len(f) > 2 && f[1] == "00000000" {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("exited")
		case <-time.After(time.Millisecond):
		}
	}
	return errors.New("no default route after 10s")
}

// Release leaves the network's program running on its own: its life is
// tied to Options.ExitFD's writer (slirp4netns) or to its namespace file
// (pasta, Options.Outlive) now. Stop does nothing after it.
func (n *Network) Release() { n.once.Do(func() {}) }
