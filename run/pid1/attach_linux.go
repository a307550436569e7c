package pid1

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/run/ctl"
)

// commandPid is the container's command, which an attached den's
// signals reach; a restart policy changes it.
var commandPid atomic.Int32

// attachedConns are the dens attached to the container; each hears the
// container's exit status.
var attachedConns = struct {
	sync.Mutex
	m map[*ctl.Conn]bool
}{m: map[*ctl.Conn]bool{}}

// attachOne joins a den to a detached container's stdio until that den
// leaves (its detach keys, or its end) or the container exits.
func attachOne(conn *ctl.Conn, m ctl.Msg, files []*os.File) error {
	var a ctl.AttachBody
	if err := m.Decode(&a); err != nil {
		ctl.CloseAll(files)
		return err
	}
	if attachable.stdout == nil || len(files) < 2 {
		ctl.CloseAll(files)
		return fmt.Errorf("den attach works on containers started with -d (this one's output goes to the den that runs it)")
	}
	var input []*os.File
	if a.Stdin && attachable.input != nil {
		fd, err := unix.FcntlInt(attachable.input.Fd(), unix.F_DUPFD_CLOEXEC, 0)
		if err == nil {
			dup := os.NewFile(uintptr(fd), "attach-input")
			defer dup.Close()
			input = append(input, dup)
		}
	}
	attachedConns.Lock()
	attachedConns.m[conn] = true
	attachedConns.Unlock()
	defer func() {
		attachedConns.Lock()
		delete(attachedConns.m, conn)
		attachedConns.Unlock()
	}()
	// The output reaches den from before it hears Attached: what it
	// types at once is answered to it, not only to the log.
	stdout, stderr := files[0], files[1]
	attachable.stdout.add(stdout)
	attachable.stderr.add(stderr)
	defer attachable.stdout.remove(stdout)
	defer attachable.stderr.remove(stderr)
	if err := conn.Send(ctl.Attached, ctl.AttachedBody{Tty: attachable.tty}, input...); err != nil {
		return nil
	}
	relaySignals(conn, func() int { return int(commandPid.Load()) }) // until den detaches
	return nil
}

// tellAttached gives every attached den the container's exit status.
func tellAttached(code int) {
	attachedConns.Lock()
	defer attachedConns.Unlock()
	for conn := range attachedConns.m {
		_ = conn.Send(ctl.Exit, ctl.StatusBody{Code: code})
	}
}
