package pid1

import (
	"encoding/json"
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/run/ctl"
)

// restarts applies the restart policy of a container whose init runs
// alone: the command starts again in the same container (its mounts,
// network and stdio stay), after a back-off that doubles from 100 ms to a
// minute and starts over once a run lasted 10 s, as docker's does. den
// stop and den kill mark the container stopped (ctl.StoppedFile) before
// they signal; a signal that ends a container comes to the init itself
// during a back-off. It returns the last run's status.
func restarts(cmd *command, code int, sigs, chld chan os.Signal) int {
	backoff, started := 100*time.Millisecond, time.Now()
	for retries := 0; cmd.c.Restart.Again(code, retries) && !offThread(stoppedByUser); retries++ {
		commandPid.Store(0) // no command to relay an attached den's signals to
		if time.Since(started) > 10*time.Second {
			backoff = 100 * time.Millisecond // it ran a while: a fresh failure
		}
		// As a new container would: nothing of the last run is left (its
		// daemons, den exec sessions) to hold a port or the output.
		offThread(killTheRest)
		reapAll(0)
		if !waitBackoff(backoff, sigs, chld) {
			return code
		}
		backoff = min(2*backoff, time.Minute)
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
	b, _ := json.Marshal(ctl.RestartStatus{Count: count, StartedAt: at.UTC()})
	fd, err := unix.Openat(ctl.LogFD, ctl.RestartFile+".tmp", unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return
	}
	_, _ = unix.Write(fd, b)
	unix.Close(fd)
	_ = unix.Renameat(ctl.LogFD, ctl.RestartFile+".tmp", ctl.LogFD, ctl.RestartFile)
}
