package pull

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRegistriesMirrorsAliasesBlocked(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "registries.conf")
	os.WriteFile(main, []byte(`
[[registry]]
prefix = "docker.io"
location = "docker.io"
[[registry.mirror]]
location = "mirror.example:5000"

[[registry]]
prefix = "quay.io/private"
location = "quay.io/private"
blocked = true
`), 0o644)
	os.Mkdir(main+".d", 0o755)
	os.WriteFile(filepath.Join(main+".d", "a.conf"), []byte(`[aliases]
"app" = "registry.example.com/team/app"
`), 0o644)
	c, err := LoadRegistries([]string{main, filepath.Join(main+".d", "a.conf")})
	if err != nil {
		t.Fatal(err)
	}
	UseRegistries(c)
	defer UseRegistries(nil)
	r, err := ParseRef("alpine:3", false)
	if err != nil {
		t.Fatal(err)
	}
	eps, err := c.endpoints(r, false)
	if err != nil || len(eps) != 2 || eps[0].Ref.String() != "mirror.example:5000/library/alpine:3" || !eps[0].Mirror || eps[1].Ref.String() != "docker.io/library/alpine:3" {
		t.Fatalf("endpoints: %+v, %v", eps, err)
	}
	if r, _ := ParseRef("app:1", false); r.String() != "registry.example.com/team/app:1" {
		t.Fatalf("alias: %s", r)
	}
	if r, _ := ParseRef("busybox", false); r.String() != "docker.io/library/busybox:latest" {
		t.Fatalf("short name without alias: %s", r)
	}
	b, _ := ParseRef("quay.io/private/x:1", false)
	if _, err := c.endpoints(b, false); err == nil || !strings.Contains(err.Error(), "blocked") {
		t.Fatalf("blocked: %v", err)
	}
	if ok, _ := ParseRef("quay.io/privateer/x", false); ok.String() == "" {
		t.Fatal("parse")
	}
	os.WriteFile(main, []byte("[[registry]\n"), 0o644)
	if _, err := LoadRegistries([]string{main}); err == nil || !strings.Contains(err.Error(), main) {
		t.Fatalf("broken file: %v", err)
	}
}

func TestImportTarClimbs(t *testing.T) {
	for n, want := range map[string]bool{"../x": true, "a/../../x": true, "/../x": true, "a/b": false, "./a": false, "a/../b": false, "..": true} {
		if climbs(n) != want {
			t.Errorf("climbs(%q) = %v", n, !want)
		}
	}
}
