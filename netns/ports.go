// Package netns gives a container's network namespace user-mode
// networking: pasta, slirp4netns or a pure-Go stack, with the same
// addresses whichever serves it, and published ports.
package netns

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
)

// The container's addressing, the same for every backend.
const (
	ContainerIP = "10.0.2.100"
	Gateway     = "10.0.2.2"
	DNS         = "10.0.2.3"
	PrefixLen   = 24
	MTU         = 65520
)

// Port is one -p mapping.
type Port struct {
	HostIP        string // "" means every host address, as docker does
	HostPort      int    // 0 until Reserve picks one for "-p CONTAINERPORT"
	ContainerPort int
	Proto         string // tcp or udp
}

func (p Port) String() string {
	ip := p.HostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	return fmt.Sprintf("%s:%d->%d/%s", ip, p.HostPort, p.ContainerPort, p.Proto)
}

// ParsePublish reads docker's -p: [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp]
// or CONTAINERPORT[/proto] (a random host port).
func ParsePublish(spec string) (Port, error) {
	bad := func(why string) (Port, error) {
		return Port{}, fmt.Errorf("invalid -p %q: %s (use [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp])", spec, why)
	}
	p := Port{Proto: "tcp"}
	rest := spec
	if i := strings.LastIndex(spec, "/"); i >= 0 {
		rest, p.Proto = spec[:i], strings.ToLower(spec[i+1:])
		if p.Proto != "tcp" && p.Proto != "udp" {
			return bad("protocol must be tcp or udp")
		}
	}
	parts := strings.Split(rest, ":")
	if strings.HasPrefix(rest, "[") { // [::1]:8080:80
		end := strings.Index(rest, "]")
		if end < 0 {
			return bad("unclosed [")
		}
		p.HostIP = rest[1:end]
		parts = append([]string{""}, strings.Split(strings.TrimPrefix(rest[end+1:], ":"), ":")...)
	}
	var host, ctr string
	switch len(parts) {
	case 1:
		ctr = parts[0]
	case 2:
		host, ctr = parts[0], parts[1]
	case 3:
		if p.HostIP == "" {
			p.HostIP = parts[0]
		}
		host, ctr = parts[1], parts[2]
	default:
		return bad("too many colons")
	}
	if p.HostIP != "" && net.ParseIP(p.HostIP) == nil {
		return bad("host address is not an IP")
	}
	var err error
	if p.ContainerPort, err = portNumber(ctr); err != nil || p.ContainerPort == 0 {
		return bad("container port must be 1-65535")
	}
	if host != "" {
		if p.HostPort, err = portNumber(host); err != nil || p.HostPort == 0 {
			return bad("host port must be 1-65535")
		}
	}
	return p, nil
}

func portNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return n, nil
}

// Reserve checks that the host port is free (picking a free one when
// HostPort is 0), so a clash is a clear error before any program starts.
func (p *Port) Reserve() error {
	addr := net.JoinHostPort(p.HostIP, strconv.Itoa(p.HostPort))
	var port int
	if p.Proto == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return portError(p, err)
		}
		port = c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
	} else {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return portError(p, err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	p.HostPort = port
	return nil
}

func portError(p *Port, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("publishing %s: host port %d/%s is already in use (by another container or program); pick another with -p", p, p.HostPort, p.Proto)
	}
	if errors.Is(err, syscall.EACCES) {
		return fmt.Errorf("publishing %s: ports below 1024 need privileges on the host; use a port above 1023 (or lower net.ipv4.ip_unprivileged_port_start)", p)
	}
	return fmt.Errorf("publishing %s: %w", p, err)
}
