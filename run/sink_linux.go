package run

import (
	"io"

	"github.com/denproject/den/overlay"
	"github.com/denproject/den/pull"
)

// storeSink lets pull write into the overlay store; the two leaves never
// import each other.
type storeSink struct {
	st   *overlay.Store
	warn func(string)
}

func (s *storeSink) HasImage(id string) bool      { return s.st.HasImage(id) }
func (s *storeSink) HasLayer(chainID string) bool { return s.st.HasLayer(chainID) }

func (s *storeSink) Stage(l pull.Layer, r io.Reader) (pull.Staged, error) {
	st, err := s.st.Stage(overlay.LayerSpec{
		ID:     l.ChainID,
		Parent: l.Parent,
		DiffID: l.DiffID,
		Digest: l.Digest,
	}, r, s.warn)
	if err != nil {
		return nil, err
	}
	return &staged{s.st, st}, nil
}

func (s *storeSink) PutImage(img *pull.Image) error {
	names := append([]string{}, img.Tags...)
	if img.Name != "" {
		names = append(names, img.Name)
	}
	return s.st.PutImage(overlay.ImageSpec{
		ID:       img.ID,
		Names:    names,
		TopLayer: img.TopLayer,
		Digest:   img.Digest,
		Config:   img.Config,
		Manifest: img.Manifest,
	})
}

type staged struct {
	st *overlay.Store
	s  *overlay.Staged
}

func (s *staged) Commit() error { return s.st.Commit(s.s) }
func (s *staged) Discard()      { s.st.Discard(s.s) }
