package userns

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Init runs the waiting stage of the handshake when this process is one; it
// must be called from main before anything else reads the environment. In
// the waiting stage it blocks until the parent has written the maps, then
// drops the ambient and inheritable capabilities it was started with and
// goes on as the final stage, which makes the mount tree private to this
// namespace.
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
		if err := dropCarriedCaps(); err != nil {
			return err
		}
		fallthrough
	case "child":
		if err := dieWithParent(); err != nil {
			return err
		}
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			return mountDenied(err)
		}
	}
	return nil
}

// dieWithParent sets the parent-death signal again, which raising
// capabilities may have cleared, so that den killed outside takes this
// process (and the container under it) along; a detached child instead
// outlives the den that started it.
func dieWithParent() error {
	if os.Getenv(envAlone) == "1" {
		os.Unsetenv(envAlone)
		return nil
	}
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("setting the parent-death signal: %w", err)
	}
	if strconv.Itoa(os.Getppid()) != os.Getenv(envParent) {
		os.Exit(137) // the outer den is already gone
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

// dropCarriedCaps leaves the capabilities as an exec as root in the
// namespace would: all permitted and effective, none inheritable or
// ambient. Kept, those two sets would pass every capability to the
// container's command past its bounding set. Capabilities belong to each
// thread: the change is made on all of the runtime's threads at once.
func dropCarriedCaps() error {
	if _, _, e := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0); e != 0 {
		return fmt.Errorf("clearing the ambient capabilities: %w (den must be built with CGO_ENABLED=0)", e)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("reading the capabilities: %w", err)
	}
	data[0].Inheritable, data[1].Inheritable = 0, 0
	if _, _, e := syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		return fmt.Errorf("clearing the inheritable capabilities: %w", e)
	}
	return nil
}
