package userns

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Init runs the waiting stage of the handshake when this process is one; it
// must be called from main before anything else reads the environment. In
// the waiting stage it blocks until the parent has written the maps, then
// re-executes den (it never returns). In the final stage it makes the mount
// tree private to this namespace.
func Init() error {
	switch os.Getenv(envStage) {
	case "wait":
		fd, err := strconv.Atoi(os.Getenv(envSyncFD))
		if err != nil {
			os.Exit(125)
		}
		sync := os.NewFile(uintptr(fd), "userns-sync")
		var b [1]byte
		if n, _ := sync.Read(b[:]); n != 1 {
			// The parent failed to map us and reports why itself.
			os.Exit(125)
		}
		sync.Close()
		os.Setenv(envStage, "child")
		os.Unsetenv(envSyncFD)
		err = syscall.Exec("/proc/self/exe", os.Args, os.Environ())
		fmt.Fprintf(os.Stderr, "den: re-executing inside the user namespace: %v\n", err)
		os.Exit(125)
	case "child":
		// Gaining capabilities at the re-exec cleared the parent-death
		// signal: set it again, so that den killed outside takes this
		// process (and the container under it) along.
		if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
			return fmt.Errorf("setting the parent-death signal: %w", err)
		}
		if strconv.Itoa(os.Getppid()) != os.Getenv(envParent) {
			os.Exit(137) // the outer den is already gone
		}
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			return mountDenied(err)
		}
	}
	return nil
}

// Inside reports whether this process is den inside its user namespace.
func Inside() bool { return os.Getenv(envStage) == "child" }

// SingleID reports whether the namespace maps only the caller's own ids.
func SingleID() bool { return os.Getenv(envSingle) == "1" }

func mountDenied(err error) error {
	if errors.Is(err, unix.EPERM) && read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1" {
		return fmt.Errorf("mounting in the user namespace: %w: AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1); as root: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or add an AppArmor profile for den with the userns permission", err)
	}
	return fmt.Errorf("making the mount tree private in the user namespace: %w", err)
}

// HostUID is the caller's uid on the host, also from inside the namespace
// (where getuid says 0).
func HostUID() int {
	if Inside() {
		if uid, err := strconv.Atoi(os.Getenv("_CONTAINERS_ROOTLESS_UID")); err == nil {
			return uid
		}
	}
	return os.Getuid()
}

// MappedIDs is the number of uids mapped into this process's namespace.
func MappedIDs() uint32 {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return 0
	}
	var total uint32
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var c, h, n uint32
		if _, err := fmt.Sscan(line, &c, &h, &n); err == nil {
			total += n
		}
	}
	return total
}
