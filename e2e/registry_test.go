package e2e

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/denproject/den/internal/testimage"
)

// fault makes the test registry misbehave.
type fault string

const (
	faultNone     fault = ""
	fault401      fault = "401"
	fault404      fault = "404"
	fault500      fault = "500"
	faultTruncate fault = "truncate" // layer blobs end halfway
	faultTamper   fault = "tamper"   // one byte of each layer blob flipped
	faultStall    fault = "stall"    // layer blobs send 64 KiB, then hang
)

// testRegistry is go-containerregistry's in-process registry on
// 127.0.0.1, with request counting and fault injection.
type testRegistry struct {
	srv      *httptest.Server
	host     string
	fault    atomic.Value // fault
	blobGETs atomic.Int64
	stalled  chan struct{} // closed when a stalled blob has sent its bytes
	once     sync.Once
}

func newRegistry(t *testing.T) *testRegistry {
	t.Helper()
	r := &testRegistry{stalled: make(chan struct{})}
	r.fault.Store(faultNone)
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.serve(w, req, inner)
	}))
	t.Cleanup(r.srv.Close)
	r.host = strings.TrimPrefix(r.srv.URL, "http://")
	return r
}

func (r *testRegistry) setFault(f fault) { r.fault.Store(f) }

func (r *testRegistry) serve(w http.ResponseWriter, req *http.Request, inner http.Handler) {
	f := r.fault.Load().(fault)
	isBlob := req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/blobs/sha256:")
	if isBlob {
		r.blobGETs.Add(1)
	}
	switch f {
	case fault401:
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
		return
	case fault404:
		if strings.Contains(req.URL.Path, "/manifests/") {
			http.Error(w, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`, http.StatusNotFound)
			return
		}
	case fault500:
		if req.URL.Path != "/v2/" {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
	}
	if !isBlob || f == faultNone || f == fault404 {
		inner.ServeHTTP(w, req)
		return
	}
	rec := httptest.NewRecorder()
	inner.ServeHTTP(rec, req)
	body := rec.Body.Bytes()
	// Config blobs are small JSON; faults hit the layers.
	if rec.Code != http.StatusOK || bytes.HasPrefix(body, []byte("{")) {
		copyResponse(w, rec)
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(http.StatusOK)
	switch f {
	case faultTruncate:
		w.Write(body[:len(body)/2])
		// Returning with fewer bytes than Content-Length breaks the body.
	case faultTamper:
		b := append([]byte{}, body...)
		b[len(b)/2] ^= 0xff
		w.Write(b)
	case faultStall:
		n := min(64<<10, len(body)/2)
		w.Write(body[:n])
		w.(http.Flusher).Flush()
		r.once.Do(func() { close(r.stalled) })
		select {
		case <-req.Context().Done():
		case <-time.After(60 * time.Second):
		}
	}
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// push stores img as repo:tag and returns the reference den should pull.
func (r *testRegistry) push(t *testing.T, repoTag string, img v1.Image) string {
	t.Helper()
	ref, err := name.ParseReference(r.host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	return ref.String()
}

var (
	imgOnce              sync.Once
	busyboxImg, multiImg v1.Image
	imgErr               error
)

// images are built once per test binary from the host's busybox.
func images(t *testing.T) (busybox, multi v1.Image) {
	t.Helper()
	imgOnce.Do(func() {
		if busyboxImg, imgErr = testimage.Busybox(); imgErr == nil {
			multiImg, imgErr = testimage.MultiLayer()
		}
	})
	if imgErr != nil {
		t.Fatalf("building test images: %v", imgErr)
	}
	return busyboxImg, multiImg
}

// busybox starts a registry holding the busybox image and returns both.
func busybox(t *testing.T) (*testRegistry, string) {
	t.Helper()
	bb, _ := images(t)
	r := newRegistry(t)
	return r, r.push(t, "test/busybox:latest", bb)
}
