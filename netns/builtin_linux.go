package netns

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"

	"github.com/containers/gvisor-tap-vsock/pkg/types"
	"github.com/containers/gvisor-tap-vsock/pkg/virtualnetwork"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// gatewayMAC is a locally administered address for the virtual gateway.
const gatewayMAC = "5a:94:ef:e4:0c:dd"

// startBuiltin serves the namespace with gvisor-tap-vsock's user-mode
// stack inside den itself: no program needs to be installed. rootlesskit's
// driver for it fixes the gateway at .1 and shells out to nsenter and ip,
// so den uses the stack directly: it creates the tap in the container's
// namespace from a thread that enters it, and passes frames between the
// tap and the stack over a datagram socket pair.
func startBuiltin(o Options) (*Network, error) {
	tap, err := createTap(o.Pid, !o.HostLoopback)
	if err != nil {
		return nil, err
	}
	cfg := &types.Configuration{
		MTU:               MTU,
		Subnet:            fmt.Sprintf("10.0.2.0/%d", PrefixLen),
		GatewayIP:         Gateway,
		GatewayMacAddress: gatewayMAC,
		GatewayVirtualIPs: []string{DNS},
		DHCPStaticLeases:  map[string]string{},
		NAT:               map[string]string{},
	}
	// DNS queries to 10.0.2.3 go to the host's resolver; the gateway's own
	// address reaches the host's loopback only when asked.
	if r := hostResolver(); r != "" {
		cfg.NAT[DNS] = r
	}
	if o.HostLoopback {
		cfg.NAT[Gateway] = "127.0.0.1"
	}
	vn, err := virtualnetwork.New(cfg)
	if err != nil {
		tap.Close()
		return nil, fmt.Errorf("starting the built-in network: %w", err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tap.Close()
		return nil, err
	}
	for _, fd := range fds {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	}
	stackEnd := os.NewFile(uintptr(fds[0]), "stack")
	conn, err := net.FileConn(stackEnd)
	stackEnd.Close()
	if err != nil {
		tap.Close()
		unix.Close(fds[1])
		return nil, err
	}
	tapEnd := os.NewFile(uintptr(fds[1]), "tap-end")
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = vn.AcceptVfkit(ctx, conn) }()
	go pump(tapEnd, tap)
	go pump(tap, tapEnd)
	stop := func() {
		cancel()
		conn.Close()
		tapEnd.Close()
		tap.Close()
	}
	return &Network{stop: stop}, nil
}

// pump copies frames one datagram at a time.
func pump(dst io.Writer, src io.Reader) {
	buf := make([]byte, MTU+64)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		if _, err := dst.Write(buf[:n]); err != nil && !errors.Is(err, unix.ENOBUFS) {
			return
		}
	}
}

// createTap makes eth0 in the namespace of pid, addressed and routed (and
// the gateway's own address closed unless asked), and returns its file.
// The tap is persistent, so closing it costs nothing: the kernel removes
// it with the namespace, in the background. Unregistering it at close
// held den up for an RCU grace period (about 30 ms) at every exit.
func createTap(pid int, closeGW bool) (*os.File, error) {
	f, err := inNetns(pid, true, func() (*os.File, error) {
		f, err := configureTap()
		if err == nil && closeGW {
			if err = closeGatewayHere(nil, false, nil); err != nil {
				f.Close()
			}
		}
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("setting up the built-in network's eth0: %w", err)
	}
	return f, nil
}

// inNetns runs fn on a thread inside the network namespace of pid. Den's
// user namespace does not own the host's network namespace, so that thread
// can never setns back. It must not exit either: a dying thread fires the
// parent-death signal of every child it forked (the container init, pasta;
// golang/go#27505), so it stays locked and parked for the rest of den's life.
// With leave, it moves on to a new empty namespace of its own, so that it
// does not keep the container's alive.
func inNetns(pid int, leave bool, fn func() (*os.File, error)) (*os.File, error) {
	type result struct {
		f   *os.File
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		target, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, fmt.Errorf("entering the container's network namespace: %w", err)}
			return
		}
		f, err := fn()
		if leave {
			_ = unix.Unshare(unix.CLONE_NEWNET)
		}
		ch <- result{f, err}
		select {}
	}()
	r := <-ch
	return r.f, r.err
}

func configureTap() (*os.File, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("opening /dev/net/tun: %w", err)
	}
	ifr, err := unix.NewIfreq("eth0")
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("creating the tap device: %w", err)
	}
	if err := unix.IoctlSetInt(fd, unix.TUNSETPERSIST, 1); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("making the tap device persistent: %w", err)
	}
	f := os.NewFile(uintptr(fd), "tap")
	link, err := netlink.LinkByName("eth0")
	if err == nil {
		err = netlink.LinkSetMTU(link, MTU)
	}
	if err == nil {
		var addr *netlink.Addr
		if addr, err = netlink.ParseAddr(fmt.Sprintf("%s/%d", ContainerIP, PrefixLen)); err == nil {
			err = netlink.AddrAdd(link, addr)
		}
	}
	if err == nil {
		err = netlink.LinkSetUp(link)
	}
	if err == nil {
		err = netlink.RouteAdd(&netlink.Route{LinkIndex: link.Attrs().Index, Gw: net.ParseIP(Gateway)})
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// hostResolver is the host's first nameserver, where the built-in stack
// sends the container's DNS queries.
func hostResolver() string {
	f, err := os.Open("/etc/resolv.conf")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fl := strings.Fields(sc.Text()); len(fl) >= 2 && fl[0] == "nameserver" && net.ParseIP(fl[1]).To4() != nil {
			return fl[1]
		}
	}
	return ""
}
