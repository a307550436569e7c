package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/denproject/den/netns"
	"github.com/denproject/den/overlay"
	"github.com/denproject/den/run/records"
)

type namesArgs struct {
	Names []string `json:"names"`
	Force bool     `json:"force,omitempty"`
}

// Remove is `den rm`: a running container is refused unless force, which
// kills it first.
func Remove(g *Global, names []string, force bool) error {
	return g.call("rm", namesArgs{Names: names, Force: force}, nil, hooks{})
}

func (c *child) rm(args json.RawMessage) (any, error) {
	a, err := decode[namesArgs](args)
	if err != nil {
		return nil, err
	}
	// docker rm -f: a container that is not there is said, and is no
	// failure (`den rm -f old` in a script's cleanup).
	return nil, c.forContainers(a.Names, func(n string, ctr *overlay.Container, r records.Record) error {
		if r.State == records.Running {
			if !a.Force {
				return fmt.Errorf("%s: container is running; stop it first or use den rm -f", n)
			}
			c.killNow(ctr, &r)
		}
		return c.removeContainer(ctr)
	}, true, a.Force)
}

// eachContainer applies fn to each named container and prints the names
// it succeeded for, as docker does.
func (c *child) eachContainer(names []string, fn func(string, *overlay.Container, records.Record) error) error {
	return c.forContainers(names, fn, true, false)
}

func (c *child) eachContainerQuiet(names []string, fn func(string, *overlay.Container, records.Record) error) error {
	return c.forContainers(names, fn, false, false)
}

func (c *child) forContainers(names []string, fn func(string, *overlay.Container, records.Record) error, print, missingOK bool) error {
	st, err := c.open()
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		ctr, err := st.FindContainer(n)
		if err == nil {
			r, there := c.settle(st, ctr)
			if !there {
				err = fmt.Errorf("no such container: %s (it was started with --rm and has ended)", n)
			} else {
				err = fn(n, ctr, r)
			}
		} else if missingOK && errors.Is(err, overlay.ErrContainerUnknown) {
			fmt.Fprintln(os.Stderr, "den: "+err.Error())
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if print {
			fmt.Println(n)
		}
	}
	return errors.Join(errs...)
}

func (c *child) removeContainer(ctr *overlay.Container) error {
	// Left behind when den was killed while publishing ports.
	_ = os.RemoveAll(c.portsDir(ctr.ID))
	if dir, err := c.store.Dir(ctr.ID); err == nil {
		netns.EndPasta(dir) // den killed before pasta watched its file
	}
	return c.store.DeleteContainer(ctr.ID)
}

// portsDir holds the port forwarder's socket (rootlesskit's driver names
// it by path): a short one, as a container's own run directory makes too
// long a socket path.
func (c *child) portsDir(id string) string {
	return filepath.Join(socketsDir(c.g.RunRoot), "ports-"+id[:12])
}

// Prune is `den prune`: it removes every stopped container and every image
// left without a name that no container uses (what a re-pulled tag left
// behind); with all, every image no container uses.
func Prune(g *Global, all bool) error {
	return g.call("prune", all, nil, hooks{})
}

func (c *child) prune(args json.RawMessage) (any, error) {
	all, err := decode[bool](args)
	if err != nil {
		return nil, err
	}
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	used, err := c.pruneContainers(st)
	err2 := c.removeUnused(st, used, all, func(im overlay.Image) {
		fmt.Printf("Deleted image: %s\n", im.ID[:12])
	})
	return nil, errors.Join(err, err2)
}
