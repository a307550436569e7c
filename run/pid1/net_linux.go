package pid1

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rootless-containers/rootlesskit/v3/pkg/port/builtin"

	"golang.org/x/sys/unix"
)

// loopbackUp brings up lo in the container's new network namespace, and
// lets every group of the container open ICMP echo sockets there, so that
// ping works without CAP_NET_RAW (as podman does).
func loopbackUp() error {
	if err := allowPing(); err != nil {
		return err
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bringing up lo: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("reading the flags of lo: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bringing up lo: %w", err)
	}
	return nil
}

// servePorts runs the child half of the port forwarder: for each
// connection den accepts on the host it dials the container's port here,
// inside the network namespace, and passes den the connected socket.
func servePorts(opaque map[string]string) {
	if err := builtin.NewChildDriver(io.Discard).RunChildDriver(opaque, nil, ""); err != nil {
		fmt.Fprintf(os.Stderr, "den-init: published ports stopped: %v\n", err)
	}
}

// allowPing sets net.ipv4.ping_group_range in the container's network
// namespace to every gid mapped in its user namespace: the kernel refuses
// a range with an unmapped end, so podman's "0 2147483647" fails in a
// user namespace of 65537 ids.
func allowPing() error {
	last := mappedGIDs() - 1
	if last < 0 {
		return nil
	}
	v := fmt.Sprintf("0 %d", last)
	if err := os.WriteFile("/proc/sys/net/ipv4/ping_group_range", []byte(v), 0); err != nil {
		return fmt.Errorf("setting net.ipv4.ping_group_range to %q: %w", v, err)
	}
	return nil
}

// mappedGIDs is how many gids from 0 up the user namespace maps without
// a gap.
func mappedGIDs() int64 {
	b, err := os.ReadFile("/proc/self/gid_map")
	if err != nil {
		return 0
	}
	var next int64
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var c, h, n int64
		if _, err := fmt.Sscan(line, &c, &h, &n); err == nil && c == next {
			next += n
		}
	}
	return next
}
