package doctor

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"

	units "github.com/docker/go-units"
	"golang.org/x/sys/unix"
)

// Tun checks that the user can open /dev/net/tun, which every network
// backend but none and host needs: without it the default `den run` fails.
func Tun(me Me, inContainer bool) Check {
	const name = "/dev/net/tun"
	f, err := os.OpenFile(Host.Tun, os.O_RDWR, 0)
	if err == nil {
		f.Close()
		return ok(name, "usable")
	}
	switch {
	case errors.Is(err, os.ErrNotExist) && inContainer:
		return fail(name, outerRuntimeFlags, "%s does not exist in this container: the default network needs it (--network none|host work without)", Host.Tun)
	case errors.Is(err, os.ErrNotExist):
		return fail(name, "sudo modprobe tun", "%s does not exist: the default network needs it (--network none|host work without)", Host.Tun)
	case errors.Is(err, os.ErrPermission):
		mode := ""
		if fi, serr := os.Stat(Host.Tun); serr == nil {
			mode = fmt.Sprintf(" (mode %04o)", fi.Mode().Perm())
		}
		return fail(name, "sudo chmod 0666 "+Host.Tun,
			"not usable by %s%s: the default network needs it (--network none|host work without)", me.Name, mode)
	}
	return fail(name, "", "opening %s: %v", Host.Tun, err)
}

// Overlay reports how den's store mounts layers, from the mount den tried
// in its namespace (nativeErr empty when native overlay worked): else
// fuse-overlayfs, which needs the program and a /dev/fuse the user can
// open.
func Overlay(nativeErr string) Check {
	const name = "overlay"
	if nativeErr == "" {
		return ok(name, "native overlay works in den's user namespace")
	}
	prog, err := exec.LookPath("fuse-overlayfs")
	if err != nil {
		return fail(name, "sudo apt-get install fuse-overlayfs",
			"native overlay is refused in the user namespace (%s) and fuse-overlayfs is not installed", nativeErr)
	}
	f, err := os.OpenFile(Host.Fuse, os.O_RDWR, 0)
	if err != nil {
		return fail(name, "sudo chmod 0666 "+Host.Fuse,
			"native overlay is refused in the user namespace (%s) and %s is not usable for fuse-overlayfs: %v", nativeErr, Host.Fuse, err)
	}
	f.Close()
	return warn(name, "sudo apt-get install linux-image-$(dpkg --print-architecture)",
		"native overlay is refused in the user namespace (%s): den uses %s, which is slower (kernel 5.11 or later mounts overlay natively)", nativeErr, prog)
}

// Network reports the programs the default network may use and the one
// it does use (chosen is netns.Choose("slirp")).
func Network(chosen string) Check {
	const name = "network"
	pasta, perr := exec.LookPath("pasta")
	slirp, serr := exec.LookPath("slirp4netns")
	switch {
	case perr == nil && serr == nil:
		return ok(name, "the default network uses %s (%s; slirp4netns: %s)", chosen, pasta, slirp)
	case perr == nil:
		return ok(name, "the default network uses %s (%s; slirp4netns is not installed)", chosen, pasta)
	case serr == nil:
		return warn(name, "sudo apt-get install passt", "pasta is not installed: the default network uses %s (%s), which is slower", chosen, slirp)
	}
	return warn(name, "sudo apt-get install passt", "neither pasta nor slirp4netns is installed: the default network uses den's %s stack, which is slower", chosen)
}

// RuntimeDir reports where den keeps runtime state: dir (run.RuntimeRoot),
// from $XDG_RUNTIME_DIR when it is the user's, else the /tmp fallback.
func RuntimeDir(me Me, xdg, dir string, dirErr error) Check {
	const name = "runtime dir"
	own := "/run/user/" + strconv.Itoa(me.UID)
	fix := "export XDG_RUNTIME_DIR=" + own
	if dirErr != nil {
		if owner(own) != me.UID {
			// no systemd login session (su, containers): any private
			// directory of the user's does
			fix = "mkdir -m 700 -p ~/.den-run && export XDG_RUNTIME_DIR=~/.den-run (or, where systemd runs: sudo loginctl enable-linger " + me.Name + ")"
		}
		return fail(name, fix, "%v", dirErr)
	}
	switch {
	case xdg == "":
		return ok(name, "%s (XDG_RUNTIME_DIR is not set)", dir)
	case filepath.Dir(dir) == xdg:
		return ok(name, "%s (from XDG_RUNTIME_DIR)", dir)
	}
	if owner(own) != me.UID {
		fix = "unset XDG_RUNTIME_DIR"
	}
	return warn(name, fix, "XDG_RUNTIME_DIR=%s is not a directory of yours (after su or sudo?): den uses %s", xdg, dir)
}

func owner(path string) int {
	fi, err := os.Stat(path)
	if err != nil || !fi.IsDir() {
		return -1
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid)
}

// minFree is the free space under which the store gets a warning.
const minFree = 2 << 30

// Store checks the filesystem the store is (or will be) on: NFS, where
// overlay's upper directories do not work; noexec, which bind mounts from
// the store keep; and free space.
func Store(root string) Check {
	const name = "store"
	at := root
	for {
		if _, err := os.Stat(at); err == nil || filepath.Dir(at) == at {
			break
		}
		at = filepath.Dir(at)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(at, &st); err != nil {
		return fail(name, "den --root DIR ...", "statfs %s: %v", at, err)
	}
	fs := fsName(st.Type)
	free := int64(st.Bavail) * st.Bsize
	moveFix := "den --root /path/on/a/local/disk/den ..."
	// The nearest existing directory must take what den makes (the store
	// itself, or the directories down to it).
	if err := unix.Access(at, unix.W_OK|unix.X_OK); err != nil || st.Flags&unix.ST_RDONLY != 0 {
		why := "is read-only"
		if err != nil {
			why = "is not writable by you (" + err.Error() + ")"
		}
		return fail(name, "export XDG_DATA_HOME=$HOME/.local/share (a directory you own), or: "+moveFix, "%s: %s %s", root, at, why)
	}
	switch {
	case st.Type == unix.NFS_SUPER_MAGIC:
		return warn(name, moveFix, "%s is on NFS: overlay cannot keep containers' files there (root squash and no xattrs)", root)
	case st.Flags&unix.ST_NOEXEC != 0:
		return warn(name, fmt.Sprintf("sudo mount -o remount,exec %s (or: %s)", mountPoint(at), moveFix),
			"%s is on a noexec mount (%s): den run works (its overlay mounts allow exec), but files bound in from the store cannot be executed", root, fs)
	case free < minFree:
		return warn(name, "den prune -a (or: "+moveFix+")", "%s (%s) has only %s free", root, fs, units.HumanSize(float64(free)))
	}
	return ok(name, "%s (%s, %s free)", root, fs, units.HumanSize(float64(free)))
}

func fsName(t int64) string {
	names := map[int64]string{
		unix.EXT4_SUPER_MAGIC: "ext4", unix.XFS_SUPER_MAGIC: "xfs", unix.BTRFS_SUPER_MAGIC: "btrfs",
		unix.TMPFS_MAGIC: "tmpfs", unix.NFS_SUPER_MAGIC: "nfs", unix.OVERLAYFS_SUPER_MAGIC: "overlay",
		unix.FUSE_SUPER_MAGIC: "fuse", 0x2fc12fc1: "zfs", unix.F2FS_SUPER_MAGIC: "f2fs",
	}
	if n, ok := names[t]; ok {
		return n
	}
	return fmt.Sprintf("filesystem 0x%x", t)
}

// mountPoint is the mount that holds path: the nearest ancestor on
// another device.
func mountPoint(path string) string {
	dev := func(p string) uint64 {
		var st unix.Stat_t
		if unix.Stat(p, &st) != nil {
			return 0
		}
		return st.Dev
	}
	d := dev(path)
	for path != "/" && dev(filepath.Dir(path)) == d {
		path = filepath.Dir(path)
	}
	return path
}
