package pid1

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

// devices are bound from the host: mknod is refused in a user namespace.
var devices = []string{"null", "zero", "full", "random", "urandom", "tty"}

// setupRootfs builds the container's mounts under c.Rootfs, then makes it
// the root with pivot_root and detaches the old one. /proc is mounted
// before pivot_root: afterwards the kernel refuses it (no visible proc).
func setupRootfs(c *Config) error {
	if err := setupHost(c); err != nil {
		return err
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		return fmt.Errorf("making / a slave mount: %w", err)
	}
	root := c.Rootfs
	if c.tree != nil {
		err := unix.MoveMount(int(c.tree.Fd()), "", unix.AT_FDCWD, root, unix.MOVE_MOUNT_F_EMPTY_PATH)
		c.tree.Close()
		if err != nil {
			return fmt.Errorf("attaching the root filesystem %s (move_mount): %w", root, err)
		}
	}
	if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("binding the root filesystem %s: %w", root, err)
	}
	if err := mountAt(root, "/proc", "proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		if errors.Is(err, unix.EPERM) {
			// The kernel refuses a new proc where the one den sees has
			// masked or read-only parts (an outer container's runtime).
			return fmt.Errorf("%w: this host's /proc is partly masked (den runs inside a container?); den doctor names the outer runtime's flags that unmask it", err)
		}
		return err
	}
	if err := setupDev(c); err != nil {
		return err
	}
	if err := setupSys(c); err != nil {
		return err
	}
	for _, b := range c.Files {
		if err := bind(root, b, false); err != nil {
			return err
		}
	}
	for _, m := range userMounts(root, c) {
		if err := m.mount(); err != nil {
			return err
		}
	}
	if err := touch(root, "/run/.containerenv"); err != nil && !c.ReadOnly {
		return err
	}
	if err := maskPaths(root, c.MaskedPaths); err != nil {
		return err
	}
	for _, p := range c.ReadonlyPaths {
		if err := readonlyPath(root, p); err != nil {
			return err
		}
	}
	if c.ReadOnly {
		// The working directory is made while it still can be (docker
		// makes it before the root goes read-only).
		if c.Cwd != "" {
			if _, err := mkdirIn(root, c.Cwd); err != nil {
				return fmt.Errorf("creating working directory %s: %w", c.Cwd, err)
			}
		}
		if err := remountRO(root); err != nil {
			return fmt.Errorf("making the root filesystem read-only: %w", err)
		}
	}
	return pivot(root)
}

func setupDev(c *Config) error {
	root := c.Rootfs
	if err := mountAt(root, "/dev", "tmpfs", "tmpfs", unix.MS_NOSUID|unix.MS_STRICTATIME, "mode=755,size=65536k"); err != nil {
		return err
	}
	for _, d := range devices {
		dst := filepath.Join(root, "dev", d)
		if err := os.WriteFile(dst, nil, 0o666); err != nil {
			return fmt.Errorf("creating /dev/%s: %w", d, err)
		}
		if err := unix.Mount("/dev/"+d, dst, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("binding /dev/%s from the host: %w", d, err)
		}
	}
	ptsOpts := "newinstance,ptmxmode=0666,mode=0620"
	if c.TTYGroup {
		ptsOpts += ",gid=5"
	}
	if err := mountAt(root, "/dev/pts", "devpts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, ptsOpts); err != nil {
		return err
	}
	shm := "mode=1777,size=65536k"
	if c.ShmSize > 0 {
		shm = fmt.Sprintf("mode=1777,size=%d", c.ShmSize)
	}
	if err := mountAt(root, "/dev/shm", "shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, shm); err != nil {
		return err
	}
	if err := mountAt(root, "/dev/mqueue", "mqueue", "mqueue", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		// Only a new IPC namespace may mount mqueue; it is optional.
		_ = os.Remove(filepath.Join(root, "dev", "mqueue"))
	}
	for link, target := range map[string]string{
		"ptmx": "pts/ptmx", "fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2", "core": "/proc/kcore",
	} {
		if err := os.Symlink(target, filepath.Join(root, "dev", link)); err != nil {
			return fmt.Errorf("creating /dev/%s: %w", link, err)
		}
	}
	return bindDevices(root, c.Devices)
}

func setupSys(c *Config) error {
	flags := uintptr(unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY)
	if !c.HostSys {
		if err := mountAt(c.Rootfs, "/sys", "sysfs", "sysfs", flags, ""); err == nil {
			return nil
		}
	}
	dst, err := mkdirIn(c.Rootfs, "/sys")
	if err != nil {
		return err
	}
	if err := unix.Mount("/sys", dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("binding /sys: %w", err)
	}
	return remountRO(dst)
}

// mountAt mounts a filesystem on a directory inside root, resolving the
// path inside root so that a symlink in the image cannot redirect it.
func mountAt(root, path, source, fstype string, flags uintptr, data string) error {
	dst, err := mkdirIn(root, path)
	if err != nil {
		return err
	}
	if err := unix.Mount(source, dst, fstype, flags, data); err != nil {
		return fmt.Errorf("mounting %s on %s: %w", fstype, path, err)
	}
	return nil
}

func mkdirIn(root, path string) (string, error) {
	dst, err := securejoin.SecureJoin(root, path)
	if err != nil {
		return "", fmt.Errorf("resolving %s in the container: %w", path, err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return "", fmt.Errorf("creating %s in the container: %w", path, err)
	}
	return dst, nil
}

func touch(root, path string) error {
	dst, err := securejoin.SecureJoin(root, path)
	if err != nil {
		return fmt.Errorf("resolving %s in the container: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("creating the parent of %s: %w", path, err)
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("creating %s in the container: %w", path, err)
	}
	return f.Close()
}

// bind mounts b.Source over b.Dest; the destination is resolved inside the
// root (securejoin), so an image's symlink cannot aim a mount at the host.
func bind(root string, b Bind, recursive bool) error {
	fi, err := os.Stat(b.Source)
	if err != nil {
		return fmt.Errorf("bind source %s: %w", b.Source, err)
	}
	var dst string
	if fi.IsDir() {
		dst, err = mkdirIn(root, b.Dest)
	} else {
		err = touch(root, b.Dest)
		if err == nil {
			dst, err = securejoin.SecureJoin(root, b.Dest)
		}
	}
	if err != nil {
		return err
	}
	flags := uintptr(unix.MS_BIND)
	if recursive {
		flags |= unix.MS_REC
	}
	if err := unix.Mount(b.Source, dst, "", flags, ""); err != nil {
		return fmt.Errorf("bind-mounting %s on %s: %w", b.Source, b.Dest, err)
	}
	if b.ReadOnly {
		return remountRO(dst)
	}
	return nil
}

// remountRO makes a bind mount read-only, keeping the flags the kernel
// locked on it (nosuid, nodev, ...), which a user namespace may not clear.
func remountRO(dst string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dst, &st); err != nil {
		return fmt.Errorf("reading the mount flags of %s: %w", dst, err)
	}
	keep := uintptr(st.Flags) & (unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME)
	if err := unix.Mount("", dst, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|keep, ""); err != nil {
		return fmt.Errorf("making %s read-only: %w", dst, err)
	}
	return nil
}

// maskPaths hides kernel interfaces a container has no business reading:
// files under /dev/null, directories under an empty read-only tmpfs.
func maskPaths(root string, paths []string) error {
	for _, p := range paths {
		dst, err := securejoin.SecureJoin(root, p)
		if err != nil {
			return err
		}
		fi, err := os.Stat(dst)
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("masking %s: %w", p, err)
		}
		if fi.IsDir() {
			err = unix.Mount("tmpfs", dst, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=0,mode=0555")
		} else {
			err = unix.Mount("/dev/null", dst, "", unix.MS_BIND, "")
		}
		if err != nil {
			return fmt.Errorf("masking %s: %w", p, err)
		}
	}
	return nil
}

func readonlyPath(root, p string) error {
	dst, err := securejoin.SecureJoin(root, p)
	if err != nil {
		return err
	}
	if _, err := os.Stat(dst); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := unix.Mount(dst, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("binding %s read-only: %w", p, err)
	}
	return remountRO(dst)
}

var tmpfsFlags = map[string]uintptr{
	"ro": unix.MS_RDONLY, "noexec": unix.MS_NOEXEC, "nosuid": unix.MS_NOSUID, "nodev": unix.MS_NODEV,
	"rw": 0, "exec": 0, "suid": 0, "dev": 0,
}

// mountTmpfs mounts a tmpfs; flag words become mount flags, the rest
// (size=, mode=) tmpfs options, as mount(8) reads them.
func mountTmpfs(root string, t Tmpfs) error {
	flags := uintptr(unix.MS_NOSUID | unix.MS_NODEV)
	var data []string
	for _, o := range strings.Split(t.Options, ",") {
		if o == "" {
			continue
		}
		if f, ok := tmpfsFlags[o]; ok {
			flags |= f
			continue
		}
		data = append(data, o)
	}
	return mountAt(root, t.Dest, "tmpfs", "tmpfs", flags, strings.Join(data, ","))
}

func pivot(root string) error {
	if err := unix.Chdir(root); err != nil {
		return fmt.Errorf("entering the root filesystem: %w", err)
	}
	// pivot_root(".", ".") stacks the old root under the new one; the
	// detach then leaves only the container's tree.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root into %s: %w", root, err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching the host's root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return err
	}
	return nil
}

// userMount is a bind or tmpfs of the user's (or --read-only's).
type userMount struct {
	dest  string
	mount func() error
}

// userMounts orders the binds and tmpfs mounts parents first, as docker
// does (a bind at /tmp/x must land on the tmpfs at /tmp, not under it).
// --read-only's own tmpfs (/tmp, /run, /var/tmp) is left out where the
// user mounts something (the spec refuses the user's own duplicates).
func userMounts(root string, c *Config) []userMount {
	var ms []userMount
	taken := map[string]bool{}
	for _, b := range c.Mounts {
		taken[filepath.Clean(b.Dest)] = true
		ms = append(ms, userMount{b.Dest, func() error { return bind(root, b, true) }})
	}
	for _, t := range c.Tmpfs {
		if !t.Default {
			taken[filepath.Clean(t.Dest)] = true
		}
	}
	for _, t := range c.Tmpfs {
		if !t.Default || !taken[filepath.Clean(t.Dest)] {
			ms = append(ms, userMount{t.Dest, func() error { return mountTmpfs(root, t) }})
		}
	}
	depth := func(p string) int { return strings.Count(filepath.Clean(p), "/") }
	sort.SliceStable(ms, func(i, j int) bool { return depth(ms[i].dest) < depth(ms[j].dest) })
	return ms
}
