package pid1

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/run/ctl"
)

// restarts applies the restart policy of a container whose init runs
// alone: the command starts again in the same container (its mounts,
// network and stdio stay), after Restart.Backoff. den
// stop and den kill mark the container stopped (ctl.StoppedFile) before
// they signal; a signal that ends a container comes to the init itself
// during a back-off. It returns the last run's status.
func restarts(cmd *command, code int, sigs, chld chan os.Signal) int {
	var wait time.Duration
	started := time.Now()
	for retries := 0; cmd.c.Restart.Again(code, retries) && !offThread(stoppedByUser); retries++ {
		commandPid.Store(0) // no command to relay an attached den's signals to
		// As a new container would: nothing of the last run is left (its
		// daemons, den exec sessions) to hold a port or the output.
		offThread(killTheRest)
		reapAll(0)
		wait = cmd.c.Restart.Backoff(wait, time.Since(started))
		if !waitBackoff(wait, sigs, chld) {
			return code
		}
		proc, err := cmd.spawn() // from this thread: the command gets its sandbox
		if err != nil {
			fmt.Fprintf(os.Stderr, "den-init: restarting: %v\n", err)
			return exitCodeFor(err)
		}
		started = time.Now()
		commandPid.Store(int32(proc.Pid))
		offThread(func() bool { noteRestart(retries+1, started); return true })
		code = reap(proc.Pid, sigs, chld)
	}
	return code
}

// offThread runs f on another thread than the init's main one, which the
// container's seccomp filter holds: a profile may refuse what f needs
// (faccessat, openat, kill), which would end the init there.
func offThread(f func() bool) bool {
	ch := make(chan bool, 1)
	go func() { ch <- f() }()
	return <-ch
}

// killTheRest ends every process of the container but the init.
func killTheRest() bool {
	_ = unix.Kill(-1, unix.SIGKILL)
	return true
}

// waitBackoff waits out a back-off, reaping what ends meanwhile; false if
// the container is to stop instead.
func waitBackoff(d time.Duration, sigs, chld chan os.Signal) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-timer.C:
			return !offThread(stoppedByUser)
		case <-tick.C:
			if offThread(stoppedByUser) {
				return false
			}
		case s := <-sigs:
			switch s {
			case syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP:
				return false // no command to pass it to: it ends the container
			}
		case <-chld:
			reapAll(0)
		}
	}
}

func stoppedByUser() bool {
	return unix.Faccessat(ctl.LogFD, ctl.StoppedFile, unix.F_OK, 0) == nil
}

// noteRestart leaves the restart count beside the exit file, for den ps
// and den inspect.
func noteRestart(count int, at time.Time) {
	writeBeside(ctl.RestartFile, ctl.RestartStatus{Count: count, StartedAt: at.UTC()})
}
