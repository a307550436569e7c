package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/denproject/den/run/records"
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
		Status   records.State `json:"Status"`
		Running  bool          `json:"Running"`
		Pid      int           `json:"Pid"`
		ExitCode int           `json:"ExitCode"`
	} `json:"State"`
}

type inspected struct {
	Items  []json.RawMessage `json:"items"`
	Errors []string          `json:"errors,omitempty"`
}

// Inspect is `den inspect`: containers by name or id, else images; one
// JSON array, as docker prints.
func Inspect(g *Global, names []string) ([]byte, error) {
	var res inspected
	if err := g.call("inspect", names, &res, hooks{}); err != nil {
		return nil, err
	}
	var errs []error
	for _, e := range res.Errors {
		errs = append(errs, errors.New(e))
	}
	if len(res.Items) == 0 {
		return nil, errors.Join(errs...)
	}
	b, _ := json.MarshalIndent(res.Items, "", "  ")
	return append(b, '\n'), errors.Join(errs...)
}

func (c *child) inspect(args json.RawMessage) (any, error) {
	names, err := decode[[]string](args)
	if err != nil {
		return nil, err
	}
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	res := inspected{Items: []json.RawMessage{}}
	for _, n := range names {
		if ctr, err := st.FindContainer(n); err == nil {
			r := records.Decode(ctr.Metadata)
			var ci ContainerInfo
			ci.ID, ci.Name, ci.Created, ci.Image, ci.ImageID, ci.Args = ctr.ID, firstName(ctr), ctr.Created, r.Image, ctr.ImageID, r.Args
			ci.State.Status, ci.State.ExitCode = r.State, r.ExitCode
			if r.State == records.Running {
				ci.State.Running, ci.State.Pid = true, r.Pid
			}
			b, _ := json.Marshal(ci)
			res.Items = append(res.Items, b)
			continue
		}
		b, err := c.imageInspect(mustJSON(n))
		if err != nil {
			res.Errors = append(res.Errors, fmt.Sprintf("%s: no such container or image", n))
			continue
		}
		res.Items = append(res.Items, b.(json.RawMessage))
	}
	return res, nil
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
