package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/term"

	"github.com/denproject/den/pull"
)

func init() { register("save", (*child).save) }

type saveArgs struct {
	Refs   []string `json:"refs"`
	Output string   `json:"output,omitempty"`
	Format string   `json:"format,omitempty"`
}

// Save is `den save [-o FILE] [--format docker-archive|oci-archive] IMAGE...`.
func Save(g *Global, refs []string, output, format string) error {
	switch format {
	case "", "docker-archive", "oci-archive":
	default:
		return fmt.Errorf("unknown --format %q: use docker-archive or oci-archive", format)
	}
	if output == "" && term.IsTerminal(int(os.Stdout.Fd())) {
		return fmt.Errorf("den save: refusing to write an archive to a terminal; use -o FILE or redirect stdout")
	}
	if output != "" {
		abs, err := filepath.Abs(output)
		if err != nil {
			return err
		}
		output = abs
	}
	return g.call("save", saveArgs{Refs: refs, Output: output, Format: format}, nil, hooks{})
}

func (c *child) save(args json.RawMessage) (any, error) {
	a, err := decode[saveArgs](args)
	if err != nil {
		return nil, err
	}
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	var imgs []pull.Named
	for _, ref := range a.Refs {
		im, err := findImage(st, ref)
		if err != nil {
			return nil, err
		}
		img, err := c.blobs().Image(im.ID)
		if errors.Is(err, pull.ErrNoBlobs) {
			return nil, fmt.Errorf("%s: %v (it was stored by an older den); pull or load it again, then save", ref, err)
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		names := im.Names
		if full := pull.Normalize(ref); full != ref || len(names) > 1 {
			// A name given is saved under that name only, as docker does.
			for _, n := range im.Names {
				if n == full {
					names = []string{full}
				}
			}
		}
		imgs = append(imgs, pull.Named{Names: names, Image: img})
	}
	var w io.Writer = os.Stdout
	if a.Output != "" {
		f, err := os.OpenFile(a.Output, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, fmt.Errorf("den save: %w", err)
		}
		defer f.Close()
		w = f
	}
	if a.Format == "oci-archive" {
		err = pull.SaveOCI(w, imgs)
	} else {
		err = pull.SaveDocker(w, imgs)
	}
	if err != nil {
		return nil, fmt.Errorf("den save: %w", err)
	}
	return nil, nil
}
