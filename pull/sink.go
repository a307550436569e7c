package pull

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"golang.org/x/sync/errgroup"
)

// Layer is one layer of an image, as a Sink stores it.
type Layer struct {
	Index, Count int
	Digest       string // of the blob as fetched (may be compressed)
	DiffID       string // of the uncompressed tar, from the image config
	ChainID      string // hex; identifies the layer with all its parents
	Parent       string // the parent's ChainID, "" for the base layer
	Size         int64
}

// Image is what a pull or load stored.
type Image struct {
	Name     string   // normalised reference; "" when an archive names none
	Tags     []string // further names an archive gives the image
	ID       string   // config digest, hex
	Digest   string   // manifest digest, "" for archives without one
	Config   []byte   // nil when the image was already stored
	Manifest []byte
	TopLayer string
	Cached   bool // everything was already in the store
}

// Sink is where layers go: den's store, or a test's.
type Sink interface {
	HasImage(id string) bool
	HasLayer(chainID string) bool
	// Stage unpacks one layer. r returns an error instead of EOF when the
	// blob does not match its digest; Stage must read r to its end.
	Stage(l Layer, r io.Reader) (Staged, error)
	PutImage(img *Image) error
}

// Staged is a layer unpacked aside, waiting for its parents.
type Staged interface {
	Commit() error
	Discard()
}

// source is an image from a registry or an archive.
type source struct {
	id       string
	digest   string
	manifest []byte
	config   func() ([]byte, error)
	layers   []blob
	tags     []string
	blobs    *Blobs // nil: keep no copy of the blobs
}

// complete reports whether the content store has every layer blob.
func (s *source) complete() bool {
	if s.blobs == nil {
		return true
	}
	for _, l := range s.layers {
		if !s.blobs.Has(l.digest) {
			return false
		}
	}
	return s.blobs.Has("sha256:"+s.id) && (s.manifest == nil || s.blobs.ManifestOf(s.id) != "")
}

type blob struct {
	digest string
	size   int64
	open   func() (io.ReadCloser, error)
	// uncompressed blobs are checked by their diff id, not digest and size.
	uncompressed bool
}

// defaultJobs is how many layers are fetched at once when the caller does
// not say: enough to hide a registry's latency, few enough not to be
// throttled.
const defaultJobs = 4

// store stages every missing layer with up to jobs at once, then commits
// them base first, and records the image. On any failure nothing of the
// image is recorded and staged layers are dropped.
func store(ctx context.Context, name string, src *source, sink Sink, jobs int, emit func(Event)) (*Image, error) {
	img := &Image{Name: name, ID: src.id, Digest: src.digest, Manifest: src.manifest}
	for _, t := range src.tags {
		img.Tags = append(img.Tags, Normalize(t))
	}
	if sink.HasImage(src.id) && src.complete() {
		img.Cached = true
		emit(Event{Kind: ImageCached})
		if err := sink.PutImage(img); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return img, nil
	}
	cfg, err := src.config()
	if err != nil {
		return nil, explain(name, err)
	}
	img.Config = cfg
	if err := src.keepDocs(cfg); err != nil {
		return nil, fmt.Errorf("%s: keeping the image's blobs: %w", name, err)
	}
	layers, err := chain(cfg, src.layers)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	staged, err := stageAll(ctx, name, layers, src, sink, jobs, emit)
	if err = commitAll(name, staged, err); err != nil {
		return nil, err
	}
	if len(layers) > 0 {
		img.TopLayer = layers[len(layers)-1].ChainID
	}
	if err := sink.PutImage(img); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	emit(Event{Kind: ImageDone})
	return img, nil
}

// stageAll fetches and unpacks the layers the sink lacks, jobs at a time.
// The first failure cancels the others. Layers staged before it are
// returned with the error so that commitAll can drop them.
func stageAll(ctx context.Context, name string, layers []Layer, src *source, sink Sink, jobs int, emit func(Event)) ([]Staged, error) {
	blobs := src.layers
	if jobs <= 0 {
		jobs = defaultJobs
	}
	staged := make([]Staged, len(layers))
	missing := make([]bool, len(layers))
	// Cached layers are reported before any fetch starts, so progress shows
	// them at once rather than when a fetch slot frees up.
	for i, l := range layers {
		// A layer unpacked before den kept blobs is fetched again, once.
		if missing[i] = !sink.HasLayer(l.ChainID) || src.blobs != nil && !src.blobs.Has(l.Digest); !missing[i] {
			emit(Event{Kind: LayerCached, Layer: short(l.Digest), Index: i, Count: len(layers), Total: l.Size})
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for i, l := range layers {
		if !missing[i] {
			continue
		}
		g.Go(func() error {
			if gctx.Err() != nil {
				return nil // another layer failed or the user interrupted; nothing to add
			}
			st, err := fetch(gctx, l, blobs[i], src.blobs, sink, emit)
			if err != nil {
				return fmt.Errorf("%s: layer %d/%d %s: %w", name, i+1, len(layers), short(l.Digest), err)
			}
			staged[i] = st
			return nil
		})
	}
	err := g.Wait()
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("%s: %w", name, ctx.Err())
	}
	return staged, err
}

// commitAll commits staged layers base first, as each needs its parent in
// the store. After fetchErr or a failed commit, the rest are discarded so
// the store keeps no half-recorded image.
func commitAll(name string, staged []Staged, fetchErr error) error {
	err := fetchErr
	for i, st := range staged {
		if st == nil {
			continue
		}
		if err != nil {
			st.Discard()
			continue
		}
		if cerr := st.Commit(); cerr != nil {
			err = fmt.Errorf("%s: layer %d/%d: %w", name, i+1, len(staged), cerr)
		}
	}
	return err
}

func fetch(ctx context.Context, l Layer, b blob, keep *Blobs, sink Sink, emit func(Event)) (_ Staged, err error) {
	rc, err := b.open()
	if err != nil {
		return nil, err
	}
	if keep != nil {
		w, _ := keep.create() // best effort: without it push re-fetches
		t := &teeBlob{rc: rc, w: w}
		rc = t
		defer func() { t.keep(keep, l.Digest, err == nil) }()
	}
	// Closing the body ends a read blocked on the network at Ctrl-C.
	stop := context.AfterFunc(ctx, func() { rc.Close() })
	defer stop()
	defer rc.Close()
	emit(Event{Kind: LayerStart, Layer: short(l.Digest), Index: l.Index, Count: l.Count, Total: l.Size})
	size := l.Size
	if b.uncompressed {
		size = -1
	}
	v := newVerifier(rc, b.digest, size)
	pr := &progressReader{r: v, emit: emit, ev: Event{Kind: LayerProgress, Layer: short(l.Digest), Index: l.Index, Count: l.Count, Total: l.Size}}
	st, err := sink.Stage(l, pr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if verdict := v.settle(); verdict != nil {
			return nil, verdict
		}
		return nil, err
	}
	emit(Event{Kind: LayerDone, Layer: short(l.Digest), Index: l.Index, Count: l.Count, Current: pr.ev.Current, Total: l.Size})
	return st, nil
}

// diffIDs is the rootfs.diff_ids of an image config, read without the
// rest of the config.
func diffIDs(cfg []byte) ([]string, error) {
	var c struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(cfg, &c); err != nil {
		return nil, fmt.Errorf("parsing image config: %w", err)
	}
	return c.RootFS.DiffIDs, nil
}

// chain pairs each blob with its diff id from the config and computes the
// chain ids that name layers in the store (OCI image spec).
func chain(cfg []byte, blobs []blob) ([]Layer, error) {
	diffs, err := diffIDs(cfg)
	if err != nil {
		return nil, err
	}
	if len(diffs) != len(blobs) {
		return nil, fmt.Errorf("image config lists %d layers but the manifest %d", len(diffs), len(blobs))
	}
	out := make([]Layer, len(blobs))
	parent := ""
	for i, b := range blobs {
		d := diffs[i]
		id := d
		if parent != "" {
			sum := sha256.Sum256([]byte("sha256:" + parent + " " + d))
			id = "sha256:" + hex.EncodeToString(sum[:])
		}
		if len(id) != len("sha256:")+64 {
			return nil, fmt.Errorf("image config has a malformed diff id %q", d)
		}
		out[i] = Layer{Index: i, Count: len(blobs), Digest: b.digest, DiffID: d, ChainID: id[len("sha256:"):], Parent: parent, Size: b.size}
		parent = out[i].ChainID
	}
	return out, nil
}

func short(d string) string {
	if i := len("sha256:"); len(d) > i+12 && d[:i] == "sha256:" {
		return d[i : i+12]
	}
	return d
}

// keepDocs stores the config and manifest in the content store.
func (s *source) keepDocs(cfg []byte) error {
	if s.blobs == nil {
		return nil
	}
	if err := s.blobs.Put("sha256:"+s.id, cfg); err != nil {
		return err
	}
	if s.manifest != nil {
		return s.blobs.putManifest(s.id, s.manifest)
	}
	return nil
}
