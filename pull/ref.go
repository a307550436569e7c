// Package pull fetches images from OCI and Docker v2 registries and image
// archives, and hands their layers, digest-verified, to a Sink.
package pull

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Docker Hub's canonical host in go-containerregistry, and the one users see.
const (
	hubRegistry = "index.docker.io"
	hubName     = "docker.io"
)

// maxRepository is the longest repository path registries accept.
const maxRepository = 255

// Ref is a parsed image reference.
type Ref struct {
	ref name.Reference
}

// ParseRef parses a reference the way docker does: "alpine" is
// docker.io/library/alpine:latest, "user/app" docker.io/user/app:latest;
// "host:port/x", tags and "@sha256:" digests are kept. insecure allows plain
// HTTP to any registry (localhost and 127.0.0.1 always may use it).
func ParseRef(s string, insecure bool) (Ref, error) {
	if err := checkText(s); err != nil {
		return Ref{}, err
	}
	c, err := config()
	if err != nil {
		return Ref{}, err
	}
	s = c.alias(s)
	var opts []name.Option
	if insecure || c.insecure(s) {
		opts = append(opts, name.Insecure)
	}
	return parse(s, opts...)
}

// CheckRef says whether ParseRef would take s as a name, without reading
// registries.conf (a third of a millisecond of every den run): an alias's
// name is a short name, which parses as one.
func CheckRef(s string) error {
	if err := checkText(s); err != nil {
		return err
	}
	_, err := parse(s)
	return err
}

func checkText(s string) error {
	if s == "" {
		return fmt.Errorf("invalid reference: empty image name")
	}
	if s != strings.TrimSpace(s) || strings.ContainsAny(s, " \t\n") {
		return fmt.Errorf("invalid reference %q: contains white space", s)
	}
	return nil
}

func parse(s string, opts ...name.Option) (Ref, error) {
	r, err := name.ParseReference(s, opts...)
	if err != nil {
		return Ref{}, fmt.Errorf("invalid reference %q: %v", s, err)
	}
	// ggcr checks the length before adding Docker Hub's "library/"; the
	// full name must parse again, as den stores and looks images up by it.
	if repo := r.Context().RepositoryStr(); len(repo) > maxRepository {
		return Ref{}, fmt.Errorf("invalid reference %q: the repository name is %d characters long, registries accept at most %d", s, len(repo), maxRepository)
	}
	return Ref{ref: r}, nil
}

// String is the full normalised name, e.g. docker.io/library/alpine:latest.
func (r Ref) String() string {
	return r.Repository() + sep(r.ref) + r.ref.Identifier()
}

// Repository is the normalised repository without tag or digest.
func (r Ref) Repository() string {
	repo := r.ref.Context()
	host := repo.RegistryStr()
	if host == hubRegistry {
		host = hubName
	}
	return host + "/" + repo.RepositoryStr()
}

// Tag is the tag, or "" for a digest reference.
func (r Ref) Tag() string {
	if t, ok := r.ref.(name.Tag); ok {
		return t.TagStr()
	}
	return ""
}

// Digest is the digest of a digest reference, else "".
func (r Ref) Digest() string {
	if d, ok := r.ref.(name.Digest); ok {
		return d.DigestStr()
	}
	return ""
}

// Scheme is "http" or "https", as the registry client will use it.
func (r Ref) Scheme() string { return r.ref.Context().Scheme() }

func sep(r name.Reference) string {
	if _, ok := r.(name.Digest); ok {
		return "@"
	}
	return ":"
}

// Normalize returns the full name for a reference, or the input unchanged
// when it does not parse (an image id, say).
func Normalize(s string) string {
	r, err := ParseRef(s, false)
	if err != nil {
		return s
	}
	return r.String()
}

// rebase replaces the prefix of the reference's repository with loc
// (registries.conf's location and mirrors).
func (r Ref) rebase(prefix, loc string, insecure bool) (Ref, error) {
	full := r.Repository()
	rest := strings.TrimPrefix(full, strings.TrimSuffix(prefix, "/"))
	if strings.HasPrefix(prefix, "*.") {
		_, rest, _ = strings.Cut(full, "/")
		rest = "/" + rest
	}
	s := strings.TrimSuffix(loc, "/") + rest + sep(r.ref) + r.ref.Identifier()
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	n, err := name.ParseReference(s, opts...)
	if err != nil {
		return Ref{}, err
	}
	return Ref{ref: n}, nil
}
