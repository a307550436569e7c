package pull

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A killed pull's half-written blob goes with the next sweep once it is
// older than the grace; a live pull's (fresh) stays.
func TestSweepDropsStalePartialBlobs(t *testing.T) {
	b := &Blobs{Dir: t.TempDir()}
	os.MkdirAll(filepath.Join(b.Dir, "blobs", "sha256"), 0o755)
	stale := filepath.Join(b.Dir, "blobs", ".incoming-1")
	fresh := filepath.Join(b.Dir, "blobs", ".incoming-2")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * sweepGrace)
	os.Chtimes(stale, old, old)
	if err := b.Sweep(nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale partial blob stayed: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a live pull's blob went: %v", err)
	}
}
