package pull

import (
	"fmt"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Platform is os/arch[/variant].
type Platform struct {
	OS, Arch, Variant string
}

func (p Platform) String() string {
	s := p.OS + "/" + p.Arch
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// HostPlatform is the platform den runs on.
func HostPlatform() Platform {
	p := Platform{OS: "linux", Arch: runtime.GOARCH}
	if p.Arch == "arm" {
		p.Variant = "v7"
	}
	return p
}

// ParsePlatform parses "os/arch[/variant]"; "" means the host.
func ParsePlatform(s string) (Platform, error) {
	if s == "" {
		return HostPlatform(), nil
	}
	p, err := v1.ParsePlatform(s)
	// ggcr also takes "os" alone, an empty arch and an ":osversion" suffix
	// (it drops any text after a second colon); den selects by os, arch and
	// variant only, so those are refused rather than half-honoured.
	if err != nil || p.OS == "" || p.Architecture == "" || strings.Contains(s, ":") {
		return Platform{}, fmt.Errorf("invalid platform %q: want os/arch[/variant], e.g. linux/arm64", s)
	}
	return Platform{OS: p.OS, Arch: p.Architecture, Variant: p.Variant}, nil
}

// matches reports whether an index entry's platform satisfies want. An
// unset variant matches any, and arm64's v8 is its default.
func (want Platform) matches(got *v1.Platform) bool {
	if got == nil || got.OS != want.OS || got.Architecture != want.Arch {
		return false
	}
	if want.Variant == "" {
		return true
	}
	gv := got.Variant
	if gv == "" && want.Arch == "arm64" {
		gv = "v8"
	}
	return gv == want.Variant
}

// choose picks the manifest for want, or says which platforms exist.
func choose(im *v1.IndexManifest, want Platform) (v1.Descriptor, error) {
	var avail []string
	for _, d := range im.Manifests {
		if want.matches(d.Platform) {
			return d, nil
		}
		if d.Platform != nil && d.Platform.OS != "unknown" {
			avail = append(avail, Platform{d.Platform.OS, d.Platform.Architecture, d.Platform.Variant}.String())
		}
	}
	return v1.Descriptor{}, fmt.Errorf("no image for platform %s (available: %s); choose one with --platform", want, strings.Join(avail, ", "))
}
