package run

import (
	"encoding/json"
	"fmt"

	"github.com/denproject/den/run/records"
	"github.com/denproject/den/run/spec"
)

func init() { register("rename", (*child).rename) }

// Rename is `den rename CONTAINER NEW`, running or not, as docker's.
func Rename(g *Global, name, newName string) error {
	if err := spec.CheckName(newName); err != nil {
		return err
	}
	return g.call("rename", namesArgs{Names: []string{name, newName}}, nil, hooks{})
}

func (c *child) rename(args json.RawMessage) (any, error) {
	a, err := decode[namesArgs](args)
	if err != nil || len(a.Names) != 2 {
		return nil, fmt.Errorf("den rename: takes a container and its new name (%v)", err)
	}
	st, ctr, err := c.container(a.Names[0])
	if err != nil {
		return nil, err
	}
	if err := st.SetName(ctr.ID, a.Names[1]); err != nil {
		return nil, err
	}
	// The record's spec keeps the name that den wait and --rm look for.
	if r := records.Decode(ctr.Metadata); r.Spec != nil {
		r.Spec.Name = a.Names[1]
		_ = st.SetMetadata(ctr.ID, r.Encode())
	}
	return nil, nil
}
