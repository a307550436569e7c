package run

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/denproject/den/netns"
	"github.com/denproject/den/pull"
	"github.com/denproject/den/run/pid1"
)

// RunOptions are `den run`'s flags, with docker's meaning.
type RunOptions struct {
	Image       string
	Args        []string
	Interactive bool
	Tty         bool
	Rm          bool
	Detach      bool // -d: run in the background, output to `den logs`
	Name        string
	Env         []string
	EnvFiles    []string
	Workdir     string
	User        string
	Hostname    string
	Entrypoint  *string // nil: the image's; "": none
	Volumes     []string
	Network     string
	Publish     []string
	AddHosts    []string
	Pull        string // missing, always, never
	PullOptions PullOptions

	CapAdd        []string
	CapDrop       []string
	Privileged    bool
	SecurityOpt   []string
	ReadOnly      bool
	ReadOnlyTmpfs bool
	Tmpfs         []string
}

// Pull policies, as docker spells them.
const (
	PullMissing = "missing"
	PullAlways  = "always"
	PullNever   = "never"
)

// check validates what can be checked on the host, before any namespace:
// every message here is one line naming the flag.
func (o *RunOptions) check() error {
	if _, err := pull.ParseRef(o.Image, o.PullOptions.Insecure); err != nil {
		if len(o.Image) < 3 || !isHexString(o.Image) {
			return err
		}
	}
	switch o.Pull {
	case "":
		o.Pull = PullMissing
	case PullMissing, PullAlways, PullNever:
	default:
		return fmt.Errorf("invalid --pull %q: use missing, always or never", o.Pull)
	}
	switch o.Network {
	case "":
		o.Network = "slirp"
		fallthrough
	default:
		if _, err := netns.Choose(o.Network); err != nil {
			return err
		}
	case "host", "none":
		if len(o.Publish) > 0 {
			return fmt.Errorf("-p needs the container's own network: it does nothing with --network %s", o.Network)
		}
	}
	for _, p := range o.Publish {
		if _, err := netns.ParsePublish(p); err != nil {
			return err
		}
	}
	if _, _, err := o.hosts(); err != nil {
		return err
	}
	for _, v := range o.Volumes {
		if _, err := parseVolume(v); err != nil {
			return err
		}
	}
	for _, f := range o.EnvFiles {
		if _, err := readEnvFile(f); err != nil {
			return err
		}
	}
	// Profiles, capabilities and tmpfs options are checked here, on the host.
	return o.security(&pid1.Config{})
}

func isHexString(s string) bool {
	return strings.Trim(s, "0123456789abcdef") == ""
}

// parseVolume reads -v SRC:DST[:ro|rw]. SRC must exist: den does not
// create host directories behind the user's back.
func parseVolume(v string) (pid1.Bind, error) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return pid1.Bind{}, fmt.Errorf("invalid volume %q: use -v /host/path:/container/path[:ro]", v)
	}
	b := pid1.Bind{Source: parts[0], Dest: parts[1]}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			b.ReadOnly = true
		case "rw", "z", "Z":
		default:
			return pid1.Bind{}, fmt.Errorf("invalid volume %q: unknown option %q (use ro or rw)", v, parts[2])
		}
	}
	if !filepath.IsAbs(b.Dest) {
		return pid1.Bind{}, fmt.Errorf("invalid volume %q: the container path must be absolute", v)
	}
	src, err := filepath.Abs(b.Source)
	if err != nil {
		return pid1.Bind{}, err
	}
	if _, err := os.Stat(src); err != nil {
		return pid1.Bind{}, fmt.Errorf("volume source %s does not exist: create it first, or fix the path", b.Source)
	}
	b.Source = src
	return b, nil
}

// readEnvFile reads KEY=VALUE lines; a bare KEY takes den's own value.
func readEnvFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--env-file: %w", err)
	}
	defer f.Close()
	var env []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		env = append(env, line)
	}
	return env, sc.Err()
}

// mergeEnv applies -e values over the image's: KEY=VAL sets, a bare KEY
// copies den's own value (and is dropped when den has none).
func mergeEnv(base []string, overrides []string) []string {
	idx := map[string]int{}
	out := append([]string{}, base...)
	for i, e := range out {
		k, _, _ := strings.Cut(e, "=")
		idx[k] = i
	}
	for _, e := range overrides {
		k, _, hasVal := strings.Cut(e, "=")
		if !hasVal {
			v, ok := os.LookupEnv(k)
			if !ok {
				continue
			}
			e = k + "=" + v
		}
		if i, ok := idx[k]; ok {
			out[i] = e
		} else {
			idx[k] = len(out)
			out = append(out, e)
		}
	}
	return out
}

// hosts turns --add-host into /etc/hosts lines; host-gateway names the
// gateway, through which the host's loopback is then reachable.
func (o *RunOptions) hosts() (lines []string, hostLoopback bool, err error) {
	gw := netns.Gateway
	if o.Network == "host" {
		gw = "127.0.0.1"
	}
	for _, h := range o.AddHosts {
		name, ip, ok := strings.Cut(h, ":")
		if !ok || name == "" {
			return nil, false, fmt.Errorf("invalid --add-host %q: use NAME:IP or NAME:host-gateway", h)
		}
		if ip == "host-gateway" {
			ip, hostLoopback = gw, true
		} else if net.ParseIP(ip) == nil {
			return nil, false, fmt.Errorf("invalid --add-host %q: %q is not an IP address", h, ip)
		}
		lines = append(lines, ip+"\t"+name)
	}
	if hostLoopback {
		lines = append(lines, gw+"\thost.containers.internal")
	}
	return lines, hostLoopback, nil
}
