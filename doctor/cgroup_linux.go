package doctor

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// CgroupInfo is what den can do with cgroups here.
type CgroupInfo struct {
	Version string `json:"version"` // "v1", "v1 (hybrid)" or "v2"
	// Delegated is the cgroup v2 directory the user owns, if any.
	Delegated   string   `json:"delegated,omitempty"`
	Controllers []string `json:"controllers"`
}

// limitControllers are what --memory, --cpus and --pids-limit need.
var limitControllers = []string{"cpu", "memory", "pids"}

const delegateFix = `sudo mkdir -p /etc/systemd/system/user@.service.d && printf '[Service]\nDelegate=cpu cpuset io memory pids\n' | sudo tee /etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl daemon-reload`

const unifiedFix = `sudo sed -i 's/^GRUB_CMDLINE_LINUX="/&systemd.unified_cgroup_hierarchy=1 /' /etc/default/grub && sudo update-grub && sudo reboot`

// Cgroups finds the cgroup version and, on v2, the subtree delegated to
// the user (systemd's user@UID.service) and its controllers.
func Cgroups(me Me) CgroupInfo {
	var st unix.Statfs_t
	if unix.Statfs(Host.Cgroup, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		ci := CgroupInfo{Version: "v2", Controllers: []string{}}
		if d := delegated(me); d != "" {
			ci.Delegated = strings.TrimPrefix(d, Host.Cgroup)
			c, _ := readTrim(filepath.Join(d, "cgroup.controllers"))
			ci.Controllers = strings.Fields(c)
		}
		return ci
	}
	ci := CgroupInfo{Version: "v1", Controllers: []string{}}
	unified := filepath.Join(Host.Cgroup, "unified")
	if unix.Statfs(unified, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		ci.Version = "v1 (hybrid)"
	}
	return ci
}

// CgroupCheck: limits need cgroup v2 with cpu, memory and pids delegated;
// without them den refuses the limit flags, and runs everything else.
func CgroupCheck(me Me) Check { return cgroupCheck(me, Cgroups(me)) }

func cgroupCheck(me Me, ci CgroupInfo) Check {
	const name = "cgroups"
	switch {
	case ci.Version == "v1 (hybrid)":
		c, _ := readTrim(filepath.Join(Host.Cgroup, "unified", "cgroup.controllers"))
		held := "no controllers"
		if c != "" {
			held = "only " + c
		}
		return warn(name, unifiedFix, "cgroup v1, with a v2 hierarchy at %s/unified that holds %s: --memory, --cpus and --pids-limit are refused (they need cgroup v2)", Host.Cgroup, held)
	case ci.Version == "v1":
		return warn(name, unifiedFix, "cgroup v1: --memory, --cpus and --pids-limit are refused (they need cgroup v2)")
	case ci.Delegated == "":
		return warn(name, delegateFix, "cgroup v2, but no cgroup is delegated to %s: --memory, --cpus and --pids-limit are refused (log in through systemd, or run den under systemd-run --user --scope)", me.Name)
	}
	var missing []string
	for _, c := range limitControllers {
		if !contains(ci.Controllers, c) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return warn(name, delegateFix, "cgroup v2, delegated at %s without %s: the limits that need them are refused", ci.Delegated, strings.Join(missing, ", "))
	}
	return ok(name, "cgroup v2, delegated at %s: %s", ci.Delegated, strings.Join(ci.Controllers, " "))
}

// delegated is the highest cgroup directory above the process's own that
// the user owns, or systemd's user@UID.service when it is the user's.
func delegated(me Me) string {
	own := func(p string) bool {
		fi, err := os.Stat(p)
		return err == nil && int(fi.Sys().(*syscall.Stat_t).Uid) == me.UID
	}
	found := ""
	if b, err := os.ReadFile(Host.SelfCgroup); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rel, ok := strings.CutPrefix(line, "0::"); ok {
				for d := filepath.Join(Host.Cgroup, rel); len(d) > len(Host.Cgroup); d = filepath.Dir(d) {
					if own(d) {
						found = d
					}
				}
			}
		}
	}
	if found != "" {
		return found
	}
	svc := filepath.Join(Host.Cgroup, "user.slice", fmt.Sprintf("user-%d.slice", me.UID), "user@"+strconv.Itoa(me.UID)+".service")
	if own(svc) {
		return svc
	}
	return ""
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
