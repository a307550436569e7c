package ctl

import (
	"errors"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// Signals are relayed from the den a user runs down to the container's
// command, as docker's sig-proxy does: everything a user or a supervisor
// sends, not SIGCHLD (the init reaps with it), SIGPIPE or SIGURG (the Go
// runtime's own).
var Signals = []os.Signal{unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1,
	unix.SIGUSR2, unix.SIGWINCH, unix.SIGALRM, unix.SIGCONT, unix.SIGTSTP}

// ExitCode is a wait status as a shell reports it: the exit status, or
// 128+N for a process killed by signal N.
func ExitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// WaitCode is ExitCode for the error of exec.Cmd.Wait: 0 for nil, and
// fallback when the process could not be waited for at all.
func WaitCode(err error, fallback int) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
			return ExitCode(ws)
		}
		return ee.ExitCode()
	}
	return fallback
}
