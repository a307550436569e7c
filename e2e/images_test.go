package e2e

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// gatedRegistry is ggcr's registry behind HTTP basic auth (user "den",
// password "s3cret"), or one that refuses every upload.
func gatedRegistry(t *testing.T, refuseWrites bool) string {
	t.Helper()
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuseWrites && r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`, http.StatusForbidden)
			return
		}
		if u, p, ok := r.BasicAuth(); !refuseWrites && (!ok || u != "den" || p != "s3cret") {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func remoteDigest(t *testing.T, ref string, auth authn.Authenticator) string {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Head(r, remote.WithAuth(auth))
	if err != nil {
		t.Fatalf("HEAD %s: %v", ref, err)
	}
	return d.Digest.String()
}

func TestLoginPushLogout(t *testing.T) {
	e, src := pulled(t)
	host := gatedRegistry(t, false)
	cfg := []string{"DOCKER_CONFIG=" + filepath.Join(e.dir, "docker")}
	dst := host + "/team/busybox:v1"
	e.ok("tag", src, dst)

	// Without credentials: one line naming den's own command.
	r := e.denWith(cfg, nil, "push", "-q", dst)
	oneLineError(t, r, "HTTP 401", "den login "+host)

	r = e.denWith(cfg, strings.NewReader("wrong\n"), "login", "-u", "den", "--password-stdin", host)
	oneLineError(t, r, "den login "+host, "refused the user name or password")
	if _, err := os.Stat(filepath.Join(e.dir, "docker", "config.json")); err == nil {
		t.Fatal("a failed login wrote config.json")
	}
	r = e.denWith(cfg, strings.NewReader("s3cret\n"), "login", "-u", "den", "--password-stdin", host)
	if r.code != 0 || !strings.Contains(r.stdout, "Login Succeeded") {
		t.Fatalf("login: %s", r)
	}
	fi, err := os.Stat(filepath.Join(e.dir, "docker", "config.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config.json: %v, mode %v; want 0600", err, fi)
	}
	if b, _ := os.ReadFile(filepath.Join(e.dir, "docker", "config.json")); !bytes.Contains(b, []byte(host)) {
		t.Fatalf("config.json does not name %s: %s", host, b)
	}

	r = e.denWith(cfg, nil, "push", dst)
	if r.code != 0 || !strings.Contains(r.stdout, "Pushed") || !strings.Contains(r.stdout, "v1: digest: sha256:") {
		t.Fatalf("push: %s", r)
	}
	auth := &authn.Basic{Username: "den", Password: "s3cret"}
	if got, want := remoteDigest(t, dst, auth), remoteDigest(t, src, authn.Anonymous); got != want {
		t.Fatalf("pushed manifest %s, pulled %s: not byte-identical", got, want)
	}
	// Again: every layer is there already.
	r = e.denWith(cfg, nil, "push", dst)
	if r.code != 0 || !strings.Contains(r.stdout, "Layer already exists") || strings.Contains(r.stdout, "Pushed") {
		t.Fatalf("second push: %s", r)
	}
	// --all-tags sends each tag of the repository.
	e.ok("tag", src, host+"/team/busybox:v2")
	r = e.denWith(cfg, nil, "push", "--all-tags", host+"/team/busybox")
	if r.code != 0 || !strings.Contains(r.stdout, "v1: digest") || !strings.Contains(r.stdout, "v2: digest") {
		t.Fatalf("push --all-tags: %s", r)
	}
	remoteDigest(t, host+"/team/busybox:v2", auth)

	r = e.denWith(cfg, nil, "logout", host)
	if r.code != 0 || !strings.Contains(r.stdout, "Removing login credentials for "+host) {
		t.Fatalf("logout: %s", r)
	}
	oneLineError(t, e.denWith(cfg, nil, "push", "-q", dst), "den login")
}

func TestLoginPasswordOnCommandLineWarns(t *testing.T) {
	e := newEnv(t)
	host := gatedRegistry(t, false)
	cfg := []string{"DOCKER_CONFIG=" + filepath.Join(e.dir, "docker")}
	r := e.denWith(cfg, nil, "login", "-u", "den", "-p", "s3cret", host)
	if r.code != 0 || !strings.Contains(r.stderr, "use --password-stdin") {
		t.Fatalf("login -p: %s", r)
	}
	if r := e.denWith(cfg, nil, "login", "-u", "den", "-p", "nope", host); r.code == 0 || !strings.Contains(r.stderr, "refused the user name or password") {
		t.Fatalf("login with a wrong password: %s", r)
	}
	if r := e.denWith(cfg, strings.NewReader("x"), "login", "--password-stdin", host); r.code == 0 || !strings.HasPrefix(r.stderr, "den: --password-stdin needs --username") {
		t.Fatalf("--password-stdin without -u: %s", r)
	}
}

func TestPushRefused(t *testing.T) {
	e, src := pulled(t)
	host := gatedRegistry(t, true)
	dst := host + "/ro/busybox:1"
	e.ok("tag", src, dst)
	oneLineError(t, e.den("push", "-q", dst), "push refused (HTTP 403)", "den login "+host)
	oneLineError(t, e.den("push", host+"/ro/none:1"), "no such image")
	oneLineError(t, e.den("push", "--all-tags", dst), "--all-tags takes a repository")
	oneLineError(t, e.den("tag", "no-such-image", "x:1"), "no such image")
}

func TestSaveReadByGGCRAndLoadFromStdin(t *testing.T) {
	e, src := pulled(t)
	out := filepath.Join(e.dir, "bb.tar")
	e.ok("save", "-o", out, src)
	ref, _ := name.ParseReference(src)
	img, err := tarball.ImageFromPath(out, nil)
	if err != nil {
		t.Fatalf("ggcr cannot read den's archive: %v", err)
	}
	// ggcr checks each layer against the config's diff ids as it reads.
	layers, _ := img.Layers()
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err == nil {
			_, err = io.Copy(io.Discard, rc)
		}
		if err != nil {
			t.Fatalf("layer of the saved image: %v", err)
		}
	}
	cfgName, _ := img.ConfigName()
	orig, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := orig.ConfigName(); cfgName != want {
		t.Fatalf("saved image id %s, pulled %s", cfgName, want)
	}
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(out) })
	if err != nil || len(m) != 1 || len(m[0].RepoTags) != 1 || !strings.HasSuffix(m[0].RepoTags[0], "/test/busybox:latest") {
		t.Fatalf("manifest.json: %+v, %v", m, err)
	}

	// den save | den load into another store, without -i.
	f, _ := os.Open(out)
	defer f.Close()
	e2 := newEnv(t)
	r := e2.denIn(f, "load")
	if r.code != 0 || r.stdout != "Loaded image: "+src+"\n" { // docker's line, which scripts cut
		t.Fatalf("load from stdin: %s", r)
	}
	if r := e2.ok("run", "--rm", src, "echo", "from-stdin"); r.stdout != "from-stdin\n" {
		t.Fatalf("run of the loaded image: %s", r)
	}
	oneLineError(t, e2.denIn(strings.NewReader(""), "load"), "stdin is empty")

	oci := filepath.Join(e.dir, "bb-oci.tar")
	e.ok("save", "--format", "oci-archive", "-o", oci, src)
	e3 := newEnv(t)
	e3.ok("load", "-i", oci)
	if r := e3.ok("run", "--rm", src, "echo", "oci"); r.stdout != "oci\n" {
		t.Fatalf("run of the oci-archive image: %s", r)
	}
	oneLineError(t, e.den("save", "--format", "zip", "-o", oci, src), "unknown --format")
	oneLineError(t, e.den("save", "-o", oci, "no-such-image"), "no such image")
}

func TestRegistriesConfMirrorsAliasesBlocked(t *testing.T) {
	reg, ref := busybox(t)
	mirror, _ := busybox(t)
	e := newEnv(t)
	conf := filepath.Join(e.dir, "config")
	os.MkdirAll(filepath.Join(conf, "containers", "registries.conf.d"), 0o755)
	// The first mirror is down (nothing listens on port 1), the second
	// serves; the registry itself fails with 500.
	os.WriteFile(filepath.Join(conf, "containers", "registries.conf"), []byte(`
[[registry]]
location = "`+reg.host+`"
[[registry.mirror]]
location = "127.0.0.1:1"
[[registry.mirror]]
location = "`+mirror.host+`"

[[registry]]
location = "blocked.example.com"
blocked = true
`), 0o644)
	os.WriteFile(filepath.Join(conf, "containers", "registries.conf.d", "10-alias.conf"), []byte(`
[aliases]
"bb" = "`+reg.host+`/test/busybox"
`), 0o644)
	env := []string{"XDG_CONFIG_HOME=" + conf}
	reg.setFault(fault500)
	r := e.denWith(env, nil, "pull", "-q", ref)
	if r.code != 0 || !strings.Contains(r.stderr, "mirror 127.0.0.1:1 failed") {
		t.Fatalf("pull through the second mirror: %s", r)
	}
	if mirror.blobGETs.Load() == 0 || reg.blobGETs.Load() != 0 {
		t.Fatalf("blobs came from the registry (%d), not the mirror (%d)", reg.blobGETs.Load(), mirror.blobGETs.Load())
	}
	// Both mirrors down: the registry itself answers.
	reg.setFault(faultNone)
	mirror.srv.Close()
	e2 := newEnv(t)
	r = e2.denWith(env, nil, "pull", "-q", ref)
	if r.code != 0 || reg.blobGETs.Load() == 0 {
		t.Fatalf("fallback to the registry: %s", r)
	}
	// The alias names the image by its short name, in pull and run.
	r = e2.denWith(env, nil, "run", "--rm", "bb", "echo", "aliased")
	if r.code != 0 || r.stdout != "aliased\n" {
		t.Fatalf("run of an alias: %s", r)
	}
	oneLineError(t, e.denWith(env, nil, "pull", "blocked.example.com/x"), "blocked", "registries.conf")
	os.WriteFile(filepath.Join(conf, "containers", "registries.conf"), []byte("[[registry]\n"), 0o644)
	oneLineError(t, e.denWith(env, nil, "pull", ref), "registries.conf", "fix or remove")
}

func TestTagAndRmiUntags(t *testing.T) {
	e, src := pulled(t)
	e.ok("tag", src, "example.com/other:1")
	r := e.ok("images", "--format", "json")
	if !strings.Contains(r.stdout, "example.com/other") {
		t.Fatalf("tag not listed: %s", r.stdout)
	}
	if r := e.ok("rmi", "example.com/other:1"); !strings.Contains(r.stdout, "Untagged: example.com/other:1") || strings.Contains(r.stdout, "Deleted") {
		t.Fatalf("rmi of one of two tags: %s", r)
	}
	e.ok("run", "--rm", src, "true")
	oneLineError(t, e.den("tag", src, "bad name"), "white space")
	oneLineError(t, e.den("tag", src, "x@sha256:"+strings.Repeat("a", 64)), "digest")
}
