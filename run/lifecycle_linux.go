package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/overlay"
)

// PsRow is one line of `den ps`.
type PsRow struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Image   string    `json:"image"`
	Command string    `json:"command"`
	Created time.Time `json:"created"`
	Status  string    `json:"status"`
}

func meta(c *overlay.Container) Meta {
	var m Meta
	_ = json.Unmarshal([]byte(c.Metadata), &m)
	if m.State == "running" && !alive(m.Pid) {
		// den was killed before it could record the end.
		m.State, m.ExitCode = "exited", 137
	}
	return m
}

// alive reports whether the den process that runs the container exists;
// a zombie (killed, not yet reaped by whoever adopted it) does not count.
func alive(pid int) bool {
	if pid <= 0 || unix.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// Ps lists containers: running ones, or all with all.
func Ps(g *Global, all bool) ([]PsRow, error) {
	s, err := g.enter()
	if s == nil {
		return nil, err
	}
	defer s.close()
	cs, err := s.store.Containers()
	if err != nil {
		return nil, err
	}
	var rows []PsRow
	for i := range cs {
		m := meta(&cs[i])
		if !all && m.State != "running" {
			continue
		}
		status := "Up"
		if m.State != "running" {
			status = fmt.Sprintf("Exited (%d)", m.ExitCode)
		}
		name := ""
		if len(cs[i].Names) > 0 {
			name = cs[i].Names[0]
		}
		rows = append(rows, PsRow{ID: cs[i].ID, Name: name, Image: m.Image, Command: strings.Join(m.Args, " "), Created: cs[i].Created, Status: status})
	}
	return rows, nil
}

// Remove is `den rm`: a running container is refused unless force, which
// kills it first.
func Remove(g *Global, names []string, force bool, out io.Writer) error {
	return eachContainer(g, names, out, func(s *session, n string, c *overlay.Container, m Meta) error {
		if m.State == "running" {
			if !force {
				return fmt.Errorf("%s: container is running; stop it first or use den rm -f", n)
			}
			_ = unix.Kill(m.Pid, unix.SIGKILL)
		}
		return s.removeContainer(c)
	})
}

func (s *session) removeContainer(c *overlay.Container) error {
	// Left behind when den was killed while publishing ports.
	_ = os.RemoveAll(s.portsDir(c.ID))
	return s.store.DeleteContainer(c.ID)
}

// portsDir holds the port forwarder's socket: under the runtime root, as
// a container's own run directory makes too long a socket path.
func (s *session) portsDir(id string) string {
	return filepath.Join(s.g.RunRoot, "ports-"+id[:12])
}

// Unshare runs a host command inside den's user namespace, where the
// store's files have the owners the container sees; like podman unshare,
// it lets a user inspect or delete what den stored.
func Unshare(g *Global, args []string) error {
	s, err := g.enter()
	if s == nil {
		return err
	}
	s.close()
	if len(args) == 0 {
		sh := os.Getenv("SHELL")
		if sh == "" {
			sh = "/bin/sh"
		}
		args = []string{sh}
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &ExitError{Code: ee.ExitCode()}
	}
	return err
}

// Prune is `den prune`: it removes every stopped container and every image
// left without a name that no container uses (what a re-pulled tag left
// behind); with all, every image no container uses.
func Prune(g *Global, all bool, out io.Writer) error {
	s, err := g.enter()
	if s == nil {
		return err
	}
	defer s.close()
	cs, err := s.store.Containers()
	if err != nil {
		return err
	}
	var errs []error
	used := map[string]bool{}
	for i := range cs {
		if meta(&cs[i]).State == "running" {
			used[cs[i].ImageID] = true
			continue
		}
		if err := s.removeContainer(&cs[i]); err != nil {
			errs = append(errs, err)
			used[cs[i].ImageID] = true
			continue
		}
		fmt.Fprintf(out, "Deleted container: %s\n", cs[i].ID[:12])
	}
	imgs, err := s.store.Images()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, im := range imgs {
		if used[im.ID] || len(im.Names) > 0 && !all {
			continue
		}
		if err := s.store.RemoveImage(im.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(out, "Deleted image: %s\n", im.ID[:12])
	}
	return errors.Join(errs...)
}
