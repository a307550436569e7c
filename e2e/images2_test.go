package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestImagesFlags(t *testing.T) {
	e, src := pulled(t)
	e.ok("tag", src, "example.com/team/app:v1")
	id := strings.TrimSpace(e.ok("images", "-q", "example.com/team/app:v1").stdout)
	if len(id) != 12 || !isHex(id) {
		t.Fatalf("images -q REF: %q", id)
	}
	if r := e.ok("images", "-q"); strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("images -q lists one id per image: %q", r.stdout)
	}
	if r := e.ok("images", "--no-trunc", "-q"); strings.TrimSpace(r.stdout) != "sha256:"+id+strings.TrimPrefix(strings.TrimSpace(r.stdout), "sha256:"+id) || len(strings.TrimSpace(r.stdout)) != 71 {
		t.Fatalf("--no-trunc: %q", r.stdout)
	}
	r := e.ok("images", "--digests", "-f", "reference=example.com/*/*:v*")
	if !strings.Contains(r.stdout, "DIGEST") || !strings.Contains(r.stdout, "sha256:") || strings.Contains(r.stdout, "test/busybox") || !strings.Contains(r.stdout, "example.com/team/app") {
		t.Fatalf("--digests with a reference filter: %s", r.stdout)
	}
	if r := e.ok("images", "-f", "dangling=true", "-q"); r.stdout != "" {
		t.Fatalf("no dangling image expected: %q", r.stdout)
	}
	e.ok("images", "-a")
	oneLineError(t, e.den("images", "-f", "label=x"), "unsupported filter")
}

func TestHistory(t *testing.T) {
	e, src := pulled(t)
	r := e.ok("history", src)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "IMAGE") || !isHex(strings.Fields(lines[1])[0]) {
		t.Fatalf("history: %s", r.stdout)
	}
	// docker's --format: a template of its fields, and json one object
	// a line with its keys.
	if r := e.ok("history", "--format", "{{.ID}} {{.Size}}", src); !isHex(strings.Fields(r.stdout)[0]) {
		t.Fatalf("history --format: %s", r.stdout)
	}
	r = e.ok("history", "--format", "json", "-H=false", src)
	first := strings.Split(r.stdout, "\n")[0]
	var row map[string]string
	err := json.Unmarshal([]byte(first), &row)
	if _, hasBy := row["CreatedBy"]; err != nil || row["ID"] == "" || !isDigits(row["Size"]) || !hasBy {
		t.Fatalf("history --format json: %s (%v)", r.stdout, err)
	}
	oneLineError(t, e.den("history", "no-such-image"), "no such image")
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// fsTar is a filesystem tar: a file owned by 1000:1000 and, if evil, an
// entry that climbs out of the root.
func fsTar(t *testing.T, evil bool) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	add := func(name, body string, uid int) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Uid: uid, Gid: uid, Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.WriteHeader(&tar.Header{Name: "bin/", Mode: 0o755, Typeflag: tar.TypeDir})
	sh, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("needs /bin/busybox (busybox-static)")
	}
	tw.WriteHeader(&tar.Header{Name: "bin/busybox", Mode: 0o755, Size: int64(len(sh)), Typeflag: tar.TypeReg})
	tw.Write(sh)
	for _, l := range []string{"sh", "stat", "cat", "echo", "pwd"} {
		tw.WriteHeader(&tar.Header{Name: "bin/" + l, Linkname: "busybox", Typeflag: tar.TypeSymlink, Mode: 0o777})
	}
	add("home/u/owned.txt", "mine\n", 1000)
	if evil {
		add("../../escaped.txt", "out\n", 0)
	}
	tw.Close()
	return b.Bytes()
}

func TestImportExport(t *testing.T) {
	e := newEnv(t)
	good := filepath.Join(e.dir, "fs.tar")
	os.WriteFile(good, fsTar(t, false), 0o644)
	e.ok("import", "--change", "CMD [\"cat\", \"/home/u/owned.txt\"]", "--change", "ENV GREETING=hi", "--change", "WORKDIR /home/u", good, "imported:1")
	if r := e.ok("run", "--rm", "imported:1"); r.stdout != "mine\n" {
		t.Fatalf("CMD from --change: %s", r)
	}
	r := e.ok("run", "--rm", "imported:1", "sh", "-c", "stat -c %u:%g owned.txt; echo $GREETING; pwd")
	if r.stdout != "1000:1000\nhi\n/home/u\n" {
		t.Fatalf("owner, ENV, WORKDIR inside: %q", r.stdout)
	}
	// From stdin, unnamed: docker prints the new image's sha256:ID alone,
	// which a script runs.
	f, _ := os.Open(good)
	defer f.Close()
	r = e.denIn(f, "import", "--change", "ENV A=1 B=\"two words\"", "--change", "EXPOSE 8080", "-")
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(id, "sha256:") || len(id) != 71 {
		t.Fatalf("import -: %s", r)
	}
	if r := e.ok("run", "--rm", id, "sh", "-c", "echo $A $B; cat /home/u/owned.txt"); r.stdout != "1 two words\nmine\n" {
		t.Fatalf("run of the imported ID: %s", r)
	}
	if r := e.ok("inspect", "-f", "{{json .Config.ExposedPorts}}", id); r.stdout != "{\"8080/tcp\":{}}\n" {
		t.Fatalf("EXPOSE from --change: %s", r)
	}
	evil := filepath.Join(e.dir, "evil.tar")
	os.WriteFile(evil, fsTar(t, true), 0o644)
	oneLineError(t, e.den("import", evil, "evil:1"), "../../escaped.txt", "outside the root")
	if _, err := os.Stat(filepath.Join(e.dir, "..", "escaped.txt")); err == nil {
		t.Fatal("the ../ entry was written")
	}
	oneLineError(t, e.den("import", "--change", "RUN make", good), "den import takes CMD")

	// Export: the container's own owners, and what it wrote.
	e.ok("run", "--name", "ex", "imported:1", "sh", "-c", "echo new > /home/u/new.txt")
	out := filepath.Join(e.dir, "ex.tar")
	e.ok("export", "-o", out, "ex")
	owners := map[string]int{}
	ef, _ := os.Open(out)
	defer ef.Close()
	tr := tar.NewReader(ef)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		owners[strings.TrimPrefix(h.Name, "./")] = h.Uid
	}
	if u, ok := owners["home/u/owned.txt"]; !ok || u != 1000 {
		t.Fatalf("exported owner of owned.txt: %d (%v), want 1000; entries %v", u, ok, owners)
	}
	if _, ok := owners["home/u/new.txt"]; !ok {
		t.Fatalf("export lacks what the container wrote: %v", owners)
	}
	oneLineError(t, e.den("export", "-o", out, "nope"), "no such container")
}

func TestPruneCommandsAndDF(t *testing.T) {
	e, src := pulled(t)
	e.ok("run", "--name", "gone", src, "true")
	e.ok("tag", src, "example.com/extra:1")
	r := e.ok("system", "df")
	if !strings.Contains(r.stdout, "Images") || !strings.Contains(r.stdout, "Containers") {
		t.Fatalf("system df: %s", r.stdout)
	}
	if r := e.denIn(strings.NewReader("n\n"), "container", "prune"); r.code != 0 || strings.Contains(r.stdout, "Deleted") {
		t.Fatalf("container prune answered no: %s", r)
	}
	if r := e.ok("container", "prune", "-f"); !strings.Contains(r.stdout, "Deleted container") {
		t.Fatalf("container prune: %s", r)
	}
	if r := e.ok("image", "prune", "-f"); strings.Contains(r.stdout, "deleted:") {
		t.Fatalf("image prune removed a named image: %s", r)
	}
	blobs := filepath.Join(e.data, "den", "blobs", "blobs", "sha256")
	if n, _ := os.ReadDir(blobs); len(n) == 0 {
		t.Fatal("no blobs kept after a pull")
	}
	if r := e.ok("system", "prune", "-a", "-f"); !strings.Contains(r.stdout, "deleted: sha256:") {
		t.Fatalf("system prune -a: %s", r)
	}
	if r := e.ok("images", "-q"); r.stdout != "" {
		t.Fatalf("images left: %s", r.stdout)
	}
	if n, _ := os.ReadDir(blobs); len(n) != 0 {
		t.Fatalf("blobs left after every image went: %d", len(n))
	}
}

// Ctrl-C while den load reads its archive from a pipe: exit 130 at once,
// nothing stored, no half-copied archive left behind.
func TestLoadFromStdinInterrupted(t *testing.T) {
	e := newEnv(t)
	tmp := filepath.Join(e.dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	cmd := e.command(t.Context(), "load")
	cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
	cmd.Stdin = pr
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	pw.Write(make([]byte, 100<<10)) // the start of an archive, then nothing
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	if code := waitExit(t, cmd); code != 130 {
		t.Fatalf("den load interrupted: exit %d, want 130: %s", code, stderr.String())
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("den load left %v in TMPDIR", left)
	}
	if r := e.ok("images", "-q"); r.stdout != "" {
		t.Fatalf("an interrupted load stored %q", r.stdout)
	}
}
