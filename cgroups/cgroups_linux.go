// Package cgroups puts a container in a cgroup v2 of its own, under the
// subtree systemd's user manager delegates to the user, with docker's
// limits written to it. Anywhere else the limits are refused: den never
// accepts a limit it cannot enforce.
package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Limits are docker's --memory, --memory-swap, --cpus, --cpu-shares and
// --pids-limit; a zero field is not limited.
type Limits struct {
	Memory int64 `json:"memory,omitempty"` // bytes
	// MemorySwap is memory plus swap, as docker counts it; -1: no swap limit.
	MemorySwap int64   `json:"memorySwap,omitempty"`
	CPUs       float64 `json:"cpus,omitempty"`
	CPUShares  uint64  `json:"cpuShares,omitempty"`
	Pids       int64   `json:"pids,omitempty"`
}

// Set reports whether any limit is asked for.
func (l Limits) Set() bool { return l != Limits{} }

// cpuPeriod is docker's CFS period, in microseconds.
const cpuPeriod = 100000

// files are the interface files and values that enforce l.
func (l Limits) files() map[string]string {
	f := map[string]string{}
	if l.Memory > 0 {
		f["memory.max"] = strconv.FormatInt(l.Memory, 10)
		switch {
		case l.MemorySwap < 0:
			f["memory.swap.max"] = "max"
		case l.MemorySwap > 0:
			f["memory.swap.max"] = strconv.FormatInt(l.MemorySwap-l.Memory, 10)
		default: // docker: as much swap as memory
			f["memory.swap.max"] = strconv.FormatInt(l.Memory, 10)
		}
	}
	if l.CPUs > 0 {
		f["cpu.max"] = fmt.Sprintf("%d %d", int64(l.CPUs*cpuPeriod), cpuPeriod)
	}
	if l.CPUShares > 0 {
		f["cpu.weight"] = strconv.FormatUint(sharesToWeight(l.CPUShares), 10)
	}
	if l.Pids > 0 {
		f["pids.max"] = strconv.FormatInt(l.Pids, 10)
	}
	return f
}

// sharesToWeight is runc's conversion of cgroup v1 shares (2..262144) to
// v2's cpu.weight (1..10000).
func sharesToWeight(shares uint64) uint64 {
	shares = min(max(shares, 2), 262144)
	return 1 + ((shares-2)*9999)/262142
}

// controllers the limits need enabled in the parent's subtree_control.
func (l Limits) controllers() []string {
	var c []string
	if l.Memory > 0 {
		c = append(c, "memory")
	}
	if l.CPUs > 0 || l.CPUShares > 0 {
		c = append(c, "cpu")
	}
	if l.Pids > 0 {
		c = append(c, "pids")
	}
	return c
}

// Host is where den looks: the cgroup mount and this process's cgroup
// file; tests point them at a directory tree shaped like the real one.
type Host struct {
	Mount   string // /sys/fs/cgroup
	Self    string // /proc/self/cgroup
	UID     int
	IsV2    func(mount string) bool
	CanEdit func(path string) bool
}

// System is this machine.
func System(uid int) Host {
	return Host{Mount: "/sys/fs/cgroup", Self: "/proc/self/cgroup", UID: uid, IsV2: isV2,
		CanEdit: func(p string) bool { return unix.Access(p, unix.W_OK) == nil }}
}

func isV2(mount string) bool {
	var st unix.Statfs_t
	return unix.Statfs(mount, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// ErrNoDelegation is behind every refusal.
var ErrNoDelegation = errors.New("no delegated cgroup v2")

// Parent finds the cgroup den's containers go under, for limits l: the
// systemd user manager's subtree (user@UID.service) that this process
// runs in, with l's controllers delegated. Otherwise an error that names
// the cause and the fix.
func (h Host) Parent(l Limits) (string, error) {
	if !h.IsV2(h.Mount) {
		return "", fmt.Errorf("%w: this host mounts cgroup v1 at %s, so den cannot enforce --memory, --memory-swap, --cpus, --cpu-shares or --pids-limit; boot with systemd.unified_cgroup_hierarchy=1 for cgroup v2, or drop the limit flags", ErrNoDelegation, h.Mount)
	}
	self, err := readSelf(h.Self)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoDelegation, err)
	}
	manager := fmt.Sprintf("user@%d.service", h.UID)
	i := strings.Index(self, "/"+manager+"/")
	if i < 0 && !strings.HasSuffix(self, "/"+manager) {
		return "", fmt.Errorf("%w: den runs in cgroup %s, outside your systemd user manager's delegated subtree; run it as: systemd-run --user --scope den run ...", ErrNoDelegation, self)
	}
	rel := self
	if i >= 0 {
		rel = self[:i+1+len(manager)]
	}
	parent := filepath.Join(h.Mount, rel)
	if !h.CanEdit(filepath.Join(parent, "cgroup.subtree_control")) {
		return "", fmt.Errorf("%w: %s is not writable by you; enable delegation: systemctl edit user@.service, add Delegate=yes under [Service], then log in again", ErrNoDelegation, parent)
	}
	have := strings.Fields(readString(filepath.Join(parent, "cgroup.controllers")))
	for _, c := range l.controllers() {
		if !contains(have, c) {
			return "", fmt.Errorf("%w: the %s controller is not delegated to %s; add Delegate=%s under [Service] with systemctl edit user@.service, then log in again", ErrNoDelegation, c, parent, strings.Join(l.controllers(), " "))
		}
	}
	return parent, nil
}

// readSelf reads the v2 line ("0::/path") of /proc/self/cgroup.
func readSelf(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s has no cgroup v2 entry", path)
}

// Create makes parent/den/name with limits l in force, enabling the
// controllers on the way down; the container's init then joins it
// (Join). den/ holds no process itself, as cgroup v2 requires of a
// cgroup that hands controllers down.
func Create(parent, name string, l Limits) (string, error) {
	enable := ""
	for _, c := range l.controllers() {
		enable += "+" + c + " "
	}
	enable = strings.TrimSpace(enable)
	den := filepath.Join(parent, "den")
	if err := os.Mkdir(den, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("creating cgroup %s: %w", den, err)
	}
	for _, dir := range []string{parent, den} {
		if enable == "" {
			break
		}
		if err := write(filepath.Join(dir, "cgroup.subtree_control"), enable); err != nil {
			return "", err
		}
	}
	dir := filepath.Join(den, name)
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("creating cgroup %s: %w", dir, err)
	}
	for file, value := range l.files() {
		if err := write(filepath.Join(dir, file), value); err != nil {
			_ = os.Remove(dir)
			return "", err
		}
	}
	return dir, nil
}

// Join moves the calling process into the cgroup dir.
func Join(dir string) error {
	return write(filepath.Join(dir, "cgroup.procs"), "0")
}

// Remove deletes a container's cgroup once its processes are gone.
func Remove(dir string) error {
	if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("removing cgroup %s: %w", dir, err)
	}
	return nil
}

func write(path, value string) error {
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("writing %q to %s: %w", value, path, err)
	}
	return nil
}

func readString(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
