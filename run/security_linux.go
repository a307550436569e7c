package run

import (
	"fmt"
	"strings"

	"github.com/denproject/den/run/pid1"
)

// Docker's masked and read-only paths.
var (
	maskedPaths = []string{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
		"/sys/devices/virtual/powercap"}
	readonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

// security fills the capability, no_new_privs, seccomp and path settings
// of the init config from the flags.
func (o *RunOptions) security(ic *pid1.Config) error {
	caps, err := capabilities(o.CapAdd, o.CapDrop, o.Privileged)
	if err != nil {
		return err
	}
	ic.Caps, ic.LastCap = caps, lastCap()
	ic.NoNewPrivs = true
	seccomp := "default"
	for _, opt := range o.SecurityOpt {
		k, v, hasV := strings.Cut(opt, "=")
		if !hasV {
			k, v, hasV = strings.Cut(opt, ":")
		}
		switch k {
		case "no-new-privileges":
			switch v {
			case "", "true":
				ic.NoNewPrivs = true
			case "false":
				ic.NoNewPrivs = false
			default:
				return fmt.Errorf("invalid --security-opt %q: no-new-privileges takes true or false", opt)
			}
		case "seccomp":
			if !hasV || v == "" {
				return fmt.Errorf("invalid --security-opt %q: use seccomp=unconfined or seccomp=PROFILE.json", opt)
			}
			seccomp = v
		case "label", "apparmor":
			// Accepted for docker compatibility; den applies neither.
		default:
			return fmt.Errorf("unknown --security-opt %q: den knows no-new-privileges, seccomp=unconfined|PROFILE.json", opt)
		}
	}
	switch {
	case seccomp == "unconfined" || o.Privileged && seccomp == "default":
	case seccomp == "default":
		ic.Seccomp = defaultSeccomp(caps)
	default:
		if ic.Seccomp, err = loadProfile(seccomp, caps); err != nil {
			return err
		}
	}
	if !o.Privileged {
		ic.MaskedPaths, ic.ReadonlyPaths = maskedPaths, readonlyPaths
	}
	ic.ReadOnly = o.ReadOnly
	if o.ReadOnly && o.ReadOnlyTmpfs {
		for _, d := range []string{"/tmp", "/run", "/var/tmp"} {
			ic.Tmpfs = append(ic.Tmpfs, pid1.Tmpfs{Dest: d, Options: "mode=1777"})
		}
	}
	for _, t := range o.Tmpfs {
		dest, opts, _ := strings.Cut(t, ":")
		if !strings.HasPrefix(dest, "/") {
			return fmt.Errorf("invalid --tmpfs %q: the path must be absolute", t)
		}
		ic.Tmpfs = append(ic.Tmpfs, pid1.Tmpfs{Dest: dest, Options: opts})
	}
	return nil
}
