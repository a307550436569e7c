package pull

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
)

// Push sends img to ref: layers the registry lacks, up to opts.Jobs at
// once, then the config and the manifest. It returns the manifest digest.
func Push(ctx context.Context, ref Ref, img v1.Image, opts Options) (string, error) {
	if opts.Keychain == nil {
		opts.Keychain = authn.DefaultKeychain
	}
	if opts.Transport == nil {
		opts.Transport = remote.DefaultTransport
	}
	if opts.Jobs <= 0 {
		opts.Jobs = defaultJobs
	}
	name := ref.String()
	c, err := config()
	if err != nil {
		return "", err
	}
	target, err := c.pushTarget(ref, ref.Scheme() == "http")
	if err != nil {
		return "", err
	}
	p, err := remote.NewPusher(remote.WithAuthFromKeychain(opts.Keychain), remote.WithTransport(opts.Transport),
		remote.WithUserAgent("den"), remote.WithJobs(opts.Jobs))
	if err != nil {
		return "", err
	}
	layers, err := img.Layers()
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	emit := opts.emitter(name)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Jobs)
	for i, l := range layers {
		g.Go(func() error { return pushLayer(gctx, p, target, l, i, len(layers), emit) })
	}
	if err := g.Wait(); err != nil {
		return "", explainPush(name, err)
	}
	if err := p.Push(ctx, target.ref, img); err != nil {
		return "", explainPush(name, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	emit(Event{Kind: ImageDone})
	return d.String(), nil
}

func pushLayer(ctx context.Context, p *remote.Pusher, target Ref, l v1.Layer, i, n int, emit func(Event)) error {
	d, err := l.Digest()
	if err != nil {
		return err
	}
	size, _ := l.Size()
	w := &watchedLayer{Layer: l, emit: emit, ev: Event{Kind: LayerProgress, Layer: short(d.String()), Index: i, Count: n, Total: size}}
	if err := p.Upload(ctx, target.ref.Context(), w); err != nil {
		return fmt.Errorf("layer %d/%d %s: %w", i+1, n, short(d.String()), err)
	}
	kind := LayerDone
	if !w.opened {
		kind = LayerCached // the registry had it: nothing was sent
	}
	emit(Event{Kind: kind, Layer: w.ev.Layer, Index: i, Count: n, Current: size, Total: size})
	return nil
}

// watchedLayer reports the upload of its bytes; a layer never opened was
// already in the registry.
type watchedLayer struct {
	v1.Layer
	emit   func(Event)
	ev     Event
	opened bool
}

func (w *watchedLayer) Compressed() (io.ReadCloser, error) {
	rc, err := w.Layer.Compressed()
	if err != nil {
		return nil, err
	}
	w.opened = true
	ev := w.ev
	ev.Kind = LayerStart
	w.emit(ev)
	return struct {
		io.Reader
		io.Closer
	}{&progressReader{r: rc, emit: w.emit, ev: w.ev}, rc}, nil
}

func explainPush(name string, err error) error {
	e := explain(name, err)
	if te := statusOf(err); te == http.StatusUnauthorized || te == http.StatusForbidden {
		return fmt.Errorf("%s: push refused (HTTP %d): log in with 'den login %s' and check that you may push to this repository", name, te, registryOf(name))
	}
	return e
}
