package doctor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// TryUnshare starts den's own binary (`den version`) in a new user
// namespace: the plain clone that seccomp profiles and sysctls refuse,
// without newuidmap or mounts.
func TryUnshare() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, "version")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	cmd.Env = []string{}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER}
	return cmd.Run()
}

// UserNamespaces reads the sysctls that turn unprivileged user namespaces
// off and says which one is to blame when unshare failed.
func UserNamespaces(unshareErr error) Check {
	const name = "user namespaces"
	maxNS, _ := readTrim(filepath.Join(Host.Sys, "user/max_user_namespaces"))
	if maxNS == "0" {
		return fail(name, persistSysctl("user.max_user_namespaces", "28633"),
			"user.max_user_namespaces is 0: no user namespace can be created")
	}
	if v, ok := readTrim(filepath.Join(Host.Sys, "kernel/unprivileged_userns_clone")); ok && v == "0" {
		return fail(name, persistSysctl("kernel.unprivileged_userns_clone", "1"),
			"kernel.unprivileged_userns_clone is 0: only root may create user namespaces")
	}
	if unshareErr != nil {
		why := "the kernel refuses"
		if errors.Is(unshareErr, unix.EPERM) {
			why = "refused (EPERM: a seccomp profile or security module forbids it; see the container line)"
		} else if errors.Is(unshareErr, unix.ENOSPC) {
			why = "refused (ENOSPC: user.max_user_namespaces is used up)"
		}
		return fail(name, "", "creating a user namespace: %v: %s", unshareErr, why)
	}
	return ok(name, "enabled (user.max_user_namespaces=%s)", maxNS)
}

func persistSysctl(key, value string) string {
	return fmt.Sprintf("sudo sysctl -w %s=%s && echo %s=%s | sudo tee /etc/sysctl.d/99-zz-den.conf", key, value, key, value)
}

// AppArmor reports Ubuntu's restriction of unprivileged user namespaces
// (24.04 sets it): den's namespace then works only under a profile with
// the userns rule for den's own path, printed as the fix. nsErr is how
// entering den's namespace went. No check where the sysctl does not exist.
func AppArmor(exe string, nsErr error) (Check, bool) {
	const name = "apparmor"
	v, exists := readTrim(filepath.Join(Host.Sys, "kernel/apparmor_restrict_unprivileged_userns"))
	if !exists {
		return Check{}, false
	}
	if v != "1" {
		return ok(name, "kernel.apparmor_restrict_unprivileged_userns=%s", v), true
	}
	if nsErr == nil {
		return ok(name, "kernel.apparmor_restrict_unprivileged_userns=1, and a profile lets %s use user namespaces", exe), true
	}
	return fail(name, AppArmorProfile(exe),
		"kernel.apparmor_restrict_unprivileged_userns=1 and no profile gives %s the userns permission", exe), true
}

// AppArmorProfile is the command that installs an unconfined profile with
// the userns rule for exe, as rootlesskit's documentation gives its own.
func AppArmorProfile(exe string) string {
	file := strings.ReplaceAll(strings.TrimPrefix(exe, "/"), "/", ".")
	return fmt.Sprintf(`cat <<EOT | sudo tee /etc/apparmor.d/%[1]s
abi <abi/4.0>,
include <tunables/global>

%[2]s flags=(unconfined) {
  userns,

  # Site-specific additions and overrides. See local/README for details.
  include if exists <local/%[1]s>
}
EOT
sudo systemctl restart apparmor.service`, file, exe)
}

// IDMappers checks newuidmap and newgidmap, found in PATH as den finds
// them. Without them den maps only the caller's uid (a warning); present
// but neither setuid root nor with file capabilities, den's namespace
// fails whenever it uses them, which it does when the user has a range.
func IDMappers(haveRange bool) Check {
	const name = "newuidmap/newgidmap"
	var found []string
	for _, prog := range []string{"newuidmap", "newgidmap"} {
		p, err := exec.LookPath(prog)
		if err != nil {
			return warn(name, "sudo apt-get install uidmap",
				"%s is not installed: den maps only your own uid, so files owned by other users in images are stored as root", prog)
		}
		if how, good := privileged(p); !good {
			fix := mapperFix(prog, p)
			if !haveRange {
				return warn(name, fix, "%s is neither setuid root nor has file capabilities (%s); den does not use it while you have no subordinate range", p, how)
			}
			return fail(name, fix, "%s is neither setuid root nor has file capabilities (%s): den cannot map your subordinate ids", p, how)
		}
		found = append(found, p)
	}
	return ok(name, "%s", strings.Join(found, ", "))
}

// privileged says whether a mapper can write another process's maps:
// setuid root, or file capabilities (Fedora ships them so).
func privileged(path string) (string, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return err.Error(), false
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode()&os.ModeSetuid != 0 && st.Uid == 0 {
		return "setuid root", true
	}
	if n, err := unix.Getxattr(path, "security.capability", nil); err == nil && n > 0 {
		return "file capabilities", true
	}
	var fs unix.Statfs_t
	switch {
	case fi.Mode()&os.ModeSetuid != 0 && unix.Statfs(path, &fs) == nil && fs.Flags&unix.ST_NOSUID != 0:
		return "setuid, but on a nosuid mount", false
	case fi.Mode()&os.ModeSetuid != 0:
		return fmt.Sprintf("setuid, but owned by uid %d, not root", st.Uid), false
	}
	return fmt.Sprintf("mode %04o, owner uid %d", st.Mode&0o7777, st.Uid), false
}

// mapperFix prefers a good copy elsewhere in the system's directories
// (the one found first in PATH may be a stray copy) to making a file
// setuid.
func mapperFix(prog, found string) string {
	for _, dir := range []string{"/usr/bin", "/usr/sbin", "/bin", "/sbin"} {
		p := filepath.Join(dir, prog)
		if p == found {
			break
		}
		if _, good := privileged(p); good {
			return "export PATH=" + dir + ":$PATH"
		}
	}
	return fmt.Sprintf("sudo chown root:root %s && sudo chmod u+s %s", found, found)
}
