package spec

import (
	"fmt"

	"github.com/denproject/den/netns"
)

func buildNetwork(f *Flags) (Network, error) {
	n := Network{Mode: f.Network}
	switch n.Mode {
	case ModeHost, ModeNone:
		if len(f.Publish) > 0 {
			return n, fmt.Errorf("-p needs the container's own network: it does nothing with --network %s", n.Mode)
		}
	case "":
		n.Mode = "slirp"
		fallthrough
	default:
		mode, err := netns.Choose(n.Mode)
		if err != nil {
			return n, err
		}
		n.Mode = mode
	}
	seen := map[string]string{}
	for _, p := range f.Publish {
		ports, err := ParsePublish(p)
		if err != nil {
			return n, err
		}
		for _, port := range ports {
			if port.HostPort != 0 {
				key := fmt.Sprintf("%s:%d/%s", port.HostIP, port.HostPort, port.Proto)
				if prev, dup := seen[key]; dup {
					return n, fmt.Errorf("invalid -p %q: host port %d/%s is already published by -p %q", p, port.HostPort, port.Proto, prev)
				}
				seen[key] = p
			}
			n.Ports = append(n.Ports, port)
		}
	}
	gw := netns.Gateway
	if n.Mode == ModeHost {
		gw = "127.0.0.1"
	}
	for _, h := range f.AddHosts {
		line, gateway, err := ParseAddHost(h, gw)
		if err != nil {
			return n, err
		}
		n.Hosts = append(n.Hosts, line)
		n.HostLoopback = n.HostLoopback || gateway
	}
	if n.HostLoopback {
		n.Hosts = append(n.Hosts, gw+"\thost.containers.internal")
	}
	for _, d := range f.DNS {
		ip, err := ParseDNS(d)
		if err != nil {
			return n, err
		}
		n.DNS = append(n.DNS, ip)
	}
	n.DNSSearch, n.DNSOptions = f.DNSSearch, f.DNSOptions
	return n, nil
}
