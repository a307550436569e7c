package pid1

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

// setupHost applies, from the init's own namespaces, what the command
// inherits: the cgroup, the rlimits, the sysctls. /proc/sys/net and
// kernel.shm* resolve to the writer's network and IPC namespaces, so
// the host's /proc, still visible before pivot_root, reaches the
// container's own.
func setupHost(c *Config) error {
	if c.Cgroup != "" {
		if err := os.WriteFile(filepath.Join(c.Cgroup, "cgroup.procs"), []byte("0"), 0o644); err != nil {
			return fmt.Errorf("joining the container's cgroup: %w", err)
		}
	}
	for _, r := range c.Rlimits {
		// syscall's Setrlimit, so that os/exec hands the command this
		// RLIMIT_NOFILE rather than the one Go started with.
		if err := syscall.Setrlimit(r.Type, &syscall.Rlimit{Cur: r.Soft, Max: r.Hard}); err != nil {
			return fmt.Errorf("--ulimit: setting limit %d to %d:%d: %w", r.Type, r.Soft, r.Hard, err)
		}
	}
	for k, v := range c.Sysctls {
		p := filepath.Join("/proc/sys", strings.ReplaceAll(k, ".", "/"))
		if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
			return fmt.Errorf("--sysctl %s=%s: %w", k, v, err)
		}
	}
	return nil
}

// bindDevices binds each --device node from the host under the
// container's /dev (the nodes cannot be made in a user namespace).
func bindDevices(root string, devs []Bind) error {
	for _, d := range devs {
		dst, err := securejoin.SecureJoin(root, d.Dest)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("--device %s: %w", d.Dest, err)
		}
		if f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o666); err == nil {
			f.Close()
		}
		if err := unix.Mount(d.Source, dst, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("--device %s: binding it: %w", d.Source, err)
		}
		if d.ReadOnly {
			if err := remountRO(dst); err != nil {
				return err
			}
		}
	}
	return nil
}
