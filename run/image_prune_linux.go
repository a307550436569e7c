package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	units "github.com/docker/go-units"

	"github.com/denproject/den/overlay"
	"github.com/denproject/den/run/records"
)

func init() {
	register("image-prune", (*child).imagePrune)
	register("container-prune", (*child).containerPrune)
	register("df", (*child).df)
}

// PruneImages is `den image prune`: images without a name that no
// container uses; with all, every image no container uses.
func PruneImages(g *Global, all bool) error {
	return g.call("image-prune", all, nil, hooks{})
}

// PruneContainers is `den container prune`: every stopped container.
func PruneContainers(g *Global) error {
	return g.call("container-prune", nil, nil, hooks{})
}

func (c *child) containerPrune(json.RawMessage) (any, error) {
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	_, err = c.pruneContainers(st)
	return nil, err
}

// pruneContainers removes the stopped containers; it returns the images
// the remaining ones use.
func (c *child) pruneContainers(st *overlay.Store) (map[string]bool, error) {
	cs, err := st.Containers()
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	var errs []error
	for i := range cs {
		r, there := c.settle(st, &cs[i])
		if !there {
			continue // a --rm container that ended, gone now
		}
		if r.State == records.Running {
			used[cs[i].ImageID] = true
			continue
		}
		if err := c.removeContainer(&cs[i]); err != nil {
			errs = append(errs, err)
			used[cs[i].ImageID] = true
			continue
		}
		fmt.Printf("Deleted container: %s\n", cs[i].ID[:12])
	}
	return used, errors.Join(errs...)
}

func (c *child) imagePrune(args json.RawMessage) (any, error) {
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
	used := map[string]bool{}
	for _, ct := range cs {
		used[ct.ImageID] = true
	}
	var freed int64
	err = c.removeUnused(st, used, all, func(im overlay.Image) {
		for _, n := range im.Names {
			fmt.Printf("untagged: %s\n", n)
		}
		fmt.Printf("deleted: sha256:%s\n", im.ID)
		freed += im.Size
	})
	fmt.Printf("Total reclaimed space: %s\n", units.HumanSize(float64(freed)))
	return nil, err
}

// removeUnused removes the images that no container uses (used) and
// that have no name, or with all every such image, then the kept blobs
// only they held; removed hears of each image gone.
func (c *child) removeUnused(st *overlay.Store, used map[string]bool, all bool, removed func(overlay.Image)) error {
	imgs, err := st.Images()
	if err != nil {
		return err
	}
	var errs []error
	var gone []string
	for _, im := range imgs {
		if used[im.ID] || len(im.Names) > 0 && !all {
			continue
		}
		if err := st.RemoveImage(im.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		removed(im)
		gone = append(gone, im.ID)
	}
	if err := c.sweep(st, gone); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// DiskRow is one line of `den system df`.
type DiskRow struct {
	Type        string `json:"type"`
	Total       int    `json:"total"`
	Active      int    `json:"active"`
	Size        int64  `json:"size"`
	Reclaimable int64  `json:"reclaimable"`
}

// DiskUsage is `den system df`.
func DiskUsage(g *Global) ([]DiskRow, error) {
	var rows []DiskRow
	err := g.call("df", nil, &rows, hooks{})
	return rows, err
}

func (c *child) df(json.RawMessage) (any, error) {
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	cs, err := st.Containers()
	if err != nil {
		return nil, err
	}
	imgs, err := st.Images()
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	ctr := DiskRow{Type: "Containers", Total: len(cs)}
	for _, ct := range cs {
		used[ct.ImageID] = true
		size := dirSize(st, ct.ID)
		ctr.Size += size
		if records.Decode(ct.Metadata).State == records.Running {
			ctr.Active++
		} else {
			ctr.Reclaimable += size
		}
	}
	img := DiskRow{Type: "Images", Total: len(imgs)}
	for _, im := range imgs {
		img.Size += im.Size
		if used[im.ID] {
			img.Active++
		} else {
			img.Reclaimable += im.Size
		}
	}
	blobs := DiskRow{Type: "Kept blobs", Total: len(imgs), Active: len(imgs), Size: c.blobs().Size()}
	return []DiskRow{img, ctr, blobs}, nil
}

// dirSize is what a container wrote: its directory in the store.
func dirSize(st *overlay.Store, id string) int64 {
	dir, err := st.Dir(id)
	if err != nil {
		return 0
	}
	var n int64
	_ = filepath.WalkDir(filepath.Dir(dir), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
