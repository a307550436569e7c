package pull

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSink records what a pull did to the store.
type fakeSink struct {
	mu        sync.Mutex
	haveImage bool
	have      map[string]bool // chain ids already stored
	committed []string        // chain ids, in commit order
	discarded int
	images    []*Image
	running   atomic.Int32
	peak      atomic.Int32
	ok        atomic.Int32        // layers staged
	stage     func(l Layer) error // nil: succeed
}

type fakeStaged struct {
	s  *fakeSink
	id string
}

func (st fakeStaged) Commit() error {
	st.s.mu.Lock()
	defer st.s.mu.Unlock()
	st.s.committed = append(st.s.committed, st.id)
	return nil
}

func (st fakeStaged) Discard() { st.s.mu.Lock(); st.s.discarded++; st.s.mu.Unlock() }

func (s *fakeSink) HasImage(string) bool      { return s.haveImage }
func (s *fakeSink) HasLayer(id string) bool   { return s.have[id] }
func (s *fakeSink) PutImage(img *Image) error { s.images = append(s.images, img); return nil }

func (s *fakeSink) Stage(l Layer, r io.Reader) (Staged, error) {
	n := s.running.Add(1)
	defer s.running.Add(-1)
	for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
	}
	if s.stage != nil {
		if err := s.stage(l); err != nil {
			return nil, err
		}
	}
	if _, err := io.ReadAll(r); err != nil {
		return nil, err
	}
	s.ok.Add(1)
	return fakeStaged{s, l.ChainID}, nil
}

// testSource is an image of n one-byte-different layers.
func testSource(n int) *source {
	src := &source{id: "cafe", digest: "sha256:" + strings.Repeat("d", 64)}
	var diffs []string
	for i := 0; i < n; i++ {
		data := []byte(fmt.Sprintf("layer %d", i))
		sum := sha256.Sum256(data)
		d := "sha256:" + hex.EncodeToString(sum[:])
		diffs = append(diffs, `"`+d+`"`)
		src.layers = append(src.layers, blob{digest: d, size: int64(len(data)),
			open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }})
	}
	cfg := []byte(`{"rootfs":{"type":"layers","diff_ids":[` + strings.Join(diffs, ",") + `]}}`)
	src.config = func() ([]byte, error) { return cfg, nil }
	return src
}

func chainIDs(t *testing.T, src *source) []string {
	cfg, _ := src.config()
	ls, err := chain(cfg, src.layers)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range ls {
		ids = append(ids, l.ChainID)
	}
	return ids
}

func TestStoreCommitsBaseFirstFourAtATime(t *testing.T) {
	src := testSource(9)
	s := &fakeSink{have: map[string]bool{}, stage: func(l Layer) error {
		// Later layers arrive first: commits must still go base first.
		time.Sleep(time.Duration(9-l.Index) * 3 * time.Millisecond)
		return nil
	}}
	img, err := store(context.Background(), "x", src, s, 0, func(Event) {})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(s.committed, ","), strings.Join(chainIDs(t, src), ","); got != want {
		t.Errorf("commit order %s, want base first %s", got, want)
	}
	if p := s.peak.Load(); p != 4 {
		t.Errorf("%d layers fetched at once, want 4", p)
	}
	if len(s.images) != 1 || img.TopLayer != s.committed[8] || img.Cached {
		t.Errorf("image record: %+v", img)
	}
}

func TestStoreFailureRecordsNothing(t *testing.T) {
	src := testSource(6)
	s := &fakeSink{have: map[string]bool{}, stage: func(l Layer) error {
		if l.Index == 3 {
			return errors.New("disk full")
		}
		return nil
	}}
	_, err := store(context.Background(), "docker.io/library/x:1", src, s, 2, func(Event) {})
	if err == nil || !strings.Contains(err.Error(), "docker.io/library/x:1: layer 4/6") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error should name the image, the layer and the cause: %v", err)
	}
	if len(s.committed) != 0 || len(s.images) != 0 || s.discarded != int(s.ok.Load()) {
		t.Errorf("a failed pull committed %v, recorded %d images, discarded %d of %d staged", s.committed, len(s.images), s.discarded, s.ok.Load())
	}
}

func TestStoreInterruptedLeavesNothing(t *testing.T) {
	src := testSource(8)
	ctx, cancel := context.WithCancel(context.Background())
	s := &fakeSink{have: map[string]bool{}, stage: func(l Layer) error {
		if l.Index == 1 {
			cancel() // Ctrl-C while layers are in flight
		}
		return nil
	}}
	_, err := store(ctx, "x", src, s, 4, func(Event) {})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted pull: %v", err)
	}
	if len(s.committed) != 0 || len(s.images) != 0 {
		t.Errorf("an interrupted pull committed %v", s.committed)
	}
	if s.discarded != int(s.ok.Load()) {
		t.Errorf("%d layers staged before the interrupt, %d discarded", s.ok.Load(), s.discarded)
	}
}

func TestStoreFetchesOnlyMissingLayers(t *testing.T) {
	src := testSource(3)
	ids := chainIDs(t, src)
	s := &fakeSink{have: map[string]bool{ids[0]: true, ids[2]: true}}
	var mu sync.Mutex
	var kinds []EventKind
	_, err := store(context.Background(), "x", src, s, 4, func(e Event) { mu.Lock(); kinds = append(kinds, e.Kind); mu.Unlock() })
	if err != nil {
		t.Fatal(err)
	}
	if len(s.committed) != 1 || s.committed[0] != ids[1] {
		t.Errorf("committed %v, want only the missing middle layer", s.committed)
	}
	if kinds[0] != LayerCached || kinds[1] != LayerCached || kinds[len(kinds)-1] != ImageDone {
		t.Errorf("events %v: cached layers first, image done last", kinds)
	}
	s = &fakeSink{haveImage: true}
	img, err := store(context.Background(), "x", testSource(2), s, 4, func(Event) {})
	if err != nil || !img.Cached || len(s.committed) != 0 || len(s.images) != 1 {
		t.Errorf("a stored image is recorded again, nothing fetched: %+v %v", img, err)
	}
}

func TestStoreRefusesATamperedLayer(t *testing.T) {
	src := testSource(2)
	src.layers[1].open = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("layer X")), nil }
	s := &fakeSink{have: map[string]bool{}}
	_, err := store(context.Background(), "x", src, s, 4, func(Event) {})
	if err == nil || !strings.Contains(err.Error(), "layer 2/2") || !strings.Contains(err.Error(), "does not match its digest") {
		t.Fatalf("tampered layer: %v", err)
	}
	if len(s.committed) != 0 || len(s.images) != 0 || s.discarded != int(s.ok.Load()) {
		t.Errorf("a tampered pull committed %v, recorded %d images, left %d of %d staged layers", s.committed, len(s.images), int(s.ok.Load())-s.discarded, s.ok.Load())
	}
}
