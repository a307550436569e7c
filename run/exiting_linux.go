package run

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// waitForLocks bounds the wait for a child that hangs in its cleanup
// (its process stuck in the kernel, say): past it, den goes on.
const waitForLocks = time.Minute

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
	_, _ = tmp.WriteString(strconv.Itoa(os.Getpid())) // for the notice of a den that waits
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
// cleanup; den run --preserve-fds's descriptors go too. With --debug,
// stderr stays for the cleanup's lines.
func (c *child) releaseStdio() {
	for _, f := range c.preserved {
		f.Close()
	}
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
// lock is free, removed here). It says so after a second, and gives up on
// den's Ctrl-C (ctx) or after waitForLocks.
func (g *Global) awaitExiting(ctx context.Context) {
	dir := filepath.Join(g.RunRoot, exitingDir)
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 {
		return
	}
	deadline := time.Now().Add(waitForLocks)
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if strings.HasPrefix(e.Name(), ".tmp-") {
			// Not yet locked, so not yet reported either; one whose child
			// died there is left to removeStaleTemp.
			removeStaleTemp(p)
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		if lockBefore(ctx, f, deadline, g) && sameFile(f, p) {
			_ = os.Remove(p) // its child is gone without removing it
		}
		f.Close()
	}
}

// removeStaleTemp removes a lock file that never got its name: its child
// was killed between the two, a minute or more ago.
func removeStaleTemp(p string) {
	if fi, err := os.Stat(p); err == nil && time.Since(fi.ModTime()) > time.Minute {
		_ = os.Remove(p)
	}
}

// lockBefore takes a shared lock on f, giving up at deadline or when ctx
// ends; after a second it says whom it waits for.
func lockBefore(ctx context.Context, f *os.File, deadline time.Time, g *Global) bool {
	got := make(chan bool, 1)
	go func() { got <- unix.Flock(int(f.Fd()), unix.LOCK_SH) == nil }()
	notice := time.NewTimer(time.Second)
	defer notice.Stop()
	for {
		select {
		case ok := <-got:
			return ok
		case <-notice.C:
			pid, _ := os.ReadFile(f.Name())
			id := filepath.Base(f.Name())
			g.warnf("waiting for den (pid %s) to finish removing or recording container %s", pid, id[:min(12, len(id))])
		case <-ctx.Done():
			return false
		case <-time.After(time.Until(deadline)):
			return false
		}
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
