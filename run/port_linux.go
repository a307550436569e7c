package run

import (
	"encoding/json"
	"fmt"

	"github.com/denproject/den/netns"
	"github.com/denproject/den/run/records"
)

func init() { register("port", (*child).port) }

// Ports are `den port`'s: the container's published ports with the host
// ports den picked; none while it is stopped, as with docker.
func Ports(g *Global, name string) ([]netns.Port, error) {
	var ports []netns.Port
	err := g.call("port", name, &ports, hooks{})
	return ports, err
}

func (c *child) port(args json.RawMessage) (any, error) {
	name, err := decode[string](args)
	if err != nil {
		return nil, err
	}
	st, ctr, err := c.container(name)
	if err != nil {
		return nil, err
	}
	r, _ := c.settle(st, ctr)
	if r.State != records.Running {
		return []netns.Port{}, nil
	}
	return append([]netns.Port{}, r.Ports...), nil
}

// containerInit is the running container's init pid, or why there is none.
func (c *child) containerInit(name string) (string, int, error) {
	st, ctr, err := c.container(name)
	if err != nil {
		return "", 0, err
	}
	r := records.Decode(ctr.Metadata)
	if r.State != records.Running {
		return ctr.ID, 0, nil
	}
	dir, err := st.RunDir(ctr.ID)
	if err != nil {
		return "", 0, err
	}
	init, err := r.Init(dir)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", name, err)
	}
	return ctr.ID, init, nil
}
