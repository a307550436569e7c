package pid1

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// restrict narrows what the command will inherit from this thread: the
// capability bounding set, no_new_privs and the seccomp filter. They are
// set on init's own (locked) thread right before it forks the command,
// so init itself keeps running unrestricted on its other threads.
func restrict(c *Config) error {
	if c.Caps != nil {
		keep := map[uint]bool{}
		for _, cp := range c.Caps {
			keep[cp] = true
		}
		for cp := uint(0); cp <= c.LastCap; cp++ {
			if keep[cp] {
				continue
			}
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(cp), 0, 0, 0); err != nil {
				return fmt.Errorf("dropping capability %d from the bounding set: %w", cp, err)
			}
		}
	}
	if c.NoNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("setting no_new_privs: %w", err)
		}
	}
	if c.SeccompFilter != nil {
		return loadSeccomp(c.SeccompFilter)
	}
	return nil
}

// undumpable keeps the command away from the init: /proc/1/fd, /proc/1/
// root, /proc/1/exe and ptrace need CAP_SYS_PTRACE over the init (its
// descriptors include the control socket to den; its executable is den's
// binary on the host). The command's exec makes the command itself
// dumpable again, so debuggers in the container still work.
func undumpable() { _ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0) }

// lockThread pins init to one OS thread: prctl and seccomp act per thread,
// and the fork that starts the command must happen on that thread.
func lockThread() { runtime.LockOSThread() }

func loadSeccomp(packed []byte) error {
	if len(packed) == 0 || len(packed)%8 != 0 {
		return fmt.Errorf("loading the seccomp filter: %d bytes is not a program", len(packed))
	}
	filter := make([]unix.SockFilter, len(packed)/8)
	for i := range filter {
		b := packed[8*i:]
		filter[i] = unix.SockFilter{Code: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:])}
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&prog)), 0, 0); err != nil {
		return fmt.Errorf("loading the seccomp filter: %w", err)
	}
	return nil
}
