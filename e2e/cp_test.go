package e2e

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// tarEntries reads a tar stream: names to contents, and the headers.
func tarEntries(t *testing.T, b []byte) (map[string]string, map[string]*tar.Header) {
	t.Helper()
	files, hdrs := map[string]string{}, map[string]*tar.Header{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, hdrs
		}
		if err != nil {
			t.Fatalf("reading den cp's tar stream: %v", err)
		}
		body, _ := io.ReadAll(tr)
		files[strings.TrimSuffix(h.Name, "/")], hdrs[strings.TrimSuffix(h.Name, "/")] = string(body), h
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func ownerOf(t *testing.T, p string) int {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid)
}

// setup of the container the copies go to and from: a tree with a file of
// uid 1000, and links planted to lead out to the host user's home.
const cpSetup = `mkdir -p /data/sub && echo hi > /data/sub/f && echo u > /data/u && chown 1000:1000 /data/u &&
ln -s "$HOSTHOME" /tmp/x && ln -s ../../../../../../../../"$HOSTHOME" /tmp/up && ln -s /tmp/x /data/link`

func TestCpRunning(t *testing.T) {
	e, ref := pulled(t)
	home, _ := os.UserHomeDir()
	marker := filepath.Join(home, "den-cp-marker")
	if err := os.WriteFile(marker, []byte("host"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(marker) })
	e.ok("run", "-d", "--name", "box", "--network", "none", "-e", "HOSTHOME="+home, ref, "sh", "-c", cpSetup+" && sleep 300")
	t.Cleanup(func() { e.den("rm", "-f", "box") })
	for i := 0; e.den("cp", "box:/data/link", filepath.Join(e.dir, "probe")).code != 0; i++ {
		if i > 100 {
			t.Fatal("the container never made its files")
		}
	}
	testCp(t, e, "box", home)
}

func TestCpStopped(t *testing.T) {
	e, ref := pulled(t)
	home, _ := os.UserHomeDir()
	e.ok("run", "--name", "box", "--network", "none", "-e", "HOSTHOME="+home, ref, "sh", "-c", cpSetup)
	testCp(t, e, "box", home)
	e.ok("rm", "box")
	oneLineError(t, e.den("cp", "box:/data", e.dir), "no such container", "box")
}

func testCp(t *testing.T, e *env, box, home string) {
	d := e.dir
	// Out: a file, owned by the user, whoever owns it in the container.
	e.ok("cp", box+":/data/sub/f", filepath.Join(d, "f.txt"))
	e.ok("cp", box+":/data/u", filepath.Join(d, "u"))
	if readFile(t, filepath.Join(d, "f.txt")) != "hi\n" || ownerOf(t, filepath.Join(d, "u")) != os.Getuid() {
		t.Fatal("den cp out: wrong content or owner")
	}
	// -a keeps the container's owner: uid 1000 is subuid base + 999.
	e.ok("cp", "-a", box+":/data/u", filepath.Join(d, "ua"))
	if got := ownerOf(t, filepath.Join(d, "ua")); got != subuidBase(t)+999 {
		t.Fatalf("den cp -a: owner %d, want %d", got, subuidBase(t)+999)
	}
	// A directory: created when missing, put under its name in an
	// existing one, its contents only with "/.".
	e.ok("cp", box+":/data", filepath.Join(d, "d1"))
	e.ok("cp", box+":/data", filepath.Join(d, "d1"))
	os.Mkdir(filepath.Join(d, "d2"), 0o755)
	e.ok("cp", box+":/data/.", filepath.Join(d, "d2"))
	for _, p := range []string{"d1/sub/f", "d1/data/sub/f", "d2/sub/f"} {
		if readFile(t, filepath.Join(d, p)) != "hi\n" {
			t.Fatalf("den cp of a directory: no %s", p)
		}
	}
	oneLineError(t, e.den("cp", box+":/data", filepath.Join(d, "f.txt")), "cannot copy a directory to a file")
	oneLineError(t, e.den("cp", box+":/data/sub/f", filepath.Join(d, "nodir")+"/"), "no such directory")
	oneLineError(t, e.den("cp", box+":/nonexistent", d), "/nonexistent", "no such file")

	// In: a file becomes root's in the container, a directory goes in whole.
	os.WriteFile(filepath.Join(d, "in.txt"), []byte("in\n"), 0o640)
	os.MkdirAll(filepath.Join(d, "tree", "deep"), 0o755)
	os.WriteFile(filepath.Join(d, "tree", "deep", "g"), []byte("g\n"), 0o644)
	e.ok("cp", filepath.Join(d, "in.txt"), box+":/data/")
	e.ok("cp", filepath.Join(d, "tree"), box+":/data")
	e.ok("cp", filepath.Join(d, "in.txt"), box+":/data/renamed")
	files, hdrs := tarEntries(t, []byte(e.ok("cp", box+":/data", "-").stdout))
	for name, want := range map[string]string{"data/in.txt": "in\n", "data/tree/deep/g": "g\n", "data/renamed": "in\n", "data/u": "u\n"} {
		if files[name] != want {
			t.Fatalf("den cp in, then out as a tar stream: %s is %q, want %q (%v)", name, files[name], want, files)
		}
	}
	if h := hdrs["data/in.txt"]; h.Uid != 0 || h.Gid != 0 || h.Mode&0o777 != 0o640 {
		t.Fatalf("a file copied in: uid %d gid %d mode %o, want root's with its mode 640", h.Uid, h.Gid, h.Mode)
	}
	if h := hdrs["data/u"]; h.Uid != 1000 {
		t.Fatalf("the tar stream out keeps the container's owners: uid %d", h.Uid)
	}
	if hdrs["data/link"].Typeflag != tar.TypeSymlink {
		t.Fatal("den cp copies a link as a link")
	}
	// In from a tar stream on stdin, into a directory.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "t1/x", Mode: 0o600, Size: 2, Typeflag: tar.TypeReg})
	tw.Write([]byte("x\n"))
	tw.Close()
	if r := e.denIn(bytes.NewReader(buf.Bytes()), "cp", "-", box+":/data"); r.code != 0 {
		t.Fatalf("den cp - %s:/data: %s", box, r)
	}
	if files, _ := tarEntries(t, []byte(e.ok("cp", box+":/data/t1/x", "-").stdout)); files["x"] != "x\n" {
		t.Fatalf("den cp - : %v", files)
	}
	oneLineError(t, e.denIn(bytes.NewReader(buf.Bytes()), "cp", "-", box+":/data/renamed"), "no such directory")
	hostileLinks(t, e, box, home)

	oneLineError(t, e.den("cp", filepath.Join(d, "in.txt"), filepath.Join(d, "x")), "CONTAINER:PATH")
	oneLineError(t, e.den("cp", box+":/data", box+":/x"), "between containers")
	oneLineError(t, e.den("cp", filepath.Join(d, "nope"), box+":/data"), "nope")
	oneLineError(t, e.den("cp", "nosuch:/data", d), "no such container", "nosuch")
}

// hostileLinks: links in the container lead to the host user's home; the
// copies resolve them inside the container, never on the host.
func hostileLinks(t *testing.T, e *env, box, home string) {
	d := e.dir
	// A link given as the source is copied as the link it is.
	e.ok("cp", box+":/tmp/x", filepath.Join(d, "xlink"))
	if target, err := os.Readlink(filepath.Join(d, "xlink")); err != nil || target != home {
		t.Fatalf("den cp of a link: %q %v", target, err)
	}
	secret := filepath.Join(d, "den-cp-secret")
	os.WriteFile(secret, []byte("s"), 0o600)
	for _, dst := range []string{"/tmp/x/", "/tmp/up/", "/tmp/x", "/data/link/", "/tmp/up/den-cp-secret"} {
		e.den("cp", secret, box+":"+dst)
		if _, err := os.Lstat(filepath.Join(home, "den-cp-secret")); err == nil {
			os.Remove(filepath.Join(home, "den-cp-secret"))
			t.Fatalf("den cp FILE %s:%s wrote into the host's home %s", box, dst, home)
		}
	}
	for _, src := range []string{"/tmp/x/.", "/tmp/up/.", "/tmp/up/den-cp-marker", "/data/link/"} {
		out := filepath.Join(d, "out"+strings.ReplaceAll(src, "/", "_"))
		e.den("cp", src2(box, src), out)
		if b, err := os.ReadFile(filepath.Join(out, "den-cp-marker")); err == nil || string(b) == "host" {
			t.Fatalf("den cp %s:%s read the host's home", box, src)
		}
		if b, _ := os.ReadFile(out); string(b) == "host" {
			t.Fatalf("den cp %s:%s read the host's home", box, src)
		}
	}
}

func src2(box, p string) string { return box + ":" + p }
