package doctor

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// outerRuntimeFlags is what an outer docker or podman must grant: a
// seccomp profile that allows unshare, AppArmor off for it, an unmasked
// /proc (the kernel lets a namespace mount /proc only where no part of it
// is hidden) and the tun device.
const outerRuntimeFlags = "docker run --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined --device /dev/net/tun ... (Kubernetes: securityContext.seccompProfile.type: Unconfined, procMount: Unmasked)"

// InContainer names the signs that this process runs in a container:
// the files docker and podman leave, container cgroup paths, and
// Kubernetes' environment. Empty outside one.
func InContainer() []string {
	var signs []string
	for _, f := range []string{".dockerenv", "run/.containerenv"} {
		if _, err := os.Stat(filepath.Join(Host.Root, f)); err == nil {
			signs = append(signs, "/"+f)
		}
	}
	if b, err := os.ReadFile(Host.SelfCgroup); err == nil {
		for _, k := range []string{"docker", "kubepods", "libpod", "containerd", "lxc"} {
			if strings.Contains(string(b), "/"+k) {
				signs = append(signs, "cgroup path with "+k)
				break
			}
		}
	}
	if os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		signs = append(signs, "KUBERNETES_SERVICE_HOST")
	}
	return signs
}

// maskedProc lists the mounts that hide parts of /proc (docker's masked
// paths): with them the kernel refuses the container init's /proc mount.
func maskedProc() []string {
	f, err := os.Open(Host.MountInfo)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := fields[4]
		// binfmt_misc and nfsd have empty directories in procfs: mounts there hide nothing.
		if strings.HasPrefix(mp, "/proc/") && mp != "/proc/sys/fs/binfmt_misc" && mp != "/proc/fs/nfsd" {
			out = append(out, mp)
		}
	}
	return out
}

// Container reports what an outer container forbids: unshare (a seccomp
// profile; unshareErr is TryUnshare's outcome), an unmasked /proc, and
// the tun device, which runtimes leave out unless given --device.
func Container(signs []string, unshareErr error) Check {
	const name = "container"
	masked := maskedProc()
	if len(signs) == 0 && len(masked) == 0 {
		return ok(name, "not inside a container")
	}
	var wrong []string
	if unshareErr != nil {
		wrong = append(wrong, "unshare(CLONE_NEWUSER) is refused (a seccomp profile?)")
	}
	if len(masked) > 0 {
		wrong = append(wrong, "/proc is partly masked ("+strings.Join(masked, ", ")+"), so a container's /proc cannot be mounted")
	}
	if _, err := os.Stat(Host.Tun); err != nil && len(signs) > 0 {
		wrong = append(wrong, Host.Tun+" does not exist")
	}
	where := "inside a container"
	if len(signs) > 0 {
		where += " (" + strings.Join(signs, ", ") + ")"
	}
	if len(wrong) > 0 {
		return fail(name, outerRuntimeFlags, "%s: %s", where, strings.Join(wrong, "; "))
	}
	return ok(name, "%s: it allows unshare, leaves /proc unmasked and has %s", where, Host.Tun)
}
