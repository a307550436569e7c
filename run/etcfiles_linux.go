package run

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/denproject/den/run/pid1"
)

// etcFiles writes the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf into its directory and returns them as binds.
func etcFiles(dir, hostname, ownIP string, extraHosts []string, resolv string) ([]pid1.Bind, error) {
	hosts := fmt.Sprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n", ownIP, hostname)
	for _, h := range extraHosts {
		hosts += h + "\n"
	}
	files := map[string]string{
		"hostname":    hostname + "\n",
		"hosts":       hosts,
		"resolv.conf": resolv,
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

// hostResolv is the host's resolv.conf without loopback resolvers, which
// a container cannot reach (systemd-resolved's 127.0.0.53, say).
func hostResolv() string {
	b, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return ""
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" && (strings.HasPrefix(f[1], "127.") || f[1] == "::1") {
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
