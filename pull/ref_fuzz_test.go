package pull

import (
	"strings"
	"testing"
)

// FuzzParseRef: ParseRef never panics, and a reference it accepts has one
// canonical name that parses back to itself, names a registry host and a
// repository, and carries exactly one of a tag or a digest.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{
		"alpine", "alpine:3.20", "user/app", "docker.io/library/alpine", "index.docker.io/library/alpine",
		"localhost:5000/x", "127.0.0.1:5000/a/b:v1", "quay.io/org/img:v1", "[::1]:5000/x:y",
		"alpine@sha256:" + strings.Repeat("a", 64), "alpine:3@sha256:" + strings.Repeat("b", 64),
		"", "UPPER/case", "a b", "x@sha256:short", "a:b:c:d", "docker.io/alpine", "library/alpine",
	} {
		f.Add(s, false)
	}
	f.Add("registry.example.com/x", true)
	f.Fuzz(func(t *testing.T, s string, insecure bool) {
		r, err := ParseRef(s, insecure)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("ParseRef(%q): error is not one line: %q", s, err)
			}
			return
		}
		canon := r.String()
		again, err := ParseRef(canon, insecure)
		if err != nil {
			t.Fatalf("ParseRef(%q) = %q, which does not parse: %v", s, canon, err)
		}
		if again.String() != canon {
			t.Fatalf("ParseRef(%q) = %q, but that parses as %q", s, canon, again.String())
		}
		if Normalize(canon) != canon || Normalize(s) != canon {
			t.Fatalf("Normalize disagrees with ParseRef for %q: %q", s, canon)
		}
		if (r.Tag() == "") == (r.Digest() == "") {
			t.Fatalf("ParseRef(%q): tag %q and digest %q, want exactly one", s, r.Tag(), r.Digest())
		}
		if host, repo, ok := strings.Cut(r.Repository(), "/"); !ok || host == "" || repo == "" || !strings.HasPrefix(canon, r.Repository()) {
			t.Fatalf("ParseRef(%q): repository %q does not name a host and a path", s, r.Repository())
		}
	})
}
