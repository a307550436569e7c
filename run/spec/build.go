package spec

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/denproject/den/netns"
	"github.com/denproject/den/pull"
	"github.com/denproject/den/run/security"
)

// Build checks every flag and resolves what must be read on the host:
// env files, den's own environment for a bare -e KEY, bind sources, the
// network backend, a seccomp profile. Each error is one line naming the
// flag.
func Build(f *Flags) (*Spec, error) {
	s := &Spec{Image: f.Image, Args: f.Args, Name: f.Name, User: f.User, Workdir: f.Workdir,
		Hostname: f.Hostname, Tty: f.Tty, Interactive: f.Interactive, Rm: f.Rm, Detach: f.Detach,
		Platform: f.Platform, Insecure: f.Insecure}
	if _, err := pull.ParseRef(f.Image, f.Insecure); err != nil {
		if len(f.Image) < 3 || !isHexString(f.Image) {
			return nil, err
		}
	}
	if _, err := pull.ParsePlatform(f.Platform); err != nil {
		return nil, err
	}
	if f.EntrypointSet {
		ep := []string{}
		if f.Entrypoint != "" {
			ep = []string{f.Entrypoint}
		}
		s.Entrypoint = &ep
	}
	if s.Detach {
		// No terminal in the background, and nothing to read stdin from.
		s.Tty, s.Interactive = false, false
	}
	var err error
	if s.Pull, err = ParsePull(f.Pull); err != nil {
		return nil, err
	}
	if s.Env, err = BuildEnv(f.EnvFiles, f.Env); err != nil {
		return nil, err
	}
	for _, v := range f.Volumes {
		b, err := ParseVolume(v)
		if err != nil {
			return nil, err
		}
		if b.Source, err = filepath.Abs(b.Source); err != nil {
			return nil, err
		}
		if _, err := os.Stat(b.Source); err != nil {
			return nil, fmt.Errorf("volume source %s does not exist: create it first, or fix the path", b.Source)
		}
		s.Mounts = append(s.Mounts, b)
	}
	if s.Network, err = buildNetwork(f); err != nil {
		return nil, err
	}
	if s.Sandbox, err = security.Resolve(f.Security); err != nil {
		return nil, err
	}
	return s, nil
}

// BuildEnv reads --env-file files then -e entries, resolved as docker's client does.
func BuildEnv(files, env []string) ([]string, error) {
	var entries []string
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--env-file: %w", err)
		}
		entries = append(entries, ParseEnvFile(string(b))...)
	}
	return ResolveEnv(append(entries, env...), os.LookupEnv), nil
}

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
