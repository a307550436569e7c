package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/denproject/den/run/records"
	"github.com/denproject/den/run/spec"
)

func (c *child) volumeCreate(args json.RawMessage) (any, error) {
	a, err := decode[volumeArgs](args)
	if err != nil || len(a.Names) != 1 {
		return nil, fmt.Errorf("volume-create: one name (%v)", err)
	}
	v, _, err := c.createVolume(a.Names[0], a.Labels, false)
	return v, err
}

func (c *child) volumeList(json.RawMessage) (any, error) { return c.allVolumes() }

func (c *child) volumeInspect(args json.RawMessage) (any, error) {
	a, err := decode[volumeArgs](args)
	if err != nil {
		return nil, err
	}
	vs := []Volume{}
	var errs []error
	for _, n := range a.Names {
		v, err := c.readVolume(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		vs = append(vs, v)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return vs, nil
}

func (c *child) volumeRemove(args json.RawMessage) (any, error) {
	a, err := decode[volumeArgs](args)
	if err != nil {
		return nil, err
	}
	users, err := c.volumeUsers()
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, n := range a.Names {
		if _, err := c.readVolume(n); err != nil {
			errs = append(errs, err)
			continue
		}
		if u := users[n]; len(u) > 0 {
			errs = append(errs, fmt.Errorf("volume %s is in use by container %s: remove the container first (den rm)", n, strings.Join(u, ", ")))
			continue
		}
		if err := c.deleteVolume(n); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Println(n)
	}
	return nil, errors.Join(errs...)
}

func (c *child) volumePrune(args json.RawMessage) (any, error) {
	a, err := decode[volumeArgs](args)
	if err != nil {
		return nil, err
	}
	users, err := c.volumeUsers()
	if err != nil {
		return nil, err
	}
	vs, err := c.allVolumes()
	if err != nil {
		return nil, err
	}
	removed := []string{}
	for _, v := range vs {
		if len(users[v.Name]) > 0 || !v.Anonymous && !a.All {
			continue
		}
		if err := c.deleteVolume(v.Name); err != nil {
			return removed, err
		}
		removed = append(removed, v.Name)
	}
	return removed, nil
}

// rmWithVolumes is den rm -v: each container, then the anonymous volumes
// it had that no other container uses.
func (c *child) rmWithVolumes(args json.RawMessage) (any, error) {
	a, err := decode[namesArgs](args)
	if err != nil {
		return nil, err
	}
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	var anon []*spec.Spec
	for _, n := range a.Names {
		if ctr, err := st.FindContainer(n); err == nil {
			if r := records.Decode(ctr.Metadata); r.Spec != nil {
				anon = append(anon, r.Spec)
			}
		}
	}
	_, rmErr := c.rm(args)
	for _, sp := range anon {
		c.removeAnonymous(sp, "")
	}
	return nil, rmErr
}

// removeAnonymous removes sp's anonymous volumes that no container but
// the one with id leaving names.
func (c *child) removeAnonymous(sp *spec.Spec, leaving string) {
	users, err := c.volumeUsers()
	if err != nil {
		return
	}
	for _, v := range sp.Host.Volumes {
		others := 0
		for _, u := range users[v.Name] {
			if leaving == "" || !strings.HasPrefix(leaving, u) {
				others++
			}
		}
		if v.Anonymous && others == 0 {
			_ = c.deleteVolume(v.Name)
		}
	}
}
