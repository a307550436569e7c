package pid1

import (
	"fmt"
	"io"
	"os"

	"github.com/rootless-containers/rootlesskit/v3/pkg/port/builtin"

	"golang.org/x/sys/unix"
)

// loopbackUp brings up lo in the container's new network namespace.
func loopbackUp() error {
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
