package pull

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	digest "github.com/opencontainers/go-digest"
)

// Blobs is a content store beside the unpacked layers: an OCI image
// layout directory that keeps every blob as it was fetched (compressed
// layers, config, manifest). The unpacked store cannot give the original
// bytes back (it keeps no tar-split), so push and save read them from here
// and a pushed manifest is byte-identical to the pulled one.
type Blobs struct{ Dir string }

// Path is where the blob with that digest lives (it may not exist).
func (b *Blobs) Path(d string) string {
	alg, hex, _ := strings.Cut(d, ":")
	return filepath.Join(b.Dir, "blobs", alg, hex)
}

// Has reports whether the blob is stored.
func (b *Blobs) Has(d string) bool {
	if b == nil || digest.Digest(d).Validate() != nil {
		return false
	}
	_, err := os.Stat(b.Path(d))
	return err == nil
}

// Put stores small blobs (configs, manifests), checking their digest.
func (b *Blobs) Put(d string, data []byte) error {
	if b == nil || b.Has(d) {
		return nil
	}
	if got := digest.FromBytes(data); got.String() != d {
		return fmt.Errorf("blob is %s, expected %s", got, d)
	}
	w, err := b.create()
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.abort()
		return err
	}
	return w.commit(b.Path(d))
}

// init makes the directory an OCI image layout, so other tools (and
// ggcr's layout package) can read it.
func (b *Blobs) init() error {
	if err := os.MkdirAll(filepath.Join(b.Dir, "blobs", "sha256"), 0o700); err != nil {
		return err
	}
	lay := filepath.Join(b.Dir, "oci-layout")
	if _, err := os.Stat(lay); err == nil {
		return nil
	}
	if err := os.WriteFile(lay, []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(b.Dir, "index.json"), []byte(`{"schemaVersion":2,"manifests":[]}`), 0o600)
}

// blobWriter is a blob being written beside its final place: a reader
// sees it only once complete and verified.
type blobWriter struct{ *os.File }

func (b *Blobs) create() (*blobWriter, error) {
	if err := b.init(); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Join(b.Dir, "blobs"), ".incoming-")
	if err != nil {
		return nil, err
	}
	return &blobWriter{f}, nil
}

func (w *blobWriter) abort() {
	w.Close()
	os.Remove(w.Name())
}

func (w *blobWriter) commit(path string) error {
	if err := w.Close(); err != nil {
		os.Remove(w.Name())
		return err
	}
	return os.Rename(w.Name(), path)
}

// teeBlob keeps a copy of what is read from rc, to be committed once the
// sink has verified the whole stream.
type teeBlob struct {
	rc io.ReadCloser
	w  *blobWriter
}

func (t *teeBlob) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	if n > 0 && t.w != nil {
		if _, werr := t.w.Write(p[:n]); werr != nil {
			t.w.abort() // keeping the blob is best effort; the pull goes on
			t.w = nil
		}
	}
	return n, err
}

func (t *teeBlob) Close() error { return t.rc.Close() }

// keep commits the copy under digest d, or drops it.
func (t *teeBlob) keep(b *Blobs, d string, ok bool) {
	if t.w == nil {
		return
	}
	if !ok || digest.Digest(d).Validate() != nil {
		t.w.abort()
		return
	}
	_ = t.w.commit(b.Path(d))
}
