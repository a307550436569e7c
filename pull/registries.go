package pull

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	"github.com/google/go-containerregistry/pkg/name"
)

// Registries is containers-registries.conf(5), the part den honours:
// [[registry]] entries (location, insecure, blocked, mirrors) and
// [aliases]. unqualified-search-registries is ignored: a short name means
// docker.io/library/..., as in docker, unless an alias says otherwise.
type Registries struct {
	Registry []Registry        `toml:"registry"`
	Aliases  map[string]string `toml:"aliases"`
	Files    []string          `toml:"-"` // what was read, for messages
}

// Registry is one [[registry]] table.
type Registry struct {
	Prefix             string   `toml:"prefix"`
	Location           string   `toml:"location"`
	Insecure           bool     `toml:"insecure"`
	Blocked            bool     `toml:"blocked"`
	MirrorByDigestOnly bool     `toml:"mirror-by-digest-only"`
	Mirrors            []Mirror `toml:"mirror"`
}

// Mirror is one [[registry.mirror]] table.
type Mirror struct {
	Location string `toml:"location"`
	Insecure bool   `toml:"insecure"`
}

// RegistriesFiles are the files read, in order: the user's registries.conf
// ($XDG_CONFIG_HOME/containers, default ~/.config/containers) if it
// exists, else /etc/containers/registries.conf; then the *.conf files of
// the registries.conf.d directory beside it, by name.
func RegistriesFiles() []string {
	cfg := os.Getenv("XDG_CONFIG_HOME")
	if cfg == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cfg = filepath.Join(home, ".config")
		}
	}
	main := filepath.Join(cfg, "containers", "registries.conf")
	if _, err := os.Stat(main); err != nil {
		main = "/etc/containers/registries.conf"
	}
	files := []string{}
	if _, err := os.Stat(main); err == nil {
		files = append(files, main)
	}
	drop, _ := filepath.Glob(main + ".d/*.conf")
	sort.Strings(drop)
	return append(files, drop...)
}

// LoadRegistries reads the files; a later file's [[registry]] replaces an
// earlier one with the same prefix, and its aliases add to or replace
// the earlier ones, as in containers/image.
func LoadRegistries(files []string) (*Registries, error) {
	out := &Registries{Aliases: map[string]string{}}
	for _, f := range files {
		var r Registries
		// Keys den does not know (short-name-mode, credential-helpers...)
		// belong to other tools reading the same files.
		if _, err := toml.DecodeFile(f, &r); err != nil {
			return nil, fmt.Errorf("reading %s: %s; fix or remove the file (containers-registries.conf(5))", f, oneLine(err.Error()))
		}
		out.Files = append(out.Files, f)
		for _, reg := range r.Registry {
			if err := reg.check(f); err != nil {
				return nil, err
			}
			out.Registry = slices.DeleteFunc(out.Registry, func(o Registry) bool { return o.prefix() == reg.prefix() })
			out.Registry = append(out.Registry, reg)
		}
		for k, v := range r.Aliases {
			out.Aliases[k] = v
		}
	}
	return out, nil
}

func (r *Registry) prefix() string {
	if r.Prefix != "" {
		return r.Prefix
	}
	return r.Location
}

func (r *Registry) check(file string) error {
	if r.prefix() == "" {
		return fmt.Errorf("%s: a [[registry]] has neither prefix nor location; give it one (containers-registries.conf(5))", file)
	}
	for _, m := range r.Mirrors {
		if m.Location == "" {
			return fmt.Errorf("%s: a mirror of %s has no location; give it one", file, r.prefix())
		}
	}
	return nil
}

// find is the entry whose prefix matches repo ("host/path") the longest;
// "*.example.com" matches any subdomain's registry.
func (c *Registries) find(repo string) *Registry {
	if c == nil {
		return nil
	}
	var best *Registry
	bestLen := -1
	for i := range c.Registry {
		r := &c.Registry[i]
		p := r.prefix()
		n := len(p)
		if strings.HasPrefix(p, "*.") {
			host, _, _ := strings.Cut(repo, "/")
			if !strings.HasSuffix(host, p[1:]) {
				continue
			}
		} else if repo != p && !strings.HasPrefix(repo, strings.TrimSuffix(p, "/")+"/") {
			continue
		}
		if n > bestLen {
			best, bestLen = r, n
		}
	}
	return best
}

// alias expands a short name ("app", "app:1", "app@sha256:...") by the
// [aliases] table; other names come back unchanged.
func (c *Registries) alias(s string) string {
	if c == nil || len(c.Aliases) == 0 {
		return s
	}
	nameEnd := len(s)
	if i := strings.IndexByte(s, '@'); i >= 0 {
		nameEnd = i
	}
	if i := strings.LastIndexByte(s[:nameEnd], ':'); i > strings.LastIndexByte(s[:nameEnd], '/') {
		nameEnd = i
	}
	short := s[:nameEnd]
	if first, _, ok := strings.Cut(short, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return s // already names a registry
	}
	if v, ok := c.Aliases[short]; ok {
		return v + s[nameEnd:]
	}
	return s
}

var (
	confMu  sync.Mutex
	conf    *Registries
	confErr error
	confSet bool
)

// UseRegistries replaces the configuration read from the files (tests,
// and den's --registries-conf).
func UseRegistries(c *Registries) {
	confMu.Lock()
	defer confMu.Unlock()
	conf, confErr, confSet = c, nil, true
}

// config is the configuration, read from RegistriesFiles once.
func config() (*Registries, error) {
	confMu.Lock()
	defer confMu.Unlock()
	if !confSet {
		conf, confErr = LoadRegistries(RegistriesFiles())
		confSet = true
	}
	return conf, confErr
}

// Endpoint is where to fetch or push a repository: the registry's own
// location, or one of its mirrors.
type Endpoint struct {
	Ref    Ref
	Mirror bool
}

// endpoints lists where to pull ref from: its mirrors in order (for tag
// references only unless mirror-by-digest-only is off), then the
// registry's location. A blocked registry is an error.
func (c *Registries) endpoints(ref Ref, insecure bool) ([]Endpoint, error) {
	repo := ref.Repository()
	reg := c.find(repo)
	if reg == nil {
		return []Endpoint{{Ref: ref}}, nil
	}
	if reg.Blocked {
		return nil, fmt.Errorf("%s: the registry is blocked by %s; remove blocked = true there to use it", ref, strings.Join(c.Files, ", "))
	}
	var out []Endpoint
	if ref.Digest() != "" || !reg.MirrorByDigestOnly {
		for _, m := range reg.Mirrors {
			if r, err := ref.rebase(reg.prefix(), m.Location, insecure || m.Insecure); err == nil {
				out = append(out, Endpoint{Ref: r, Mirror: true})
			}
		}
	}
	loc := reg.Location
	if loc == "" || strings.HasPrefix(reg.prefix(), "*.") {
		loc = reg.prefix()
	}
	r, err := ref.rebase(reg.prefix(), loc, insecure || reg.Insecure)
	if err != nil {
		return nil, fmt.Errorf("%s: the location %q in %s does not make a valid reference: %v", ref, loc, strings.Join(c.Files, ", "), err)
	}
	return append(out, Endpoint{Ref: r}), nil
}

// pushTarget is where ref is pushed: the registry's location, never a
// mirror.
func (c *Registries) pushTarget(ref Ref, insecure bool) (Ref, error) {
	eps, err := c.endpoints(ref, insecure)
	if err != nil {
		return Ref{}, err
	}
	return eps[len(eps)-1].Ref, nil
}

// insecure reports whether registries.conf allows plain HTTP for the
// registry of the (possibly short) name s.
func (c *Registries) insecure(s string) bool {
	if c == nil || len(c.Registry) == 0 {
		return false
	}
	n, err := name.ParseReference(s)
	if err != nil {
		return false
	}
	reg := c.find(Ref{ref: n}.Repository())
	return reg != nil && reg.Insecure
}
