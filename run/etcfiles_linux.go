package run

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/denproject/den/netns"
	"github.com/denproject/den/run/pid1"
	"github.com/denproject/den/run/spec"
)

// etcFiles writes the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf into its directory and returns them as binds.
func etcFiles(dir, hostname string, n spec.Network) ([]pid1.Bind, error) {
	ownIP := "127.0.1.1"
	if n.Own() {
		ownIP = netns.ContainerIP
	}
	hosts := fmt.Sprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n", ownIP, hostname)
	if n.Mode == spec.ModeHost {
		if host := readFile("/etc/hosts"); host != "" {
			hosts = strings.TrimRight(host, "\n") + "\n" // the host's, as docker's --network host gives
		}
	}
	for _, h := range n.Hosts {
		hosts += h + "\n"
	}
	files := map[string]string{
		"hostname":    hostname + "\n",
		"hosts":       hosts,
		"resolv.conf": resolvConf(n, readFile("/etc/resolv.conf")),
	}
	var binds []pid1.Bind
	for _, name := range []string{"hostname", "hosts", "resolv.conf"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(files[name]), 0o644); err != nil {
			return nil, fmt.Errorf("writing the container's %s: %w", name, err)
		}
		binds = append(binds, pid1.Bind{Source: p, Dest: "/etc/" + name})
	}
	return binds, nil
}

// resolvConf is the container's resolv.conf, from the host's (host) and
// the network: --network host shares the host's; a network of the
// container's own asks the backend's resolver; with none, the host's
// without loopback resolvers, which a container cannot reach (useful
// only for what it names). --dns, --dns-search and --dns-option replace
// what they name, as docker's do.
func resolvConf(n spec.Network, host string) string {
	if n.Mode == spec.ModeHost && len(n.DNS)+len(n.DNSSearch)+len(n.DNSOptions) == 0 {
		return host
	}
	var servers, search, options, other []string
	for _, line := range strings.Split(host, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == "nameserver":
			if !strings.HasPrefix(f[1], "127.") && f[1] != "::1" || n.Mode == spec.ModeHost {
				servers = append(servers, f[1])
			}
		case len(f) >= 2 && (f[0] == "search" || f[0] == "domain"):
			search = f[1:]
		case len(f) >= 2 && f[0] == "options":
			options = append(options, f[1:]...)
		case len(f) > 0 && !strings.HasPrefix(f[0], "#") && !strings.HasPrefix(f[0], ";"):
			other = append(other, line)
		}
	}
	if n.Own() {
		servers = []string{netns.DNS}
	}
	if len(n.DNS) > 0 {
		servers = n.DNS
	}
	if len(n.DNSSearch) > 0 {
		search = n.DNSSearch
		if len(search) == 1 && search[0] == "." {
			search = nil
		}
	}
	if len(n.DNSOptions) > 0 {
		options = n.DNSOptions
	}
	var b strings.Builder
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	if len(options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(options, " "))
	}
	for _, l := range other {
		b.WriteString(l + "\n")
	}
	return b.String()
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}
