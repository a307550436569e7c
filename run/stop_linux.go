package run

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/overlay"
)

// Kill is `den kill`: the signal goes to the container's init, which
// passes it on to the command (SIGKILL ends the whole pid namespace). The
// den that runs the container then records the end and, with --rm,
// removes it, as after any exit.
func Kill(g *Global, names []string, sig unix.Signal, out io.Writer) error {
	return eachContainer(g, names, out, func(s *session, n string, c *overlay.Container, m Meta) error {
		if m.State != "running" {
			return fmt.Errorf("%s: container is not running", n)
		}
		return s.signalInit(n, c.ID, m.Pid, sig)
	})
}

// Stop is `den stop`: SIGTERM, then SIGKILL after timeout, and waits for
// the den that runs the container to finish (and clean up). A stopped
// container is not an error, as with docker.
func Stop(g *Global, names []string, timeout time.Duration, out io.Writer) error {
	return eachContainer(g, names, out, func(s *session, n string, c *overlay.Container, m Meta) error {
		if m.State != "running" {
			return nil
		}
		if err := s.signalInit(n, c.ID, m.Pid, unix.SIGTERM); err != nil {
			return err
		}
		if waitGone(m.Pid, timeout) {
			return nil
		}
		// The init may have ended meanwhile; only the outcome counts.
		_ = s.signalInit(n, c.ID, m.Pid, unix.SIGKILL)
		if !waitGone(m.Pid, 10*time.Second) {
			return fmt.Errorf("%s: still running 10s after SIGKILL", n)
		}
		return nil
	})
}

// eachContainer applies fn to each named container and prints the names
// it succeeded for, as docker does.
func eachContainer(g *Global, names []string, out io.Writer, fn func(*session, string, *overlay.Container, Meta) error) error {
	s, err := g.enter()
	if s == nil {
		return err
	}
	defer s.close()
	var errs []error
	for _, n := range names {
		c, err := s.store.FindContainer(n)
		if err == nil {
			err = fn(s, n, c, meta(c))
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(out, n)
	}
	return errors.Join(errs...)
}

// signalInit signals the container's init, whose pid the den that runs
// the container (pid) recorded in the container's run directory.
func (s *session) signalInit(name, id string, pid int, sig unix.Signal) error {
	init, err := s.initOf(id, pid)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := unix.Kill(init, sig); err != nil {
		return fmt.Errorf("%s: sending %s: %w", name, unix.SignalName(sig), err)
	}
	return nil
}

// initOf reads the init's pid and checks that it is still the child of
// the den that runs the container (pids are reused).
func (s *session) initOf(id string, pid int) (int, error) {
	dir, err := s.store.RunDir(id)
	if err == nil {
		var b []byte
		if b, err = os.ReadFile(filepath.Join(dir, initPidFile)); err == nil {
			init, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", init))
			for _, line := range strings.Split(string(status), "\n") {
				if ppid, ok := strings.CutPrefix(line, "PPid:"); ok && strings.TrimSpace(ppid) == strconv.Itoa(pid) {
					return init, nil
				}
			}
		}
	}
	return 0, fmt.Errorf("container is not running (no init under den process %d)", pid)
}

// initPidFile, in the container's run directory, holds the init's pid.
const initPidFile = "init.pid"

func waitGone(pid int, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !alive(pid) {
			return true
		}
	}
	return !alive(pid)
}
