package spec

import (
	"fmt"
	"strings"

	"github.com/denproject/den/netns"
)

func buildNetwork(f *Flags) (Network, error) {
	n := Network{Mode: f.Network}
	if name, ok := strings.CutPrefix(n.Mode, ModeContainer+":"); ok {
		return joinNetwork(f, name)
	}
	switch n.Mode {
	case ModeHost, ModeNone:
		if len(f.Publish) > 0 || f.PublishAll {
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
	for _, e := range f.Expose {
		keys, err := ParseExpose(e)
		if err != nil {
			return n, err
		}
		n.Expose = append(n.Expose, keys...)
	}
	n.PublishAllSet = f.PublishAll
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

// joinNetwork is --network container:NAME: the network, hostname, hosts
// and resolv.conf are the other container's, so the flags that would
// change them conflict, as in docker.
func joinNetwork(f *Flags, name string) (Network, error) {
	n := Network{Mode: ModeContainer, Container: name}
	if name == "" {
		return n, fmt.Errorf("invalid --network container: name the container to join (container:NAME)")
	}
	conflicts := []struct {
		set  bool
		what string
	}{
		{len(f.Publish) > 0 || f.PublishAll, "-p/-P (the ports are published by the container whose network this joins)"},
		{len(f.Expose) > 0, "--expose"},
		{f.Hostname != "", "--hostname (the container takes the other's)"},
		{len(f.AddHosts) > 0, "--add-host (/etc/hosts is the other container's)"},
		{len(f.DNS)+len(f.DNSSearch)+len(f.DNSOptions) > 0, "--dns, --dns-search and --dns-option (resolv.conf is the other container's)"},
	}
	for _, c := range conflicts {
		if c.set {
			return n, fmt.Errorf("--network container:%s conflicts with %s", name, c.what)
		}
	}
	return n, nil
}
