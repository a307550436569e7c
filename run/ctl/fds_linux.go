package ctl

import (
	"io"
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
	// Note which low descriptors came without the flag, so inherited:
	// den run --preserve-fds may pass only those on (the Go runtime's own
	// have it, and must never reach a container).
	for fd := 3; fd < 3+len(inherited); fd++ {
		if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC == 0 {
			inherited[fd-3] = true
		}
	}
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

// inherited[i] says whether descriptor 3+i came from den's caller.
var inherited [64]bool

// FromCaller says whether descriptor fd came from den's caller, as
// CloseInherited found it (only 3 to 66 are looked at).
func FromCaller(fd int) bool { return fd >= 3 && fd < 3+len(inherited) && inherited[fd-3] }

// Passable is what the command may hold of den's own descriptors: a pipe,
// a socket, /dev/null. A terminal is not (TIOCSTI would push input into
// the user's shell, which runs it once den exits), nor a file (reopened
// through /proc/self/fd, truncated): those reach the command through a
// pipe, as docker's streams always do. Input is copied by the den the
// user runs, in the terminal's foreground process group (a read from a
// background one stops the reader's group); output by den's child, or
// den exec and den attach, never the init (within a SYS_PTRACE
// container's reach).
func Passable(f *os.File) bool {
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil {
		return false
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFIFO, unix.S_IFSOCK:
		return true
	case unix.S_IFCHR:
		return st.Rdev == unix.Mkdev(1, 3)
	}
	return false
}

// GuardInput is f, or when f is not Passable the read end of a pipe fed
// from f by a goroutine, and the function that closes that read end once
// it has been handed on. The copy is never waited for: a terminal may
// never end.
func GuardInput(f *os.File) (*os.File, func(), error) {
	if Passable(f) {
		return f, func() {}, nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	go func() { _, _ = io.Copy(w, f); w.Close() }()
	return r, func() { r.Close() }, nil
}

// GuardOutput is f, or when f is not Passable the write end of a pipe
// whose reader a goroutine copies into f; handed closes that write end
// once it has been handed on, and wait waits for the copy's end: until
// every writer is gone, as docker exec waits for its streams (a process
// the command left in the background keeps them, and is not cut off by
// SIGPIPE).
func GuardOutput(f *os.File) (out *os.File, handed, wait func(), err error) {
	if Passable(f) {
		return f, func() {}, func() {}, nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, nil, err
	}
	done := make(chan struct{})
	go func() { _, _ = io.Copy(f, r); r.Close(); close(done) }()
	return w, func() { w.Close() }, func() { <-done }, nil
}
