package run

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseVolume(t *testing.T) {
	dir := t.TempDir()
	b, err := parseVolume(dir + ":/data:ro")
	if err != nil || b.Source != dir || b.Dest != "/data" || !b.ReadOnly {
		t.Fatalf("parseVolume: %+v, %v", b, err)
	}
	for _, bad := range []string{"", dir, dir + ":data", dir + ":/data:zz", filepath.Join(dir, "absent") + ":/x", "a:b:c:d"} {
		if _, err := parseVolume(bad); err == nil {
			t.Errorf("parseVolume(%q) accepted", bad)
		}
	}
}

func TestMergeEnv(t *testing.T) {
	t.Setenv("DEN_TEST_FROM_HOST", "host")
	os.Unsetenv("DEN_TEST_ABSENT")
	got := mergeEnv([]string{"PATH=/bin", "A=1"}, []string{"A=2", "B=3", "DEN_TEST_FROM_HOST", "DEN_TEST_ABSENT"})
	want := []string{"PATH=/bin", "A=2", "B=3", "DEN_TEST_FROM_HOST=host"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("mergeEnv: %q, want %q", got, want)
	}
}

func TestSetupStatus(t *testing.T) {
	if code, err := setupStatus(nil); code != 0 || err != nil {
		t.Fatalf("no status: %d %v", code, err)
	}
	code, err := setupStatus([]byte("127 starting nosuch: not found"))
	if code != 127 || err == nil || !strings.Contains(err.Error(), "nosuch: not found") {
		t.Fatalf("status: %d %v", code, err)
	}
	if code, _ := setupStatus([]byte("garbage")); code != 125 {
		t.Fatalf("unreadable status gives %d, want 125", code)
	}
}
