package pull

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	digest "github.com/opencontainers/go-digest"
)

// ErrNoBlobs is returned for an image whose blobs the content store lacks
// (stored by a den that kept none).
var ErrNoBlobs = errors.New("the image's original layer blobs are not kept")

// manifestRef records which manifest an image (by config id) came with:
// the store's digest may be an index's.
func (b *Blobs) manifestRef(id string) string { return filepath.Join(b.Dir, "manifests", id) }

func (b *Blobs) putManifest(id string, raw []byte) error {
	d := digest.FromBytes(raw).String()
	if err := b.Put(d, raw); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(b.Dir, "manifests"), 0o700); err != nil {
		return err
	}
	return os.WriteFile(b.manifestRef(id), []byte(d), 0o600)
}

// ManifestOf is the digest of the manifest kept for the image, "" if none.
func (b *Blobs) ManifestOf(id string) string {
	d, err := os.ReadFile(b.manifestRef(id))
	if err != nil || !b.Has(string(d)) {
		return ""
	}
	return string(d)
}

// Image is the stored image with config id as push and save send it: its
// pulled manifest and compressed layers byte for byte when kept, else (an
// image loaded from a docker archive) its uncompressed layers, gzipped.
func (b *Blobs) Image(id string) (v1.Image, error) {
	if md := b.ManifestOf(id); md != "" {
		raw, err := os.ReadFile(b.Path(md))
		if err != nil {
			return nil, err
		}
		k := &kept{b: b, raw: raw}
		if err := json.Unmarshal(raw, &k.m); err != nil {
			return nil, fmt.Errorf("parsing the kept manifest: %w", err)
		}
		for _, l := range k.m.Layers {
			if !b.Has(l.Digest.String()) {
				return nil, ErrNoBlobs
			}
		}
		return partial.CompressedToImage(k)
	}
	cfg, err := os.ReadFile(b.Path("sha256:" + id))
	if err != nil {
		return nil, ErrNoBlobs
	}
	diffs, err := diffIDs(cfg)
	if err != nil {
		return nil, err
	}
	s := &rebuilt{cfg: cfg}
	for _, d := range diffs {
		if !b.Has(d) {
			return nil, ErrNoBlobs
		}
		p := b.Path(d)
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return os.Open(p) })
		if err != nil {
			return nil, err
		}
		s.layers = append(s.layers, l)
	}
	return partial.CompressedToImage(s)
}

// kept is an image as it was pulled: its manifest and blobs byte for byte.
type kept struct {
	b   *Blobs
	raw []byte
	m   v1.Manifest
}

func (k *kept) RawManifest() ([]byte, error) { return k.raw, nil }

func (k *kept) RawConfigFile() ([]byte, error) {
	return os.ReadFile(k.b.Path(k.m.Config.Digest.String()))
}

func (k *kept) MediaType() (types.MediaType, error) {
	if k.m.MediaType != "" {
		return k.m.MediaType, nil
	}
	return types.OCIManifestSchema1, nil
}

func (k *kept) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, l := range k.m.Layers {
		if l.Digest == h {
			return &keptLayer{path: k.b.Path(h.String()), desc: l}, nil
		}
	}
	if k.m.Config.Digest == h {
		return &keptLayer{path: k.b.Path(h.String()), desc: k.m.Config}, nil
	}
	return nil, fmt.Errorf("no blob %s in the kept manifest", h)
}

// keptLayer is a blob file of the content store.
type keptLayer struct {
	path string
	desc v1.Descriptor
}

func (l *keptLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *keptLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *keptLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *keptLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }

// rebuilt is an image whose manifest den writes: its config as stored,
// its layers gzipped from the kept tars.
type rebuilt struct {
	cfg    []byte
	layers []v1.Layer
}

func (r *rebuilt) RawConfigFile() ([]byte, error) { return r.cfg, nil }

func (r *rebuilt) MediaType() (types.MediaType, error) { return types.DockerManifestSchema2, nil }

func (r *rebuilt) RawManifest() ([]byte, error) {
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.DockerManifestSchema2}
	h, size, err := v1.SHA256(strings.NewReader(string(r.cfg)))
	if err != nil {
		return nil, err
	}
	m.Config = v1.Descriptor{MediaType: types.DockerConfigJSON, Size: size, Digest: h}
	for _, l := range r.layers {
		d, err := partial.Descriptor(l)
		if err != nil {
			return nil, err
		}
		m.Layers = append(m.Layers, *d)
	}
	return json.Marshal(m)
}

func (r *rebuilt) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, l := range r.layers {
		if d, err := l.Digest(); err == nil && d == h {
			return l, nil
		}
	}
	return nil, fmt.Errorf("no layer %s", h)
}

// sweepGrace is how old a blob no image uses must be to be deleted: a
// pull running meanwhile records its image only at the end.
var sweepGrace = 10 * time.Minute

// Sweep deletes the blobs and manifest records no image in ids uses: at
// once those of the images in gone, others once older than sweepGrace.
func (b *Blobs) Sweep(ids, gone []string) error {
	keep, now := map[string]bool{}, map[string]bool{}
	for _, id := range ids {
		b.refs(id, keep)
	}
	for _, id := range gone {
		b.refs(id, now)
	}
	refs, _ := os.ReadDir(filepath.Join(b.Dir, "manifests"))
	for _, r := range refs {
		if !keep["manifests/"+r.Name()] {
			os.Remove(filepath.Join(b.Dir, "manifests", r.Name()))
		}
	}
	// What a killed pull or load was writing (.incoming-*): a live one's
	// is younger than the grace.
	partial, _ := filepath.Glob(filepath.Join(b.Dir, "blobs", ".incoming-*"))
	for _, p := range partial {
		if fi, err := os.Stat(p); err == nil && time.Since(fi.ModTime()) > sweepGrace {
			os.Remove(p)
		}
	}
	blobs, _ := os.ReadDir(filepath.Join(b.Dir, "blobs", "sha256"))
	var first error
	for _, f := range blobs {
		d := "sha256:" + f.Name()
		fi, err := f.Info()
		if keep[d] || err != nil || !now[d] && time.Since(fi.ModTime()) < sweepGrace {
			continue
		}
		if err := os.Remove(filepath.Join(b.Dir, "blobs", "sha256", f.Name())); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// refs adds what image id uses to set: config, manifest, layer blobs.
func (b *Blobs) refs(id string, set map[string]bool) {
	set["sha256:"+id] = true
	set["manifests/"+id] = true
	if md := b.ManifestOf(id); md != "" {
		set[md] = true
		if raw, err := os.ReadFile(b.Path(md)); err == nil {
			var m v1.Manifest
			if json.Unmarshal(raw, &m) == nil {
				for _, l := range m.Layers {
					set[l.Digest.String()] = true
				}
			}
		}
	}
	if raw, err := os.ReadFile(b.Path("sha256:" + id)); err == nil {
		var c v1.ConfigFile
		if json.Unmarshal(raw, &c) == nil {
			for _, d := range c.RootFS.DiffIDs {
				set[d.String()] = true
			}
		}
	}
}

// Size is the bytes the content store holds.
func (b *Blobs) Size() int64 {
	var n int64
	blobs, _ := os.ReadDir(filepath.Join(b.Dir, "blobs", "sha256"))
	for _, f := range blobs {
		if fi, err := f.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n
}
