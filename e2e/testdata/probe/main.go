// Command probe is the e2e tests' eye inside a container.
//
//	probe                          prints its effective uid (the tests
//	                               install it setuid-root)
//	probe syscalls NAME:A0,A1 ...  makes each raw syscall (a name of this
//	                               architecture or a number) and prints
//	                               "NAME NR RESULT", RESULT ok or the errno
//	probe open FLAGS PATH ...      opens each path (FLAGS r, w, rw or c,
//	                               create) and
//	                               prints "PATH RESULT"
//	probe udpecho PORT             echoes UDP datagrams on PORT, for ever,
//	                               with the sender's address appended
//	probe ping ADDR                sends one ICMP echo from an unprivileged
//	                               ICMP socket and prints "ping ADDR RESULT"
package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Printf("euid=%d\n", os.Geteuid())
		return
	}
	switch os.Args[1] {
	case "syscalls":
		syscalls(os.Args[2:])
	case "open":
		open(os.Args[2], os.Args[3:])
	case "udpecho":
		udpEcho(os.Args[2])
	case "ping":
		fmt.Printf("ping %s %s\n", os.Args[2], result(ping(os.Args[2])))
	default:
		fmt.Fprintln(os.Stderr, "probe: unknown mode", os.Args[1])
		os.Exit(2)
	}
}

func result(err error) string {
	if err == nil {
		return "ok"
	}
	if e, ok := err.(unix.Errno); ok {
		return unix.ErrnoName(e)
	}
	return err.Error()
}

func syscalls(specs []string) {
	info, err := arch.GetInfo("")
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(2)
	}
	for _, spec := range specs {
		name, list, _ := strings.Cut(spec, ":")
		nr, ok := info.SyscallNames[name]
		if !ok {
			if nr, err = strconv.Atoi(name); err != nil {
				fmt.Printf("%s - absent\n", name)
				continue
			}
		}
		var a [6]uintptr
		for i, s := range strings.Split(list, ",") {
			if s == "" {
				continue
			}
			v, err := strconv.ParseInt(s, 0, 64)
			if err != nil {
				u, _ := strconv.ParseUint(s, 0, 64)
				v = int64(u)
			}
			a[i] = uintptr(v)
		}
		_, _, errno := unix.Syscall6(uintptr(nr), a[0], a[1], a[2], a[3], a[4], a[5])
		var callErr error
		if errno != 0 {
			callErr = errno
		}
		fmt.Printf("%s %d %s\n", spec, nr, result(callErr))
		if name == "personality" {
			unix.Syscall(unix.SYS_PERSONALITY, 0, 0, 0) // back to Linux
		}
	}
}

func open(flags string, paths []string) {
	mode := map[string]int{"r": unix.O_RDONLY, "w": unix.O_WRONLY, "rw": unix.O_RDWR, "c": unix.O_WRONLY | unix.O_CREAT}[flags]
	for _, p := range paths {
		fd, err := unix.Open(p, mode|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
		if err == nil {
			unix.Close(fd)
		}
		fmt.Printf("%s %s\n", p, result(err))
	}
}

// ping sends an echo request from an ICMP datagram socket (what
// net.ipv4.ping_group_range allows) and waits 3 s for the reply.
func ping(addr string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ip := net.ParseIP(addr).To4()
	if ip == nil {
		return fmt.Errorf("not an IPv4 address")
	}
	to := &unix.SockaddrInet4{Addr: [4]byte(ip)}
	echo := []byte{8, 0, 0, 0, 0, 0, 0, 1, 'd', 'e', 'n'} // the kernel sets id and checksum
	if err := unix.Sendto(fd, echo, 0, to); err != nil {
		return err
	}
	tv := unix.Timeval{Sec: 3}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return err
	}
	buf := make([]byte, 64)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return err
	}
	if n < 1 || buf[0] != 0 {
		return fmt.Errorf("no echo reply (type %d)", buf[0])
	}
	return nil
}

func udpEcho(port string) {
	c, err := net.ListenPacket("udp", ":"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(2)
	}
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			os.Exit(2)
		}
		_, _ = c.WriteTo(append(buf[:n], " from "+from.String()...), from)
	}
}
