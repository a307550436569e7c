package pull

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestParseRefNormalisesLikeDocker(t *testing.T) {
	cases := map[string]string{
		"alpine":                         "docker.io/library/alpine:latest",
		"alpine:3.20":                    "docker.io/library/alpine:3.20",
		"user/app":                       "docker.io/user/app:latest",
		"docker.io/library/alpine":       "docker.io/library/alpine:latest",
		"index.docker.io/library/alpine": "docker.io/library/alpine:latest",
		"localhost:5000/x":               "localhost:5000/x:latest",
		"quay.io/org/img:v1":             "quay.io/org/img:v1",
		"alpine@sha256:" + strings.Repeat("a", 64): "docker.io/library/alpine@sha256:" + strings.Repeat("a", 64),
	}
	for in, want := range cases {
		r, err := ParseRef(in, false)
		if err != nil {
			t.Errorf("ParseRef(%q): %v", in, err)
			continue
		}
		if got := r.String(); got != want {
			t.Errorf("ParseRef(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseRefRejectsMalformed(t *testing.T) {
	for _, in := range []string{"", "UPPER/case", "a b", "x@sha256:short", "a:b:c:d"} {
		if _, err := ParseRef(in, false); err == nil || !strings.Contains(err.Error(), "invalid reference") {
			t.Errorf("ParseRef(%q) = %v, want an invalid reference error", in, err)
		}
	}
}

func TestPlainHTTPOnlyForLocalhostOrWhenAsked(t *testing.T) {
	for in, want := range map[string]string{"localhost:5000/x": "http", "127.0.0.1:5000/x": "http", "registry.example.com/x": "https"} {
		r, _ := ParseRef(in, false)
		if r.Scheme() != want {
			t.Errorf("%s: scheme %s, want %s", in, r.Scheme(), want)
		}
	}
	r, _ := ParseRef("registry.example.com/x", true)
	if r.Scheme() != "http" {
		t.Errorf("--insecure-registry: scheme %s", r.Scheme())
	}
}

func TestChoosePlatform(t *testing.T) {
	im := &v1.IndexManifest{Manifests: []v1.Descriptor{
		{Digest: v1.Hash{Algorithm: "sha256", Hex: "a1"}, Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}},
		{Digest: v1.Hash{Algorithm: "sha256", Hex: "b2"}, Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}},
		{Digest: v1.Hash{Algorithm: "sha256", Hex: "c3"}, Platform: &v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		{Digest: v1.Hash{Algorithm: "sha256", Hex: "d4"}, Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"}},
	}}
	for in, want := range map[string]string{"linux/amd64": "a1", "linux/arm64": "b2", "linux/arm64/v8": "b2", "linux/arm/v7": "c3"} {
		p, err := ParsePlatform(in)
		if err != nil {
			t.Fatal(err)
		}
		d, err := choose(im, p)
		if err != nil || d.Digest.Hex != want {
			t.Errorf("%s: got %v %v, want %s", in, d.Digest, err, want)
		}
	}
	p, _ := ParsePlatform("linux/s390x")
	_, err := choose(im, p)
	if err == nil || !strings.Contains(err.Error(), "linux/amd64, linux/arm64/v8, linux/arm/v7") || strings.Contains(err.Error(), "unknown") {
		t.Errorf("missing platform error should list those available: %v", err)
	}
	for _, bad := range []string{"linux", "linux/", "/amd64", "a/b/c/d"} {
		if _, err := ParsePlatform(bad); err == nil {
			t.Errorf("ParsePlatform(%q) accepted", bad)
		}
	}
	if p, _ := ParsePlatform(""); p != HostPlatform() {
		t.Errorf("empty platform is not the host's: %v", p)
	}
}

func TestChainIDs(t *testing.T) {
	cfg := []byte(`{"rootfs":{"type":"layers","diff_ids":["sha256:` + strings.Repeat("1", 64) + `","sha256:` + strings.Repeat("2", 64) + `"]}}`)
	layers, err := chain(cfg, []blob{{digest: "sha256:x"}, {digest: "sha256:y"}})
	if err != nil {
		t.Fatal(err)
	}
	// The base layer's chain id is its diff id; the next hashes both.
	if layers[0].ChainID != strings.Repeat("1", 64) || layers[1].Parent != layers[0].ChainID || len(layers[1].ChainID) != 64 || layers[1].ChainID == strings.Repeat("2", 64) {
		t.Fatalf("chain ids: %+v", layers)
	}
	if _, err := chain(cfg, []blob{{}}); err == nil {
		t.Fatal("a config/manifest layer count mismatch was accepted")
	}
	if _, err := chain([]byte(`{"rootfs":{"diff_ids":["sha256:bad"]}}`), []blob{{}}); err == nil {
		t.Fatal("a malformed diff id was accepted")
	}
}
