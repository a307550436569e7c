// Package security turns docker's sandbox flags into the init's sandbox:
// capabilities, no_new_privs, the seccomp filter, masked and read-only
// paths, a read-only root and tmpfs mounts.
package security

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/run/pid1"
)

// Docker's masked and read-only paths (moby's daemon/pkg/oci defaults).
var (
	maskedPaths = []string{"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/sched_debug", "/proc/scsi", "/proc/timer_list", "/proc/timer_stats",
		"/sys/devices/virtual/powercap", "/sys/firmware"}
	readonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

// MaskedPaths is docker's list for this machine: the fixed paths, and each
// CPU's thermal_throttle directory where the host has one (its interrupt
// counts leak as /proc/interrupts does).
func MaskedPaths() []string {
	out := slices.Clone(maskedPaths)
	throttle, _ := filepath.Glob("/sys/devices/system/cpu/cpu[0-9]*/thermal_throttle")
	sort.Slice(throttle, func(i, j int) bool { return cpuNumber(throttle[i]) < cpuNumber(throttle[j]) })
	return append(out, throttle...)
}

func cpuNumber(p string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(filepath.Dir(p)), "cpu"))
	return n
}

// ReadonlyPaths is docker's list.
func ReadonlyPaths() []string { return slices.Clone(readonlyPaths) }

// Flags are the sandbox's flags as the user typed them.
type Flags struct {
	CapAdd        []string
	CapDrop       []string
	Privileged    bool
	SecurityOpt   []string
	ReadOnly      bool
	ReadOnlyTmpfs bool
	Tmpfs         []string
}

// Options are --security-opt's settings.
type Options struct {
	NoNewPrivs bool
	// Seccomp is "default", "unconfined" or a profile's path.
	Seccomp string
}

// ParseSecurityOpts reads --security-opt values, in docker's spellings
// (KEY=VALUE, or the older KEY:VALUE).
func ParseSecurityOpts(opts []string) (Options, error) {
	o := Options{NoNewPrivs: true, Seccomp: "default"}
	for _, opt := range opts {
		k, v, hasV := strings.Cut(opt, "=")
		if !hasV {
			k, v, hasV = strings.Cut(opt, ":")
		}
		switch k {
		case "no-new-privileges":
			switch v {
			case "", "true":
				o.NoNewPrivs = true
			case "false":
				o.NoNewPrivs = false
			default:
				return o, fmt.Errorf("invalid --security-opt %q: no-new-privileges takes true or false", opt)
			}
		case "seccomp":
			if !hasV || v == "" {
				return o, fmt.Errorf("invalid --security-opt %q: use seccomp=unconfined or seccomp=PROFILE.json", opt)
			}
			o.Seccomp = v
		case "label", "apparmor":
			// Accepted for docker compatibility; den applies neither.
		default:
			return o, fmt.Errorf("unknown --security-opt %q: den knows no-new-privileges, seccomp=unconfined|PROFILE.json", opt)
		}
	}
	return o, nil
}

// ParseTmpfs reads --tmpfs PATH[:OPTIONS].
func ParseTmpfs(t string) (pid1.Tmpfs, error) {
	dest, opts, _ := strings.Cut(t, ":")
	if !strings.HasPrefix(dest, "/") {
		return pid1.Tmpfs{}, fmt.Errorf("invalid --tmpfs %q: the path must be absolute", t)
	}
	return pid1.Tmpfs{Dest: dest, Options: opts}, nil
}

// Resolve builds the sandbox from the flags. A seccomp profile file is
// read here, on the host, once.
func Resolve(f Flags) (pid1.Sandbox, error) {
	var sb pid1.Sandbox
	caps, err := capabilities(f.CapAdd, f.CapDrop, f.Privileged)
	if err != nil {
		return sb, err
	}
	sb.Caps, sb.LastCap = caps, lastCap()
	opts, err := ParseSecurityOpts(f.SecurityOpt)
	if err != nil {
		return sb, err
	}
	sb.NoNewPrivs = opts.NoNewPrivs
	if f.Privileged && !slices.ContainsFunc(f.SecurityOpt, func(o string) bool { return strings.HasPrefix(o, "no-new-privileges") }) {
		sb.NoNewPrivs = false // --privileged restricts nothing (sudo in the image works)
	}
	switch {
	case opts.Seccomp == "unconfined" || f.Privileged && opts.Seccomp == "default":
	case opts.Seccomp == "default":
		// Built only where no compiled program is cached (Rules): den's
		// profile takes a millisecond to build, at every start.
		sb.SeccompKey = defaultKey(caps)
	default:
		if sb.Seccomp, err = loadProfile(opts.Seccomp, caps); err != nil {
			return sb, err
		}
	}
	if !f.Privileged {
		sb.MaskedPaths, sb.ReadonlyPaths = MaskedPaths(), ReadonlyPaths()
	}
	sb.ReadOnly = f.ReadOnly
	if f.ReadOnly && f.ReadOnlyTmpfs {
		for _, d := range []string{"/tmp", "/run", "/var/tmp"} {
			sb.Tmpfs = append(sb.Tmpfs, pid1.Tmpfs{Dest: d, Options: "mode=1777", Default: true})
		}
	}
	for _, t := range f.Tmpfs {
		tm, err := ParseTmpfs(t)
		if err != nil {
			return sb, err
		}
		sb.Tmpfs = append(sb.Tmpfs, tm)
	}
	return sb, nil
}

// Rules are the seccomp rules of a sandbox resolved without them (its
// SeccompKey names den's default profile for its capabilities).
func Rules(f Flags) (*pid1.Seccomp, error) {
	sb, err := Resolve(f)
	if err != nil || sb.Seccomp != nil || sb.SeccompKey == "" {
		return sb.Seccomp, err
	}
	return defaultSeccomp(sb.Caps), nil
}

// defaultKey names the program den's default profile compiles to for
// caps: this den binary (its profile), the kernel (rules with a minimum
// kernel), the architecture and the capabilities decide it.
func defaultKey(caps []uint) string {
	h := sha256.New()
	fmt.Fprintf(h, "default %s %v ", runtime.GOARCH, caps)
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			st := fi.Sys().(*syscall.Stat_t)
			fmt.Fprintf(h, "%d %d %d %d ", st.Dev, st.Ino, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		h.Write(uts.Release[:])
	}
	return "d" + hex.EncodeToString(h.Sum(nil)[:16])
}
