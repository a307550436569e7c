package pull

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sync"
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
}

type blob struct {
	digest string
	size   int64
	open   func() (io.ReadCloser, error)
	// uncompressed blobs are checked by their diff id, not digest and size.
	uncompressed bool
}

// store stages every missing layer with up to jobs at once, then commits
// them base first, and records the image. On any failure nothing of the
// image is recorded and staged layers are dropped.
func store(ctx context.Context, name string, src *source, sink Sink, jobs int, emit func(Event)) (*Image, error) {
	img := &Image{Name: name, ID: src.id, Digest: src.digest, Manifest: src.manifest}
	for _, t := range src.tags {
		img.Tags = append(img.Tags, Normalize(t))
	}
	if sink.HasImage(src.id) {
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
	layers, err := chain(cfg, src.layers)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if jobs <= 0 {
		jobs = 4
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	staged := make([]Staged, len(layers))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, jobs)
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
		mu.Unlock()
	}
	for i, l := range layers {
		if sink.HasLayer(l.ChainID) {
			emit(Event{Kind: LayerCached, Layer: short(l.Digest), Index: i, Count: len(layers), Total: l.Size})
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			st, err := fetch(ctx, l, src.layers[i], sink, emit)
			if err != nil {
				fail(fmt.Errorf("%s: layer %d/%d %s: %w", name, i+1, len(layers), short(l.Digest), err))
				return
			}
			staged[i] = st
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = fmt.Errorf("%s: %w", name, ctx.Err())
	}
	for i, st := range staged {
		if st == nil {
			continue
		}
		if firstErr != nil {
			st.Discard()
			continue
		}
		if err := st.Commit(); err != nil {
			firstErr = fmt.Errorf("%s: layer %d/%d: %w", name, i+1, len(layers), err)
		}
	}
	if firstErr != nil {
		return nil, firstErr
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

func fetch(ctx context.Context, l Layer, b blob, sink Sink, emit func(Event)) (Staged, error) {
	rc, err := b.open()
	if err != nil {
		return nil, err
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

// chain pairs each blob with its diff id from the config and computes the
// chain ids that name layers in the store (OCI image spec).
func chain(cfg []byte, blobs []blob) ([]Layer, error) {
	var c struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(cfg, &c); err != nil {
		return nil, fmt.Errorf("parsing image config: %w", err)
	}
	if len(c.RootFS.DiffIDs) != len(blobs) {
		return nil, fmt.Errorf("image config lists %d layers but the manifest %d", len(c.RootFS.DiffIDs), len(blobs))
	}
	out := make([]Layer, len(blobs))
	parent := ""
	for i, b := range blobs {
		d := c.RootFS.DiffIDs[i]
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
