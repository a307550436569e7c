package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	units "github.com/docker/go-units"
	"golang.org/x/sys/unix"

	"github.com/denproject/den/cgroups"
	"github.com/denproject/den/run/pid1"
)

// buildResources reads --ulimit, --group-add, --device, --sysctl and the
// cgroup limits.
func buildResources(f *Flags, s *Spec) error {
	h := &s.Host
	for _, u := range f.Ulimits {
		r, err := ParseUlimit(u, getrlimit)
		if err != nil {
			return err
		}
		h.Ulimits = append(h.Ulimits, r)
	}
	h.GroupAdd = f.GroupAdd
	for _, d := range f.Devices {
		b, err := ParseDevice(d)
		if err != nil {
			return err
		}
		h.Devices = append(h.Devices, b)
	}
	for _, kv := range f.Sysctls {
		k, v, err := ParseSysctl(kv, f.Network == ModeHost)
		if err != nil {
			return err
		}
		if h.Sysctls == nil {
			h.Sysctls = map[string]string{}
		}
		h.Sysctls[k] = v
	}
	l, err := ParseLimits(f)
	if err != nil || !l.Set() {
		return err
	}
	if _, err := cgroups.System(os.Getuid()).Parent(l); err != nil {
		return err
	}
	h.Limits = l
	return nil
}

func getrlimit(resource int) (unix.Rlimit, error) {
	var r unix.Rlimit
	err := unix.Getrlimit(resource, &r)
	return r, err
}

// ParseUlimit reads --ulimit NAME=SOFT[:HARD] (docker's names: nofile,
// nproc, core, ...). A user namespace cannot raise a hard limit: one above
// den's own (current) is refused.
func ParseUlimit(s string, current func(int) (unix.Rlimit, error)) (pid1.Rlimit, error) {
	u, err := units.ParseUlimit(s)
	if err != nil {
		return pid1.Rlimit{}, fmt.Errorf("invalid --ulimit %q: %v (use e.g. nofile=1024:2048)", s, err)
	}
	rl, err := u.GetRlimit()
	if err != nil {
		return pid1.Rlimit{}, fmt.Errorf("invalid --ulimit %q: %v", s, err)
	}
	r := pid1.Rlimit{Type: rl.Type, Soft: rl.Soft, Hard: rl.Hard}
	if u.Soft < 0 || u.Hard < 0 {
		r.Soft, r.Hard = unix.RLIM_INFINITY, unix.RLIM_INFINITY
	}
	cur, err := current(r.Type)
	if err != nil {
		return pid1.Rlimit{}, fmt.Errorf("--ulimit %q: reading den's own limit: %w", s, err)
	}
	if r.Hard > cur.Max {
		return pid1.Rlimit{}, fmt.Errorf("--ulimit %q: the hard limit is above yours (%s); ask for at most %s, or raise yours first (ulimit -H, limits.conf)", s, limitString(cur.Max), limitString(cur.Max))
	}
	return r, nil
}

func limitString(n uint64) string {
	if n == unix.RLIM_INFINITY {
		return "unlimited"
	}
	return fmt.Sprint(n)
}

// ParseDevice reads --device HOST[:CONTAINER[:PERMS]]: a device node the
// user can open (a user namespace cannot grant more), bound in.
func ParseDevice(s string) (pid1.Bind, error) {
	parts := strings.Split(s, ":")
	if len(parts) > 3 || parts[0] == "" {
		return pid1.Bind{}, fmt.Errorf("invalid --device %q: use /dev/HOST[:/dev/CONTAINER[:rwm]]", s)
	}
	b := pid1.Bind{Source: filepath.Clean(parts[0]), Dest: filepath.Clean(parts[0])}
	perms := "rwm"
	if len(parts) >= 2 {
		if strings.Trim(parts[1], "rwm") == "" && len(parts) == 2 {
			perms = parts[1]
		} else {
			b.Dest = filepath.Clean(parts[1])
		}
	}
	if len(parts) == 3 {
		perms = parts[2]
	}
	if perms == "" || strings.Trim(perms, "rwm") != "" {
		return pid1.Bind{}, fmt.Errorf("invalid --device %q: permissions are letters of rwm", s)
	}
	if !filepath.IsAbs(b.Source) || !filepath.IsAbs(b.Dest) {
		return pid1.Bind{}, fmt.Errorf("invalid --device %q: the paths must be absolute", s)
	}
	fi, err := os.Stat(b.Source)
	if err != nil {
		return pid1.Bind{}, fmt.Errorf("--device %s: %v: name a device node that exists", b.Source, unwrapPath(err))
	}
	if fi.Mode()&os.ModeDevice == 0 {
		return pid1.Bind{}, fmt.Errorf("--device %s is not a device node: bind files with -v", b.Source)
	}
	mode := os.O_RDWR
	switch {
	case !strings.Contains(perms, "w"):
		mode = os.O_RDONLY
	case !strings.Contains(perms, "r"):
		mode = os.O_WRONLY
	}
	b.ReadOnly = mode == os.O_RDONLY
	dev, err := os.OpenFile(b.Source, mode|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return pid1.Bind{}, fmt.Errorf("--device %s: you cannot open it (%v): a rootless container gets only the devices you can use; change its mode or group (e.g. add yourself to its group)", b.Source, unwrapPath(err))
	}
	dev.Close()
	return b, nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// ParseSysctl reads --sysctl KEY=VALUE for what the container's own
// namespaces hold: net.* (not with --network host) and kernel.shm*.
func ParseSysctl(s string, hostNet bool) (string, string, error) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.ReplaceAll(strings.TrimSpace(k), "/", ".")
	if !ok || k == "" || strings.Contains(k, "..") {
		return "", "", fmt.Errorf("invalid --sysctl %q: use KEY=VALUE", s)
	}
	switch {
	case strings.HasPrefix(k, "net."):
		if hostNet {
			return "", "", fmt.Errorf("--sysctl %s: net.* keys need the container's own network, not --network host", k)
		}
	case strings.HasPrefix(k, "kernel.shm"):
	default:
		return "", "", fmt.Errorf("--sysctl %s is not namespaced: a container may set net.* and kernel.shm* keys only", k)
	}
	return k, v, nil
}

// ParseLimits reads --memory, --memory-swap, --cpus, --cpu-shares and
// --pids-limit as docker does.
func ParseLimits(f *Flags) (cgroups.Limits, error) {
	var l cgroups.Limits
	var err error
	if f.Memory != "" {
		if l.Memory, err = units.RAMInBytes(f.Memory); err != nil || l.Memory < 6<<20 {
			return l, fmt.Errorf("invalid --memory %q: use a size of at least 6m, such as 512m or 2g", f.Memory)
		}
	}
	switch f.MemorySwap {
	case "":
	case "-1":
		l.MemorySwap = -1
	default:
		if l.MemorySwap, err = units.RAMInBytes(f.MemorySwap); err != nil {
			return l, fmt.Errorf("invalid --memory-swap %q: use a size such as 1g, or -1 for no swap limit", f.MemorySwap)
		}
	}
	if l.MemorySwap != 0 && l.Memory == 0 {
		return l, fmt.Errorf("--memory-swap needs --memory: it counts memory and swap together")
	}
	if l.MemorySwap > 0 && l.MemorySwap < l.Memory {
		return l, fmt.Errorf("--memory-swap %s is below --memory %s: it counts memory and swap together", f.MemorySwap, f.Memory)
	}
	if f.CPUs < 0 {
		return l, fmt.Errorf("invalid --cpus %v: use a number of CPUs such as 1.5", f.CPUs)
	}
	l.CPUs = f.CPUs
	if f.CPUShares < 0 {
		return l, fmt.Errorf("invalid --cpu-shares %d: use a relative weight such as 512 (default 1024)", f.CPUShares)
	}
	l.CPUShares = uint64(f.CPUShares)
	if f.PidsLimit > 0 { // 0 and -1: unlimited, as docker has it
		l.Pids = f.PidsLimit
	}
	return l, nil
}
