package ctl

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// closeRangeCloexec is CLOSE_RANGE_CLOEXEC (linux/close_range.h, 5.11).
const closeRangeCloexec = 1 << 2

// CloseInherited marks every descriptor above stderr close-on-exec, so
// that what den starts (the namespace child, network programs, the
// container's command) gets only what den hands it, as with docker: a
// shell or CI runner often leaves descriptors open for its children.
// Descriptors den was handed on purpose (FD) are still read by this
// process: the flag only stops them going further.
func CloseInherited() {
	if unix.CloseRange(3, ^uint(0), closeRangeCloexec) == nil {
		return
	}
	// Kernels before 5.11.
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}
