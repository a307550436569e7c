package pull

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func TestParsePlatformAcceptsDockerSpellings(t *testing.T) {
	cases := map[string]Platform{
		"linux/amd64":    {"linux", "amd64", ""},
		"linux/arm64":    {"linux", "arm64", ""},
		"linux/arm64/v8": {"linux", "arm64", "v8"},
		"linux/arm/v7":   {"linux", "arm", "v7"},
		"linux/amd64/":   {"linux", "amd64", ""},
		"linux/s390x":    {"linux", "s390x", ""},
	}
	for in, want := range cases {
		if got, err := ParsePlatform(in); err != nil || got != want {
			t.Errorf("ParsePlatform(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
}

func TestParsePlatformRefusalsSayTheForm(t *testing.T) {
	for _, in := range []string{"linux", "linux/", "/amd64", "a/b/c/d", "linux//v7", "/", "linux/amd64:10.0", "linux/amd64:a:b", ":"} {
		_, err := ParsePlatform(in)
		if err == nil {
			t.Errorf("ParsePlatform(%q) accepted", in)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "want os/arch[/variant], e.g. linux/arm64") || strings.Contains(msg, "\n") {
			t.Errorf("ParsePlatform(%q): %q, want one line with the expected form", in, msg)
		}
	}
}

func TestPlatformStringRoundTrips(t *testing.T) {
	for _, s := range []string{"linux/amd64", "linux/arm/v7", "windows/amd64"} {
		p, err := ParsePlatform(s)
		if err != nil || p.String() != s {
			t.Errorf("%q -> %+v -> %q (%v)", s, p, p.String(), err)
		}
	}
	if h := HostPlatform(); h.OS != "linux" || h.Arch == "" {
		t.Errorf("host platform %+v", h)
	}
}

func TestPlatformMatching(t *testing.T) {
	cases := []struct {
		want Platform
		got  *v1.Platform
		ok   bool
	}{
		{Platform{"linux", "arm64", "v8"}, &v1.Platform{OS: "linux", Architecture: "arm64"}, true}, // v8 is arm64's default
		{Platform{"linux", "arm64", ""}, &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, true},
		{Platform{"linux", "arm", "v6"}, &v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, false},
		{Platform{"linux", "arm", "v7"}, &v1.Platform{OS: "linux", Architecture: "arm"}, false},
		{Platform{"linux", "amd64", ""}, &v1.Platform{OS: "windows", Architecture: "amd64"}, false},
		{Platform{"linux", "amd64", ""}, nil, false},
	}
	for _, c := range cases {
		if got := c.want.matches(c.got); got != c.ok {
			t.Errorf("%v matches %+v = %v, want %v", c.want, c.got, got, c.ok)
		}
	}
}

func TestRefPartsForTagsAndDigests(t *testing.T) {
	dig := "sha256:" + strings.Repeat("e", 64)
	cases := []struct{ in, repo, tag, digest string }{
		{"alpine", "docker.io/library/alpine", "latest", ""},
		{"ghcr.io/o/r:1.2", "ghcr.io/o/r", "1.2", ""},
		{"localhost:5000/a/b/c:t", "localhost:5000/a/b/c", "t", ""},
		{"alpine@" + dig, "docker.io/library/alpine", "", dig},
		{"alpine:3.20@" + dig, "docker.io/library/alpine", "", dig}, // the digest wins, as in docker
	}
	for _, c := range cases {
		r, err := ParseRef(c.in, false)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if r.Repository() != c.repo || r.Tag() != c.tag || r.Digest() != c.digest {
			t.Errorf("%s: repo %q tag %q digest %q; want %q %q %q", c.in, r.Repository(), r.Tag(), r.Digest(), c.repo, c.tag, c.digest)
		}
	}
}

func TestParseRefRefusesBadReferencesInOneLine(t *testing.T) {
	for _, in := range []string{
		" alpine", "alpine ", "al\tpine", "alpine:", "alpine@", ":tag",
		"alpine:" + strings.Repeat("t", 129),
		strings.Repeat("0", 248), // found by FuzzParseRef: 256 characters once "library/" is added
		"quay.io/" + strings.Repeat("a", 256), "alpine@sha256:" + strings.Repeat("g", 64), "alpine@md5:abc", "a/B",
	} {
		_, err := ParseRef(in, false)
		if err == nil {
			t.Errorf("ParseRef(%q) accepted", in)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "invalid reference") || strings.Contains(msg, "\n") {
			t.Errorf("ParseRef(%q): %q, want one line starting 'invalid reference'", in, msg)
		}
		// den run checks the name before it starts (CheckRef), without
		// registries.conf, whose aliases may name "alpine" in ParseRef's.
		if cerr := CheckRef(in); cerr == nil || !strings.HasPrefix(cerr.Error(), "invalid reference") || strings.Contains(cerr.Error(), "\n") {
			t.Errorf("CheckRef(%q) = %v, want one line starting 'invalid reference'", in, cerr)
		}
	}
	for _, in := range []string{"alpine", "ghcr.io/o/r:1.2", "localhost:5000/a/b/c:t", "alpine@sha256:" + strings.Repeat("e", 64)} {
		if err := CheckRef(in); err != nil {
			t.Errorf("CheckRef(%q): %v", in, err)
		}
	}
}

func TestNormalizeKeepsWhatIsNotAReference(t *testing.T) {
	id := strings.Repeat("a", 64)
	for in, want := range map[string]string{
		"alpine":    "docker.io/library/alpine:latest",
		"Not A Ref": "Not A Ref",
		id[:12]:     "docker.io/library/" + id[:12] + ":latest", // a short id also reads as a name; findImage tries the name first
		"":          "",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestVerifierWithoutADigestOrSize(t *testing.T) {
	data := "anything at all"
	v := newVerifier(strings.NewReader(data), "", -1)
	if b, err := io.ReadAll(v); err != nil || string(b) != data || v.settle() != nil {
		t.Errorf("an unverifiable blob must pass through: %q %v", b, err)
	}
}

func TestVerifierTranslatesClientErrors(t *testing.T) {
	cases := map[string]struct {
		err  error
		want string
	}{
		"ggcr digest check": {errors.New("error verifying sha256 checksum after reading 10 bytes; got x, want y"), "does not match its digest"},
		"short read":        {io.ErrUnexpectedEOF, "download ended after 0 of 100 bytes (truncated)"},
		"ggcr size check":   {errors.New("error verifying size; got 3, want 100"), "truncated"},
	}
	for name, c := range cases {
		v := newVerifier(io.MultiReader(errReader{c.err}), "", 100)
		_, err := io.ReadAll(v)
		if err == nil || !strings.Contains(err.Error(), c.want) || v.settle() == nil {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	other := errors.New("connection reset by peer")
	if _, err := io.ReadAll(newVerifier(errReader{other}, "", 100)); !errors.Is(err, other) {
		t.Errorf("a network error must stay itself: %v", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestExplainRegistryErrors(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{&transport.Error{StatusCode: http.StatusUnauthorized}, "access denied (HTTP 401)"},
		{&transport.Error{StatusCode: http.StatusForbidden}, "log in with 'den login img'"},
		{&transport.Error{StatusCode: http.StatusNotFound}, "not found (HTTP 404): check the name and tag"},
		{&transport.Error{StatusCode: http.StatusTooManyRequests}, "rate limiting (HTTP 429); wait and retry"},
		{&transport.Error{StatusCode: 503}, "the registry failed (HTTP 503); retry later"},
		{errors.New("http: server gave HTTP response to HTTPS client"), "--insecure-registry"},
		{errors.New("dial tcp: lookup nowhere: no such host"), "cannot reach the registry"},
		{errors.New("line one\nline two"), "img: line one line two"},
	}
	for _, c := range cases {
		got := explain("img", c.err).Error()
		if !strings.HasPrefix(got, "img: ") || !strings.Contains(got, c.want) || strings.Contains(got, "\n") {
			t.Errorf("explain(%v) = %q, want one line with %q", c.err, got, c.want)
		}
	}
}

func TestShortDigest(t *testing.T) {
	full := "sha256:0123456789abcdef" + strings.Repeat("0", 48)
	for in, want := range map[string]string{full: "0123456789ab", "sha256:abc": "sha256:abc", "": "", "md5:0123456789abcdef": "md5:0123456789abcdef"} {
		if got := short(in); got != want {
			t.Errorf("short(%q) = %q, want %q", in, got, want)
		}
	}
}
