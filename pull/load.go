package pull

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Load stores the images of a `docker save` tarball, an OCI image layout
// directory, or a tar of one (an OCI archive).
func Load(ctx context.Context, path string, sink Sink, opts Options) ([]*Image, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	if fi.IsDir() {
		return loadLayout(ctx, path, path, sink, opts)
	}
	kind, err := archiveKind(path)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	switch kind {
	case "docker":
		return loadDocker(ctx, path, sink, opts)
	case "oci":
		dir, err := os.MkdirTemp("", "den-load-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		if err := untarPlain(path, dir); err != nil {
			return nil, fmt.Errorf("loading %s: %w", path, err)
		}
		return loadLayout(ctx, path, dir, sink, opts)
	}
	return nil, fmt.Errorf("loading %s: not a docker save tarball or an OCI image archive (no manifest.json or oci-layout inside)", path)
}

// archiveKind looks for the file that names the format.
func archiveKind(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	kind := ""
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return kind, nil
		}
		if err != nil {
			return "", fmt.Errorf("reading the archive: %w", err)
		}
		switch strings.TrimPrefix(h.Name, "./") {
		case "manifest.json":
			return "docker", nil
		case "oci-layout":
			kind = "oci"
		}
	}
}

func loadDocker(ctx context.Context, path string, sink Sink, opts Options) ([]*Image, error) {
	opener := func() (io.ReadCloser, error) { return os.Open(path) }
	m, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	var out []*Image
	for _, desc := range m {
		var tag *string
		name := ""
		if len(desc.RepoTags) > 0 {
			tag, name = &desc.RepoTags[0], Normalize(desc.RepoTags[0])
		}
		t, err := tagOf(tag)
		if err != nil {
			return out, fmt.Errorf("loading %s: %w", path, err)
		}
		img, err := tarball.Image(opener, t)
		if err != nil {
			return out, fmt.Errorf("loading %s: %w", path, err)
		}
		src, err := archiveSource(img)
		if err != nil {
			return out, fmt.Errorf("loading %s: %w", path, err)
		}
		src.tags = desc.RepoTags
		src.blobs = opts.Blobs
		res, err := store(ctx, name, src, sink, opts.Jobs, opts.emitter(name))
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

func loadLayout(ctx context.Context, path, dir string, sink Sink, opts Options) ([]*Image, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	var out []*Image
	for _, d := range im.Manifests {
		name := Normalize(d.Annotations["io.containerd.image.name"])
		if name == "" {
			if n := d.Annotations["org.opencontainers.image.ref.name"]; n != "" && strings.ContainsAny(n, "/:") {
				name = Normalize(n)
			}
		}
		var img v1.Image
		if d.MediaType.IsIndex() {
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return out, fmt.Errorf("loading %s: %w", path, err)
			}
			cm, err := child.IndexManifest()
			if err != nil {
				return out, fmt.Errorf("loading %s: %w", path, err)
			}
			cd, err := choose(cm, opts.Platform)
			if err != nil {
				return out, fmt.Errorf("loading %s: %w", path, err)
			}
			img, err = child.Image(cd.Digest)
			if err != nil {
				return out, fmt.Errorf("loading %s: %w", path, err)
			}
		} else if img, err = idx.Image(d.Digest); err != nil {
			return out, fmt.Errorf("loading %s: %w", path, err)
		}
		src, err := remoteSource(img)
		if err != nil {
			return out, fmt.Errorf("loading %s: %w", path, err)
		}
		src.digest = d.Digest.String()
		src.blobs = opts.Blobs
		res, err := store(ctx, name, src, sink, opts.Jobs, opts.emitter(name))
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

func tagOf(s *string) (*name.Tag, error) {
	if s == nil {
		return nil, nil
	}
	t, err := name.NewTag(*s)
	if err != nil {
		return nil, fmt.Errorf("invalid tag %q in manifest.json: %w", *s, err)
	}
	return &t, nil
}

// archiveSource reads a docker save image; its layers are handed over
// uncompressed, as they are stored, and checked against their diff ids.
func archiveSource(img v1.Image) (*source, error) {
	cfgName, err := img.ConfigName()
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	src := &source{id: cfgName.Hex, config: img.RawConfigFile}
	for _, l := range layers {
		d, err := l.DiffID()
		if err != nil {
			return nil, err
		}
		size, _ := l.Size()
		src.layers = append(src.layers, blob{digest: d.String(), size: size, open: l.Uncompressed, uncompressed: true})
	}
	return src, nil
}

// untarPlain unpacks an OCI archive's files and directories into dir; an
// entry of any other kind, or one reaching outside dir, is refused.
func untarPlain(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the archive: %w", err)
		}
		n := filepath.Clean(h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			err = root.MkdirAll(n, 0o700)
		case tar.TypeReg:
			if err = root.MkdirAll(filepath.Dir(n), 0o700); err == nil {
				err = copyInto(root, n, tr)
			}
		default:
			err = fmt.Errorf("unexpected entry type %q", h.Typeflag)
		}
		if err != nil {
			return fmt.Errorf("archive entry %q: %w", h.Name, err)
		}
	}
}

func copyInto(root *os.Root, n string, r io.Reader) error {
	w, err := root.OpenFile(n, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
