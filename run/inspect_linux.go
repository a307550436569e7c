package run

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/denproject/den/overlay"
	"github.com/denproject/den/run/dockerjson"
	"github.com/denproject/den/run/records"
)

// Inspect types: what --type takes.
const (
	TypeAny       = ""
	TypeContainer = "container"
	TypeImage     = "image"
)

type inspectArgs struct {
	Names []string `json:"names"`
	Type  string   `json:"type,omitempty"`
}

type inspected struct {
	Items  []json.RawMessage `json:"items"`
	Errors []string          `json:"errors,omitempty"`
}

// Inspect is `den inspect`: each name is a container (name, id or id
// prefix), else an image, or only what typ says. It returns docker's JSON
// of each found, and one error line for each name not found.
func Inspect(g *Global, names []string, typ string) ([]json.RawMessage, error) {
	if typ != TypeAny && typ != TypeContainer && typ != TypeImage {
		return nil, fmt.Errorf("invalid --type %q: use container or image", typ)
	}
	var res inspected
	if err := g.call("inspect", inspectArgs{Names: names, Type: typ}, &res, hooks{}); err != nil {
		return nil, err
	}
	var errs []error
	for _, e := range res.Errors {
		errs = append(errs, errors.New(e))
	}
	return res.Items, errors.Join(errs...)
}

func (c *child) inspect(args json.RawMessage) (any, error) {
	a, err := decode[inspectArgs](args)
	if err != nil {
		return nil, err
	}
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	res := inspected{Items: []json.RawMessage{}}
	for _, n := range a.Names {
		var item any
		if a.Type != TypeImage {
			ctr, err := st.FindContainer(n)
			if err == nil {
				item = c.containerJSON(st, ctr)
			} else if !errors.Is(err, overlay.ErrContainerUnknown) { // an ambiguous prefix: no image either
				res.Errors = append(res.Errors, err.Error())
				continue
			}
		}
		if item == nil && a.Type != TypeContainer {
			if im, err := findImage(st, n); err == nil {
				item, err = c.imageJSON(st, im)
				if err != nil {
					res.Errors = append(res.Errors, err.Error())
					continue
				}
			}
		}
		if item == nil {
			res.Errors = append(res.Errors, notFound(n, a.Type))
			continue
		}
		b, _ := json.Marshal(item)
		res.Items = append(res.Items, b)
	}
	return res, nil
}

func notFound(name, typ string) string {
	what := "container or image"
	if typ != TypeAny {
		what = typ
	}
	return fmt.Sprintf("no such %s: %s", what, name)
}

func (c *child) containerJSON(st *overlay.Store, ctr *overlay.Container) dockerjson.ContainerJSON {
	r, _ := c.settle(st, ctr)
	f := dockerjson.Facts{ID: ctr.ID, Name: firstName(ctr), ImageID: st.BaseImage(ctr.ImageID), Created: ctr.Created}
	f.Dir, _ = st.Dir(ctr.ID)
	f.VolumesDir = c.volumesDir()
	if r.State == records.Running {
		if dir, err := st.RunDir(ctr.ID); err == nil {
			f.InitPid, _ = r.Init(dir)
		}
	}
	if cfg, err := imageConfig(st, ctr.ImageID, ""); err == nil {
		f.Image = cfg.Config
	}
	return dockerjson.Container(f, r)
}

func (c *child) imageJSON(st *overlay.Store, im *overlay.Image) (dockerjson.ImageJSON, error) {
	cfg, err := imageConfig(st, im.ID, "")
	if err != nil {
		return dockerjson.ImageJSON{}, err
	}
	return dockerjson.Image(im.ID, im.Names, im.Digest, st.ImageSize(im.ID), cfg), nil
}

// imageConfig reads and parses the stored config of image id; name is
// what errors call the image ("" for its short id).
func imageConfig(st *overlay.Store, id, name string) (*v1.ConfigFile, error) {
	if name == "" {
		name = fmt.Sprintf("image %.12s", id)
	}
	raw, err := st.ImageConfig(id)
	if err != nil {
		return nil, fmt.Errorf("reading the config of %s: %w", name, err)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing the config of %s: %w", name, err)
	}
	return cfg, nil
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
