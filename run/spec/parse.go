package spec

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/docker/go-connections/nat"
	units "github.com/docker/go-units"

	"github.com/denproject/den/netns"
	"github.com/denproject/den/run/pid1"
)

// ParsePublish reads one -p: [HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|udp],
// where the ports may be ranges of equal length (8000-8001:80-81). A
// missing host port is picked at random when the container starts.
func ParsePublish(s string) ([]netns.Port, error) {
	bad := func(why string) ([]netns.Port, error) {
		return nil, fmt.Errorf("invalid -p %q: %s (use [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp])", s, why)
	}
	maps, err := nat.ParsePortSpec(s)
	if err != nil {
		return bad(err.Error())
	}
	var out []netns.Port
	for _, m := range maps {
		proto := m.Port.Proto()
		if proto != "tcp" && proto != "udp" {
			return bad("protocol must be tcp or udp")
		}
		p := netns.Port{HostIP: m.Binding.HostIP, ContainerPort: m.Port.Int(), Proto: proto}
		if p.ContainerPort <= 0 {
			return bad("the container port must be 1-65535")
		}
		if h := m.Binding.HostPort; h != "" {
			if strings.Contains(h, "-") {
				return bad("a host port range for one container port is not supported")
			}
			if p.HostPort, err = strconv.Atoi(h); err != nil || p.HostPort <= 0 {
				return bad("the host port must be 1-65535")
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// ParseVolume reads -v SRC:DST[:OPTIONS]; whether SRC exists is Build's
// business.
func ParseVolume(v string) (pid1.Bind, error) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return pid1.Bind{}, fmt.Errorf("invalid volume %q: use -v /host/path:/container/path[:ro]", v)
	}
	b := pid1.Bind{Source: parts[0], Dest: parts[1]}
	if len(parts) == 3 {
		for _, opt := range strings.Split(parts[2], ",") {
			switch opt {
			case "ro":
				b.ReadOnly = true
			case "rw", "z", "Z",
				// docker's that change nothing here: consistency (macOS),
				// propagation (den's mounts are private), SELinux relabels
				"cached", "delegated", "consistent", "private", "rprivate", "shared", "rshared", "slave", "rslave":
			default:
				return pid1.Bind{}, fmt.Errorf("invalid volume %q: unknown option %q (use ro or rw)", v, opt)
			}
		}
	}
	if !filepath.IsAbs(b.Dest) {
		return pid1.Bind{}, fmt.Errorf("invalid volume %q: the container path must be absolute", v)
	}
	return b, nil
}

// ParseAddHost reads --add-host NAME:IP; NAME:host-gateway names the
// gateway gw, and says so (the host's loopback is then opened).
func ParseAddHost(h, gw string) (line string, gateway bool, err error) {
	// NAME=IP too (docker 25), and an IPv6 address may come in brackets.
	name, ip, ok := strings.Cut(h, "=")
	if !ok {
		name, ip, ok = strings.Cut(h, ":")
	}
	if !ok || name == "" || strings.ContainsAny(name, " \t\r\n#") {
		return "", false, fmt.Errorf("invalid --add-host %q: use NAME:IP, NAME=IP or NAME:host-gateway", h)
	}
	if strings.HasPrefix(ip, "[") && strings.HasSuffix(ip, "]") {
		ip = ip[1 : len(ip)-1]
	}
	if ip == "host-gateway" {
		return gw + "\t" + name, true, nil
	}
	if net.ParseIP(ip) == nil {
		return "", false, fmt.Errorf("invalid --add-host %q: %q is not an IP address", h, ip)
	}
	return ip + "\t" + name, false, nil
}

// ParseDNS reads --dns: an IPv4 or IPv6 address.
func ParseDNS(s string) (string, error) {
	if ip := net.ParseIP(s); ip != nil {
		return ip.String(), nil
	}
	return "", fmt.Errorf("invalid --dns %q: not an IP address (e.g. --dns 1.1.1.1)", s)
}

// ParsePull reads --pull.
func ParsePull(s string) (Pull, error) {
	switch p := Pull(s); p {
	case "":
		return PullMissing, nil
	case PullMissing, PullAlways, PullNever:
		return p, nil
	}
	return "", fmt.Errorf("invalid --pull %q: use missing, always or never", s)
}

// ParseEnvFile reads an --env-file's content: KEY=VALUE lines; blank
// lines and comments are skipped.
func ParseEnvFile(content string) []string {
	var env []string
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		env = append(env, line)
	}
	return env
}

// ResolveEnv gives a bare KEY den's own value, as docker's client does,
// and drops it when lookup has none.
func ResolveEnv(entries []string, lookup func(string) (string, bool)) []string {
	var out []string
	for _, e := range entries {
		if k, _, ok := strings.Cut(e, "="); !ok {
			v, found := lookup(k)
			if !found {
				continue
			}
			e = k + "=" + v
		}
		out = append(out, e)
	}
	return out
}

// ParseLog reads --log-driver and --log-opt: json-file (the default) with
// max-size and max-file, or none.
func ParseLog(driver string, opts []string) (*pid1.Log, error) {
	switch driver {
	case "", "json-file", "k8s-file":
	case "none":
		if len(opts) > 0 {
			return nil, fmt.Errorf("--log-opt %q: the none log driver takes no options", opts[0])
		}
		return nil, nil
	default:
		return nil, fmt.Errorf("invalid --log-driver %q: den keeps json-file logs, or none", driver)
	}
	l := &pid1.Log{}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "max-size":
			n, err := units.FromHumanSize(v)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("invalid --log-opt %q: max-size takes a size such as 10m", o)
			}
			l.MaxSize = n
		case "max-file":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("invalid --log-opt %q: max-file takes a number of files, 1 or more", o)
			}
			l.MaxFile = n
		default:
			return nil, fmt.Errorf("unknown --log-opt %q: den knows max-size and max-file", o)
		}
	}
	if l.MaxFile > 1 && l.MaxSize == 0 {
		return nil, fmt.Errorf("--log-opt max-file needs max-size")
	}
	return l, nil
}

// ParseRestart reads --restart: no, on-failure[:N], always or
// unless-stopped.
func ParseRestart(s string) (Restart, error) {
	name, n, hasN := strings.Cut(s, ":")
	r := Restart{Name: name}
	switch name {
	case "", "no":
		if hasN {
			break
		}
		return Restart{}, nil
	case "always", "unless-stopped":
		if !hasN {
			return r, nil
		}
	case "on-failure":
		if !hasN {
			return r, nil
		}
		if v, err := strconv.Atoi(n); err == nil && v >= 0 {
			r.MaxRetries = v
			return r, nil
		}
	}
	return Restart{}, fmt.Errorf("invalid --restart %q: use no, on-failure[:N], always or unless-stopped", s)
}

// ParseLabel reads --label KEY[=VALUE].
func ParseLabel(s string) (string, string, error) {
	k, v, _ := strings.Cut(s, "=")
	if k == "" {
		return "", "", fmt.Errorf("invalid --label %q: use KEY=VALUE", s)
	}
	return k, v, nil
}

// ParseDetachKeys reads docker's --detach-keys: comma-separated keys,
// each a character or ctrl-X (X a letter or one of @[\]^_).
func ParseDetachKeys(s string) ([]byte, error) {
	if s == "" {
		s = "ctrl-p,ctrl-q"
	}
	var keys []byte
	for _, k := range strings.Split(s, ",") {
		switch {
		case len(k) == 1:
			keys = append(keys, k[0])
		case len(k) == 6 && strings.HasPrefix(strings.ToLower(k), "ctrl-"):
			c := k[5]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			switch {
			case c >= 'a' && c <= 'z':
				keys = append(keys, c-'a'+1)
			case strings.IndexByte("@[\\]^_", c) >= 0:
				keys = append(keys, c-'@')
			default:
				return nil, fmt.Errorf("invalid --detach-keys %q: %q is not a key (use ctrl-a..ctrl-z, ctrl-@, ctrl-[, ctrl-\\, ctrl-], ctrl-^, ctrl-_ or a character)", s, k)
			}
		default:
			return nil, fmt.Errorf("invalid --detach-keys %q: %q is not a key (use ctrl-X or a character, comma-separated)", s, k)
		}
	}
	return keys, nil
}

func isHexString(s string) bool {
	return strings.Trim(s, "0123456789abcdef") == ""
}
