package run

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A damaged volume record is one line naming the volume, the file and the
// fix, and its data stays where it was.
func TestDamagedVolumeRecord(t *testing.T) {
	c := &child{g: &Global{Root: t.TempDir()}}
	dir := filepath.Join(c.volumesDir(), "data")
	os.MkdirAll(filepath.Join(dir, "_data"), 0o755)
	os.WriteFile(filepath.Join(dir, "_data", "keep"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "volume.json"), []byte(`{"Name": "da`), 0o644)
	_, err := c.readVolume("data")
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "volume data") ||
		!strings.Contains(err.Error(), filepath.Join(dir, "volume.json")) || !strings.Contains(err.Error(), "fix the file") {
		t.Fatalf("damaged record: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "_data", "keep")); err != nil {
		t.Fatalf("the volume's data went: %v", err)
	}
	if _, err := c.readVolume("nothere"); err == nil || err.Error() != "no such volume: nothere" {
		t.Fatalf("missing volume: %v", err)
	}
}
