package run

import (
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/run/ctl"
)

// A foreground container's child tells den the exit status before it
// cleans up (removes a --rm container, records the exit, unmounts), and
// den exits at once: the shell has the status some 5 ms sooner, and a
// script's next den run overlaps the cleanup. While it cleans up, the
// child holds an exclusive lock on a file named for the container in
// exitingDir; a den command that could see the container (ps, rm, rmi,
// inspect, run --name ..., all but a nameless run and exec) first waits
// for each such file's lock: a script never finds a container its earlier
// den run --rm said had ended, nor its name taken.
const exitingDir = "exiting"

// waitForLocks bounds the wait for a child that hangs in its cleanup.
const waitForLocks = 10 * time.Second

// reportExit sends den the container's exit status before the cleanup;
// false if it could not, and den then waits for Done as before.
func (c *child) reportExit(id string, code int) bool {
	dir := filepath.Join(c.g.RunRoot, exitingDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false
	}
	// Locked under a temporary name, then renamed: a waiting den never
	// takes an unlocked file for a finished cleanup.
	tmp, err := os.CreateTemp(dir, ".tmp-")
	if err != nil {
		return false
	}
	final := filepath.Join(dir, id)
	if unix.Flock(int(tmp.Fd()), unix.LOCK_EX) != nil || os.Rename(tmp.Name(), final) != nil {
		tmp.Close()
		_ = os.Remove(tmp.Name())
		return false
	}
	c.exiting = tmp
	c.exitingPath = final
	// den exits now: this child must not die with it (this is the main
	// thread, whose signal it is: see child_linux.go's init).
	_ = unix.Prctl(unix.PR_SET_PDEATHSIG, 0, 0, 0, 0)
	if c.den.Send(ctl.Exited, ctl.StatusBody{Code: code}) != nil {
		c.cleanedUp()
		return false
	}
	c.releaseStdio()
	return true
}

// releaseStdio lets go of den's stdin, stdout and stderr, which this child
// shares: a caller that reads den's output to its end ($(den run ...), a
// CI runner's pipe) has it once the container has ended, not after the
// cleanup. With --debug, stderr stays for the cleanup's lines.
func (c *child) releaseStdio() {
	null, err := unix.Open(os.DevNull, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(null)
	fds := []int{0, 1, 2}
	if c.g.Debug {
		fds = fds[:2]
	}
	for _, fd := range fds {
		_ = unix.Dup3(null, fd, 0)
	}
}

// cleanedUp releases what reportExit took.
func (c *child) cleanedUp() {
	if c.exiting == nil {
		return
	}
	_ = os.Remove(c.exitingPath)
	c.exiting.Close()
	c.exiting = nil
}

// awaitExiting waits until the children cleaning up after the containers
// they reported ended are done (those killed meanwhile left a file whose
// lock is free, removed here).
func (g *Global) awaitExiting() {
	dir := filepath.Join(g.RunRoot, exitingDir)
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 {
		return
	}
	deadline := time.Now().Add(waitForLocks)
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.Name()[0] == '.' {
			continue // not yet locked: not yet reported either
		}
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		if lockBefore(f, deadline) && sameFile(f, p) {
			_ = os.Remove(p) // its child is gone without removing it
		}
		f.Close()
	}
}

// lockBefore takes a shared lock on f, giving up at deadline.
func lockBefore(f *os.File, deadline time.Time) bool {
	got := make(chan bool, 1)
	go func() { got <- unix.Flock(int(f.Fd()), unix.LOCK_SH) == nil }()
	select {
	case ok := <-got:
		return ok
	case <-time.After(time.Until(deadline)):
		return false
	}
}

// sameFile says whether p still names the file f has open.
func sameFile(f *os.File, p string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(p)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// seesNoExiting are the requests that need not wait for awaitExiting: a
// nameless run (run checks its name itself), exec, and those that never
// look at containers (den unshare may look at the store's files).
var seesNoExiting = map[string]bool{"run": true, "exec-target": true, "pull": true, "load": true, "doctor": true}
