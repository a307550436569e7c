package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Kill is `den kill`: the signal goes to the container's init, which
// passes it on to the command (SIGKILL ends the whole pid namespace). The
// den that runs the container then records the end and, with --rm,
// removes it, as after any exit.
func Kill(g *Global, names []string, sig unix.Signal, out io.Writer) error {
	return eachRunning(g, names, out, func(n string, m Meta) error {
		return signalInit(n, m.Pid, sig)
	})
}

// Stop is `den stop`: SIGTERM, then SIGKILL after timeout, and waits for
// the den that runs the container to finish (and clean up). A stopped
// container is not an error, as with docker.
func Stop(g *Global, names []string, timeout time.Duration, out io.Writer) error {
	return eachContainer(g, names, out, func(n string, m Meta) error {
		if m.State != "running" {
			return nil
		}
		if err := signalInit(n, m.Pid, unix.SIGTERM); err != nil {
			return err
		}
		if waitGone(m.Pid, timeout) {
			return nil
		}
		if err := signalInit(n, m.Pid, unix.SIGKILL); err != nil && alive(m.Pid) {
			return err
		}
		if !waitGone(m.Pid, 10*time.Second) {
			return fmt.Errorf("%s: still running 10s after SIGKILL", n)
		}
		return nil
	})
}

func eachRunning(g *Global, names []string, out io.Writer, fn func(string, Meta) error) error {
	return eachContainer(g, names, out, func(n string, m Meta) error {
		if m.State != "running" {
			return fmt.Errorf("%s: container is not running", n)
		}
		return fn(n, m)
	})
}

// eachContainer applies fn to each named container and prints the names
// it succeeded for, as docker does.
func eachContainer(g *Global, names []string, out io.Writer, fn func(string, Meta) error) error {
	s, err := g.enter()
	if s == nil {
		return err
	}
	defer s.close()
	var errs []error
	for _, n := range names {
		c, err := s.store.FindContainer(n)
		if err == nil {
			err = fn(n, meta(c))
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(out, n)
	}
	return errors.Join(errs...)
}

// signalInit finds the container's init among the children of the den
// that runs it (pid), and signals it.
func signalInit(name string, pid int, sig unix.Signal) error {
	init, err := initOf(pid)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := unix.Kill(init, sig); err != nil {
		return fmt.Errorf("%s: sending %s: %w", name, unix.SignalName(sig), err)
	}
	return nil
}

func initOf(pid int) (int, error) {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		for _, f := range strings.Fields(string(b)) {
			child, _ := strconv.Atoi(f)
			cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", child))
			if string(cmd) == "den-init\x00" {
				return child, nil
			}
		}
	}
	return 0, fmt.Errorf("container is not running (no init under den process %d)", pid)
}

func waitGone(pid int, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !alive(pid) {
			return true
		}
	}
	return !alive(pid)
}

// ContainerInfo is what `den inspect` prints for a container.
type ContainerInfo struct {
	ID      string    `json:"Id"`
	Name    string    `json:"Name"`
	Created time.Time `json:"Created"`
	Image   string    `json:"Image"`
	ImageID string    `json:"ImageId"`
	Args    []string  `json:"Args"`
	State   struct {
		Status   string `json:"Status"`
		Running  bool   `json:"Running"`
		Pid      int    `json:"Pid"`
		ExitCode int    `json:"ExitCode"`
	} `json:"State"`
}

// Inspect is `den inspect`: containers by name or id, else images; one
// JSON array, as docker prints.
func Inspect(g *Global, names []string) ([]byte, error) {
	s, err := g.enter()
	if s == nil {
		return nil, err
	}
	var out []json.RawMessage
	var errs []error
	var images []string
	for _, n := range names {
		c, err := s.store.FindContainer(n)
		if err != nil {
			images = append(images, n)
			continue
		}
		m := meta(c)
		var ci ContainerInfo
		ci.ID, ci.Created, ci.Image, ci.ImageID, ci.Args = c.ID, c.Created, m.Image, c.ImageID, m.Args
		if len(c.Names) > 0 {
			ci.Name = c.Names[0]
		}
		ci.State.Status, ci.State.ExitCode = m.State, m.ExitCode
		if m.State == "running" {
			ci.State.Running, ci.State.Pid = true, m.Pid
		}
		b, _ := json.Marshal(ci)
		out = append(out, b)
	}
	s.close()
	for _, n := range images {
		b, err := InspectImage(g, n)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: no such container or image", n))
			continue
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, errors.Join(errs...)
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	return append(b, '\n'), errors.Join(errs...)
}
