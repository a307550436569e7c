package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

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
