package overlay

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/storage"
	graphdriver "go.podman.io/storage/drivers"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/chrootarchive"
)

// LayerSpec identifies one layer of an image.
type LayerSpec struct {
	ID     string // storage id: the layer's chain id, hex
	Parent string // the parent's chain id, "" for the base layer
	DiffID string // sha256 of the uncompressed tar, "sha256:..."
	Digest string // digest of the blob as fetched, "" when unknown
}

// Staged is a layer unpacked into the driver's staging area, not yet part
// of the store; Commit or Discard it.
type Staged struct {
	out  *graphdriver.DriverWithDifferOutput
	spec LayerSpec
}

// HasLayer reports whether the layer is already unpacked in the store.
func (s *Store) HasLayer(id string) bool {
	_, err := s.s.Layer(id)
	return err == nil
}

// Stage unpacks a layer stream (gzip, zstd or plain tar) into a private
// staging directory, so several layers can unpack at once while their
// parents are still arriving. The stream is read to its end, so a reader
// that checks a digest at EOF gets to report a mismatch.
func (s *Store) Stage(spec LayerSpec, r io.Reader, warn func(string)) (*Staged, error) {
	d := &differ{spec: spec, r: r, ids: s.opts.IDs, maxSize: s.opts.MaxLayerSize, warn: warn}
	if s.opts.SingleID {
		d.ids = 0
	}
	out, err := s.s.PrepareStagedLayer(&graphdriver.ApplyDiffWithDifferOpts{}, d)
	if err != nil {
		if out != nil && out.Target != "" {
			_ = s.s.CleanupStagedLayer(out)
		}
		return nil, err
	}
	return &Staged{out: out, spec: spec}, nil
}

// Discard drops a staged layer.
func (s *Store) Discard(st *Staged) {
	if st != nil {
		_ = s.s.CleanupStagedLayer(st.out)
	}
}

// Commit makes a staged layer part of the store. Its parent must already be
// there. A layer that another den committed meanwhile is kept and the
// staged copy dropped.
func (s *Store) Commit(st *Staged) error {
	// The store's own lock is taken per call; two dens committing the same
	// layer must not both see it missing.
	unlock, err := s.lock()
	if err != nil {
		s.Discard(st)
		return err
	}
	defer unlock()
	if s.HasLayer(st.spec.ID) {
		s.Discard(st)
		return nil
	}
	_, err = s.s.ApplyStagedLayer(storage.ApplyStagedLayerOptions{
		ID:          st.spec.ID,
		ParentLayer: st.spec.Parent,
		DiffOutput:  st.out,
		DiffOptions: &graphdriver.ApplyDiffWithDifferOpts{},
	})
	if err != nil {
		s.Discard(st)
		if errors.Is(err, storage.ErrDuplicateID) || s.HasLayer(st.spec.ID) {
			return nil
		}
		return fmt.Errorf("committing layer %s: %w", short(st.spec.ID), err)
	}
	return nil
}

// differ feeds containers/storage's staged-layer API from a plain stream.
type differ struct {
	spec    LayerSpec
	r       io.Reader
	ids     uint32
	maxSize int64
	warn    func(string)
}

func (d *differ) ApplyDiff(dest string, opts *archive.TarOptions, _ *graphdriver.DifferOptions) (graphdriver.DriverWithDifferOutput, error) {
	var out graphdriver.DriverWithDifferOutput
	plain, err := archive.DecompressStream(d.r)
	if err != nil {
		return out, fmt.Errorf("reading layer: %w", err)
	}
	defer plain.Close()
	h := sha256.New()
	f := newFilter(d.ids, d.maxSize, d.warn)
	pr, pw := io.Pipe()
	filtered := make(chan error, 1)
	go func() {
		err := f.copy(pw, io.TeeReader(plain, h))
		pw.CloseWithError(err)
		filtered <- err
	}()
	untarErr := chrootarchive.UntarUncompressed(pr, dest, opts)
	pr.CloseWithError(errors.New("unpacking stopped"))
	if err := <-filtered; err != nil {
		return out, err
	}
	if untarErr != nil {
		return out, fmt.Errorf("unpacking: %w", untarErr)
	}
	// The blob may carry bytes after the compressed stream ends.
	if _, err := io.Copy(io.Discard, d.r); err != nil {
		return out, err
	}
	got := "sha256:" + hex.EncodeToString(h.Sum(nil))
	if d.spec.DiffID != "" && got != d.spec.DiffID {
		return out, fmt.Errorf("uncompressed content is %s but the image config says %s (corrupt or tampered layer)", got, d.spec.DiffID)
	}
	out.Size = f.size
	out.UncompressedDigest = digest.Digest(got)
	if d.spec.Digest != "" {
		out.CompressedDigest = digest.Digest(d.spec.Digest)
	}
	out.UIDs, out.GIDs = keys(f.uids), keys(f.gids)
	return out, nil
}

func (d *differ) Close() error { return nil }
