package e2e

import (
	"archive/tar"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/denproject/den/internal/testimage"
)

// imageRows are den images --format json's objects, with docker's keys
// (Repository, Tag, ID...).
func imageRows(t *testing.T, e *env) []map[string]any {
	t.Helper()
	r := e.ok("images", "--format", "json")
	return jsonLines(t, r.stdout)
}

func TestPullListsImage(t *testing.T) {
	_, ref := busybox(t)
	e := newEnv(t)
	r := e.ok("pull", ref)
	if !strings.Contains(r.stdout, "sha256:") {
		t.Fatalf("pull printed no digest: %s", r)
	}
	rows := imageRows(t, e)
	if len(rows) != 1 || rows[0]["Repository"] != strings.TrimSuffix(ref, ":latest") || rows[0]["Tag"] != "latest" {
		t.Fatalf("den images: %v", rows)
	}
	table := e.ok("images").stdout
	if !strings.Contains(table, "REPOSITORY") || !strings.Contains(table, "test/busybox") {
		t.Fatalf("den images table: %s", table)
	}
	q := e.ok("pull", "-q", ref)
	if q.stdout != ref+"\n" || q.stderr != "" {
		t.Fatalf("pull -q should print only the reference, as docker: %s", q)
	}
	if r := e.ok("run", "--rm", strings.TrimSpace(q.stdout), "echo", "ran"); r.stdout != "ran\n" {
		t.Fatalf("run of what pull -q printed: %s", r)
	}
}

func allInLayers(e *env, rel string) []string {
	dirs, _ := filepath.Glob(filepath.Join(e.store(), "overlay", "*", "diff"))
	var out []string
	for _, d := range dirs {
		if _, err := os.Lstat(filepath.Join(d, rel)); err == nil {
			out = append(out, filepath.Join(d, rel))
		}
	}
	return out
}

// findInLayers returns the host path of a file in one of the store's
// unpacked layers.
func findInLayers(t *testing.T, e *env, rel string) string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(e.store(), "overlay", "*", "diff"))
	for _, d := range dirs {
		p := filepath.Join(d, rel)
		if _, err := os.Lstat(p); err == nil {
			return p
		}
	}
	t.Fatalf("%s is in no layer under %s", rel, e.store())
	return ""
}

func TestPullMultiLayerTree(t *testing.T) {
	base := subuidBase(t)
	_, multi := images(t)
	reg := newRegistry(t)
	ref := reg.push(t, "test/multi:v1", multi)
	e := newEnv(t)
	e.ok("pull", ref)

	st := stat(t, findInLayers(t, e, "owned/by1000.txt"))
	if int(st.Uid) != base+999 || int(st.Gid) != base+999 {
		t.Errorf("uid 1000's file is owned by %d:%d on the host, want %d", st.Uid, st.Gid, base+999)
	}
	if st := stat(t, findInLayers(t, e, "bin/setuid-file")); st.Mode&syscall.S_ISUID == 0 {
		t.Errorf("setuid bit lost: mode %o", st.Mode)
	}
	if st := stat(t, findInLayers(t, e, "bin/busybox")); int(st.Uid) != os.Getuid() {
		t.Errorf("root's file is owned by %d on the host, want the user %d", st.Uid, os.Getuid())
	}
	whiteouts := 0
	for _, p := range allInLayers(e, "data/gone.txt") {
		if st := stat(t, p); st.Mode&syscall.S_IFMT == syscall.S_IFCHR && st.Rdev == 0 {
			whiteouts++
		}
	}
	if whiteouts != 1 {
		t.Errorf("want one overlay whiteout (char 0/0) for data/gone.txt, found %d", whiteouts)
	}
	// Seen through the container, the layers merge as the image says.
	r := e.ok("run", "--rm", ref, "sh", "-c", "ls /data; echo --; ls /opaque; echo --; stat -c %u /owned/by1000.txt")
	if r.stdout != "kept.txt\n--\nnew.txt\n--\n1000\n" {
		t.Errorf("merged view: %q", r.stdout)
	}
}

func stat(t *testing.T, p string) *syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

func TestPullTwiceFetchesNoBlob(t *testing.T) {
	reg, ref := busybox(t)
	e := newEnv(t)
	e.ok("pull", ref)
	first := reg.blobGETs.Load()
	if first < 2 {
		t.Fatalf("first pull fetched %d blobs, want config and layer", first)
	}
	r := e.ok("pull", ref)
	if n := reg.blobGETs.Load() - first; n != 0 {
		t.Fatalf("second pull fetched %d blobs, want 0: %s", n, r)
	}
	if !strings.Contains(r.stdout, "up to date") {
		t.Errorf("second pull does not say the image is up to date: %s", r)
	}
}

func TestConcurrentPullsStoreOnce(t *testing.T) {
	_, multi := images(t)
	reg := newRegistry(t)
	ref := reg.push(t, "test/multi:v1", multi)
	e := newEnv(t)
	var wg sync.WaitGroup
	results := make([]result, 3)
	for i := range results {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = e.den("pull", ref) }()
	}
	wg.Wait()
	for _, r := range results {
		if r.code != 0 {
			t.Fatalf("concurrent pull failed: %s", r)
		}
	}
	if rows := imageRows(t, e); len(rows) != 1 {
		t.Fatalf("want one image, got %v", rows)
	}
	layers, _ := filepath.Glob(filepath.Join(e.store(), "overlay", "*", "diff"))
	if len(layers) != 3 {
		t.Fatalf("want 3 layers stored once, found %d", len(layers))
	}
	e.ok("run", "--rm", ref, "true")
}

func TestPullSeveralReferencesAtOnce(t *testing.T) {
	bb, multi := images(t)
	reg := newRegistry(t)
	a := reg.push(t, "test/a:1", bb)
	b := reg.push(t, "test/b:1", multi)
	e := newEnv(t)
	e.ok("pull", a, b)
	if rows := imageRows(t, e); len(rows) != 2 {
		t.Fatalf("want two images, got %v", rows)
	}
}

func TestPullFailuresAreOneLineAndHarmless(t *testing.T) {
	cases := []struct {
		fault fault
		want  []string
	}{
		{fault404, []string{"not found", "404"}},
		{fault401, []string{"access denied", "401"}},
		{fault500, []string{"registry failed", "500"}},
		{faultTruncate, []string{"layer 1/1", "truncated"}},
		{faultTamper, []string{"layer 1/1", "does not match its digest"}},
	}
	for _, c := range cases {
		t.Run(string(c.fault), func(t *testing.T) {
			reg, ref := busybox(t)
			e := newEnv(t)
			reg.setFault(c.fault)
			r := e.den("pull", ref)
			oneLineError(t, r, append(c.want, "test/busybox")...)
			if rows := imageRows(t, e); len(rows) != 0 {
				t.Fatalf("a failed pull left an image: %v", rows)
			}
			staged, _ := filepath.Glob(filepath.Join(e.store(), "overlay", "staging", "*", "dir"))
			if len(staged) != 0 {
				t.Fatalf("a failed pull left staged layers: %v", staged)
			}
			reg.setFault(faultNone)
			e.ok("pull", ref)
			if r := e.ok("run", "--rm", ref, "echo", "ok"); r.stdout != "ok\n" {
				t.Fatalf("store unusable after the failure: %s", r)
			}
		})
	}
}

func TestPullBadReferences(t *testing.T) {
	e := newEnv(t)
	for _, ref := range []string{"UPPER/case", "a:b:c:d", "image@sha256:short", ""} {
		r := e.den("pull", ref)
		oneLineError(t, r, "invalid reference")
	}
}

func TestPullInterruptedThenCompletes(t *testing.T) {
	reg, ref := busybox(t)
	e := newEnv(t)
	reg.setFault(faultStall)
	cmd := e.command(t.Context(), "pull", ref)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reg.stalled:
	case <-time.After(30 * time.Second):
		t.Fatal("the pull never reached the layer")
	}
	time.Sleep(100 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if cmd.ProcessState.ExitCode() != 130 {
		t.Fatalf("interrupted pull exited %d (%v), want 130", cmd.ProcessState.ExitCode(), err)
	}
	if rows := imageRows(t, e); len(rows) != 0 {
		t.Fatalf("an interrupted pull left an image: %v", rows)
	}
	reg.setFault(faultNone)
	e.ok("pull", ref)
	e.ok("run", "--rm", ref, "true")
}

func TestLoadDockerArchiveAndOCILayout(t *testing.T) {
	bb, multi := images(t)
	e := newEnv(t)
	tarPath := filepath.Join(e.dir, "busybox.tar")
	tag, _ := name.NewTag("busybox:saved")
	if err := tarball.WriteToFile(tarPath, tag, bb); err != nil {
		t.Fatal(err)
	}
	r := e.ok("load", "-i", tarPath)
	if !strings.Contains(r.stdout, "docker.io/library/busybox:saved") {
		t.Fatalf("load output: %s", r)
	}
	lp, err := layout.Write(filepath.Join(e.dir, "oci"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(multi, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "example.com/multi:oci"})); err != nil {
		t.Fatal(err)
	}
	e.ok("load", "-i", filepath.Join(e.dir, "oci"))
	if r := e.ok("run", "--rm", "busybox:saved", "echo", "loaded"); r.stdout != "loaded\n" {
		t.Fatalf("run of a loaded image: %s", r)
	}
	if r := e.ok("run", "--rm", "example.com/multi:oci", "cat", "/opaque/new.txt"); r.stdout != "new\n" {
		t.Fatalf("run of an OCI layout image: %s", r)
	}
	oneLineError(t, e.den("load", "-i", filepath.Join(e.dir, "missing.tar")), "missing.tar")
	junk := filepath.Join(e.dir, "junk.tar")
	os.WriteFile(junk, []byte("not a tar at all"), 0o644)
	oneLineError(t, e.den("load", "-i", junk), "junk.tar")
	// A docker save whose manifest names a layer the archive lacks.
	holed := filepath.Join(e.dir, "holed.tar")
	if err := dropTarEntry(tarPath, holed, ".tar.gz", ".tar"); err != nil {
		t.Fatal(err)
	}
	before := e.ok("images", "--format", "json").stdout
	oneLineError(t, e.den("load", "-i", holed), "holed.tar")
	if after := e.ok("images", "--format", "json").stdout; after != before {
		t.Fatalf("a failed load changed the store:\n%s\n%s", before, after)
	}
}

// dropTarEntry copies a tar without its first entry whose name ends in
// one of the suffixes other than manifest.json.
func dropTarEntry(src, dst string, suffixes ...string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer out.Close()
	tr, tw := tar.NewReader(in), tar.NewWriter(out)
	dropped := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		skip := false
		for _, suf := range suffixes {
			if !dropped && strings.HasSuffix(h.Name, suf) && !strings.HasSuffix(h.Name, ".json") {
				skip = true
			}
		}
		if skip {
			dropped = true
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
	if !dropped {
		return fmt.Errorf("no layer entry in %s", src)
	}
	return tw.Close()
}

// rmi follows docker: an image a container uses is refused; -f takes a
// stopped container's image's names off and leaves the image to it; a
// running container's image cannot be forced; an ID with several names
// must be forced.
func TestRmiRefusesImageInUse(t *testing.T) {
	_, ref := busybox(t)
	e := newEnv(t)
	e.ok("pull", ref)
	id := strings.TrimSpace(e.ok("inspect", "-f", "{{.Id}}", ref).stdout) // sha256:..., which rmi and run take
	e.ok("run", "--name", "keep", ref, "true")
	oneLineError(t, e.den("rmi", ref), "in use")
	if r := e.ok("rmi", "-f", ref); !strings.Contains(r.stdout, "Untagged: "+ref) || strings.Contains(r.stdout, "Deleted") {
		t.Fatalf("rmi -f of a stopped container's image: %s", r)
	}
	if r := e.ok("start", "-a", "keep"); r.code != 0 {
		t.Fatalf("the container lost its image: %s", r)
	}
	e.ok("run", "-d", "--name", "live", id, "sleep", "60")
	oneLineError(t, e.den("rmi", "-f", id), "cannot be forced", "running container")
	e.ok("rm", "-f", "live", "keep")
	e.ok("tag", id, "example.com/a:1")
	e.ok("tag", id, "example.com/b:1")
	oneLineError(t, e.den("rmi", id), "must be forced")
	if r := e.ok("rmi", "-f", id); !strings.Contains(r.stdout, "Untagged: example.com/a:1") || !strings.Contains(r.stdout, "Deleted: "+id) {
		t.Fatalf("rmi -f ID: %s", r)
	}
	if rows := imageRows(t, e); len(rows) != 0 {
		t.Fatalf("rmi -f left %v", rows)
	}
	layers, _ := filepath.Glob(filepath.Join(e.store(), "overlay", "*", "diff"))
	if len(layers) != 0 {
		t.Fatalf("rmi left layers: %v", layers)
	}
}

func TestImageInspectPrintsConfig(t *testing.T) {
	_, ref := busybox(t)
	e := newEnv(t)
	e.ok("pull", ref)
	// docker-shaped: an array of images, each with its config.
	var cfg []struct {
		Architecture string
		Config       struct{ Cmd []string }
	}
	r := e.ok("image", "inspect", ref)
	if err := json.Unmarshal([]byte(r.stdout), &cfg); err != nil || len(cfg) != 1 || cfg[0].Config.Cmd[0] != "sh" {
		t.Fatalf("image inspect: %v: %s", err, r)
	}
	if r := e.ok("image", "inspect", "-f", "{{.Config.Cmd}}", ref); r.stdout != "[sh]\n" {
		t.Fatalf("image inspect -f: %s", r)
	}
	oneLineError(t, e.den("image", "inspect", "nosuch"), "nosuch")
}

func TestPullOnFullDisk(t *testing.T) {
	full := os.Getenv(envFullDisk)
	if full == "" {
		t.Skip("needs the small filesystem the harness mounts when started as root")
	}
	bb, _ := images(t)
	big := make([]byte, 2*fullDiskSize) // random: gzip cannot shrink it
	rand.Read(big)
	l, err := testimage.Layer([]testimage.Entry{{Name: "big.bin", Body: string(big)}})
	if err != nil {
		t.Fatal(err)
	}
	base, _ := bb.Layers()
	img, err := testimage.Image([]string{"sh"}, base[0], l)
	if err != nil {
		t.Fatal(err)
	}
	r := newRegistry(t)
	bigRef := r.push(t, "test/big:latest", img)
	smallRef := r.push(t, "test/busybox:latest", bb)

	e := newEnv(t)
	data, err := os.MkdirTemp(full, "data-")
	if err != nil {
		t.Fatal(err)
	}
	e.data = data
	res := e.den("pull", bigRef)
	oneLineError(t, res, "no space left on device", "free space", "--root")
	t.Logf("full disk: %s", res.stderr)
	if !strings.Contains(res.stderr, "test/big") {
		t.Fatalf("the error does not name the image: %s", res.stderr)
	}
	// Nothing half-written stays behind: the small image fits and runs.
	if out := e.ok("images").stdout; strings.Contains(out, "test/big") {
		t.Fatalf("a failed pull left an image:\n%s", out)
	}
	e.ok("pull", smallRef)
	if out := e.ok("run", "--rm", "--network", "none", smallRef, "echo", "fits").stdout; out != "fits\n" {
		t.Fatalf("the store does not work after a full disk: %q", out)
	}
	// A --rm container that fills the disk goes, with its den or the next.
	r2 := e.den("run", "--rm", "--name", "filler", "--network", "none", smallRef, "sh", "-c", "head -c 9000000 /dev/zero > /big; exit 0")
	t.Logf("filler: %s", r2)
	if out := e.ok("ps", "-a", "--format", "{{.Names}} {{.Status}}").stdout; strings.Contains(out, "filler") {
		t.Fatalf("a --rm container that filled the disk stays: %s", out)
	}
	if out := e.ok("run", "--rm", "--network", "none", smallRef, "echo", "fits").stdout; out != "fits\n" {
		t.Fatalf("the store does not work after a container filled the disk: %q", out)
	}
}
