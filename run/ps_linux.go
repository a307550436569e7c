package run

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/denproject/den/overlay"
	"github.com/denproject/den/run/records"
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

// Ps lists containers: running ones, or all with all.
func Ps(g *Global, all bool) ([]PsRow, error) {
	var rows []PsRow
	err := g.call("ps", all, &rows, hooks{})
	return rows, err
}

func (c *child) ps(args json.RawMessage) (any, error) {
	all, err := decode[bool](args)
	if err != nil {
		return nil, err
	}
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	cs, err := st.Containers()
	if err != nil {
		return nil, err
	}
	rows := []PsRow{}
	for i := range cs {
		r := records.Decode(cs[i].Metadata)
		if !all && r.State != records.Running {
			continue
		}
		rows = append(rows, PsRow{ID: cs[i].ID, Name: firstName(&cs[i]), Image: r.Image,
			Command: strings.Join(r.Args, " "), Created: cs[i].Created, Status: r.Status()})
	}
	return rows, nil
}

func firstName(c *overlay.Container) string {
	if len(c.Names) > 0 {
		return c.Names[0]
	}
	return ""
}
