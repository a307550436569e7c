package run

import (
	"encoding/json"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func init() { register("history", (*child).history) }

// HistoryRow is one line of `den history`, newest first.
type HistoryRow struct {
	ID        string    `json:"id"` // the image id on the top row, else "<missing>"
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"createdBy"`
	Size      int64     `json:"size"` // the layer blob's size; 0 for an empty layer
	Comment   string    `json:"comment,omitempty"`
}

// History is `den history IMAGE`.
func History(g *Global, ref string) ([]HistoryRow, error) {
	var rows []HistoryRow
	err := g.call("history", ref, &rows, hooks{})
	return rows, err
}

func (c *child) history(args json.RawMessage) (any, error) {
	ref, err := decode[string](args)
	if err != nil {
		return nil, err
	}
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	im, err := findImage(st, ref)
	if err != nil {
		return nil, err
	}
	cfg, err := imageConfig(st, im.ID, ref)
	if err != nil {
		return nil, err
	}
	sizes := c.layerSizes(im.ID, *cfg)
	hist := cfg.History
	if len(hist) == 0 { // configs without history: one row per layer
		for range cfg.RootFS.DiffIDs {
			hist = append(hist, v1.History{Created: cfg.Created})
		}
	}
	rows := make([]HistoryRow, 0, len(hist))
	layer := 0
	for _, h := range hist {
		row := HistoryRow{ID: "<missing>", Created: h.Created.Time, CreatedBy: h.CreatedBy, Comment: h.Comment}
		if !h.EmptyLayer {
			if layer < len(sizes) {
				row.Size = sizes[layer]
			}
			layer++
		}
		rows = append(rows, row)
	}
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	if len(rows) > 0 {
		rows[0].ID = im.ID
	}
	return rows, nil
}

// layerSizes are the sizes of the kept layer blobs, base first: the
// unpacked store does not give a layer's own size.
func (c *child) layerSizes(id string, cfg v1.ConfigFile) []int64 {
	b := c.blobs()
	var out []int64
	if md := b.ManifestOf(id); md != "" {
		raw, err := os.ReadFile(b.Path(md))
		var m v1.Manifest
		if err == nil && json.Unmarshal(raw, &m) == nil {
			for _, l := range m.Layers {
				out = append(out, l.Size)
			}
			return out
		}
	}
	for _, d := range cfg.RootFS.DiffIDs {
		var n int64
		if fi, err := os.Stat(b.Path(d.String())); err == nil {
			n = fi.Size()
		}
		out = append(out, n)
	}
	return out
}
