package pull

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Options control a pull.
type Options struct {
	Platform  Platform
	Jobs      int // layers fetched at once; default 4
	Keychain  authn.Keychain
	Transport http.RoundTripper
	Progress  func(Event)
	// Warn is told of a mirror that failed before the next is tried.
	Warn func(string)
	// Blobs keeps a copy of every blob fetched; nil keeps none.
	Blobs *Blobs
}

// Pull resolves ref (an index to opts.Platform), and stores the image's
// missing layers through sink, fetching them in parallel.
func Pull(ctx context.Context, ref Ref, sink Sink, opts Options) (*Image, error) {
	if opts.Keychain == nil {
		opts.Keychain = authn.DefaultKeychain
	}
	if opts.Transport == nil {
		opts.Transport = remote.DefaultTransport
	}
	ropts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(opts.Keychain),
		remote.WithTransport(opts.Transport),
		remote.WithUserAgent("den"),
	}
	name := ref.String()
	emit := opts.emitter(name)
	desc, err := resolve(ref, ropts, opts.Warn)
	if err != nil {
		return nil, err
	}
	var img v1.Image
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, explain(name, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, explain(name, err)
		}
		d, err := choose(im, opts.Platform)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if img, err = idx.Image(d.Digest); err != nil {
			return nil, explain(name, err)
		}
	} else if img, err = desc.Image(); err != nil {
		return nil, explain(name, err)
	}
	src, err := remoteSource(img)
	if err != nil {
		return nil, explain(name, err)
	}
	src.digest = desc.Digest.String()
	src.blobs = opts.Blobs
	out, err := store(ctx, name, src, sink, opts.Jobs, emit)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// remoteSource reads what a registry image is made of; only the config is
// a blob fetch, and only when the image is not stored yet.
func remoteSource(img v1.Image) (*source, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return nil, err
	}
	src := &source{id: m.Config.Digest.Hex, manifest: raw}
	src.config = func() ([]byte, error) {
		b, err := img.RawConfigFile()
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != m.Config.Digest.Hex {
			return nil, fmt.Errorf("config blob is sha256:%s, manifest says %s (corrupt or tampered)", got, m.Config.Digest)
		}
		return b, nil
	}
	for _, l := range m.Layers {
		d := l.Digest
		src.layers = append(src.layers, blob{digest: d.String(), size: l.Size, open: func() (io.ReadCloser, error) {
			layer, err := img.LayerByDigest(d)
			if err != nil {
				return nil, err
			}
			return layer.Compressed()
		}})
	}
	return src, nil
}

// resolve gets the manifest from the first endpoint that answers: the
// mirrors registries.conf lists, in order, then the registry.
func resolve(ref Ref, ropts []remote.Option, warn func(string)) (*remote.Descriptor, error) {
	c, err := config()
	if err != nil {
		return nil, err
	}
	eps, err := c.endpoints(ref, ref.Scheme() == "http")
	if err != nil {
		return nil, err
	}
	for _, ep := range eps {
		desc, err := remote.Get(ep.Ref.ref, ropts...)
		if err == nil {
			return desc, nil
		}
		if !ep.Mirror {
			return nil, explain(ref.String(), err)
		}
		if warn != nil {
			warn(fmt.Sprintf("mirror %s failed, trying the next: %s", ep.Ref.ref.Context().RegistryStr(), explain(ep.Ref.String(), err)))
		}
	}
	return nil, fmt.Errorf("%s: no endpoint to pull from", ref)
}
