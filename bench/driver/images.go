package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/denproject/den/internal/testimage"
)

// images names what the registry serves.
type images struct {
	busybox, multi, debian1, debian6 string
	small                            []string
	debianBlob                       string // URL of the one-layer image's layer
	rootfs                           string // busybox unpacked, for the floors
}

func (b *bench) serveImages(debianTar string) (*images, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		_ = http.Serve(l, registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	}()
	b.reg = l.Addr().String()
	im := &images{
		busybox: b.reg + "/bench/busybox:latest",
		multi:   b.reg + "/bench/busybox:multilayer",
		debian1: b.reg + "/bench/debian:1layer",
		debian6: b.reg + "/bench/debian:6layers",
	}
	bb, err := testimage.Busybox()
	if err != nil {
		return nil, err
	}
	if err := push(im.busybox, bb); err != nil {
		return nil, err
	}
	ml, err := testimage.MultiLayer()
	if err != nil {
		return nil, err
	}
	if err := push(im.multi, ml); err != nil {
		return nil, err
	}
	layers, err := bb.Layers()
	if err != nil {
		return nil, err
	}
	for i := 0; i < 50; i++ {
		l, err := testimage.Layer([]testimage.Entry{{Name: "etc/bench-id", Body: fmt.Sprintf("%d\n", i)}})
		if err != nil {
			return nil, err
		}
		img, err := testimage.Image([]string{"sh"}, layers[0], l)
		if err != nil {
			return nil, err
		}
		ref := fmt.Sprintf("%s/bench/small%02d:latest", b.reg, i)
		if err := push(ref, img); err != nil {
			return nil, err
		}
		im.small = append(im.small, ref)
	}
	ones, err := splitTar(debianTar, 1)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", debianTar, err)
	}
	one := ones[0]
	d1, err := testimage.Image([]string{"bash"}, one)
	if err != nil {
		return nil, err
	}
	if err := push(im.debian1, d1); err != nil {
		return nil, err
	}
	dg, err := one.Digest()
	if err != nil {
		return nil, err
	}
	im.debianBlob = fmt.Sprintf("http://%s/v2/bench/debian/blobs/%s", b.reg, dg)
	parts, err := splitTar(debianTar, 6)
	if err != nil {
		return nil, err
	}
	d6, err := testimage.Image([]string{"bash"}, parts...)
	if err != nil {
		return nil, err
	}
	if err := push(im.debian6, d6); err != nil {
		return nil, err
	}
	im.rootfs = filepath.Join(b.work, "busybox-rootfs")
	return im, unpackPlain(layers[0], im.rootfs)
}

func push(ref string, img v1.Image) error {
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return err
	}
	if err := remote.Write(r, img); err != nil {
		return fmt.Errorf("pushing %s: %w", ref, err)
	}
	return nil
}

// splitTar cuts a rootfs tar into n gzip layers of about equal size:
// every directory goes in the first, files follow in archive order (so a
// hard link comes after its target, in its target's layer). Devices are left out, as in images.
func splitTar(path string, n int) ([]v1.Layer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	bufs := make([]*bytes.Buffer, n)
	tws := make([]*tar.Writer, n)
	for i := range bufs {
		bufs[i] = &bytes.Buffer{}
		tws[i] = tar.NewWriter(bufs[i])
	}
	per := fi.Size() / int64(n)
	var written int64
	layerOf := map[string]int{} // a hard link goes where its target went
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeChar || h.Typeflag == tar.TypeBlock || h.Typeflag == tar.TypeFifo {
			continue
		}
		i := 0
		switch h.Typeflag {
		case tar.TypeDir:
		case tar.TypeLink:
			i = layerOf[h.Linkname]
		default:
			i = min(int(written/per), n-1)
			written += h.Size + 512
			layerOf[h.Name] = i
		}
		if err := tws[i].WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := io.Copy(tws[i], tr); err != nil {
			return nil, err
		}
	}
	var out []v1.Layer
	for i := range tws {
		if err := tws[i].Close(); err != nil {
			return nil, err
		}
		b := bufs[i].Bytes()
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, tarball.WithCompressedCaching)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// unpackPlain writes a layer's files as the calling user, for the floors
// (which run the same busybox without den).
func unpackPlain(l v1.Layer, dir string) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p := filepath.Join(dir, filepath.Clean("/"+h.Name))
		if !strings.HasPrefix(p, dir) {
			return fmt.Errorf("layer entry %q escapes", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o755)
		case tar.TypeSymlink:
			err = os.Symlink(h.Linkname, p)
		case tar.TypeReg:
			var w *os.File
			if w, err = os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o777); err == nil {
				_, err = io.Copy(w, tr)
				w.Close()
			}
		}
		if err != nil {
			return err
		}
	}
}
