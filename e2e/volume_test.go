package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// A named volume is made on first use, filled from the image, and keeps
// what a container wrote for the next one.
func TestNamedVolume(t *testing.T) {
	e, ref := pulled(t)
	r := e.ok("run", "--rm", "-v", "data:/etc", ref, "sh", "-c", "cat /etc/passwd | head -1; echo kept > /etc/note")
	if !strings.HasPrefix(r.stdout, "root:x:0:0") {
		t.Fatalf("the new volume was not filled from the image's /etc: %s", r)
	}
	r = e.ok("run", "--rm", "--mount", "type=volume,source=data,target=/data,readonly", ref, "sh", "-c", "cat /data/note; touch /data/x || echo refused")
	if r.stdout != "kept\nrefused\n" {
		t.Fatalf("the volume did not keep the write, or readonly was ignored: %s", r)
	}
	var vs []map[string]any
	if err := json.Unmarshal([]byte(e.ok("volume", "inspect", "data").stdout), &vs); err != nil || len(vs) != 1 || vs[0]["Name"] != "data" || vs[0]["Driver"] != "local" {
		t.Fatalf("volume inspect: %v %v", vs, err)
	}
	if ls := strings.Split(e.ok("volume", "ls").stdout, "\n"); len(ls) < 2 || strings.Join(strings.Fields(ls[1]), " ") != "local data" {
		t.Fatalf("volume ls does not list it: %q", ls)
	}
	if out := e.ok("volume", "ls", "--format", "{{.Name}} {{.Mountpoint}}").stdout; out != "data "+vs[0]["Mountpoint"].(string)+"\n" {
		t.Fatalf("volume ls --format: %q, inspect says %v", out, vs[0]["Mountpoint"])
	}
	oneLineError(t, e.den("volume", "ls", "--format", "{{.Nope"), "template")
	e.ok("run", "--name", "user", "-v", "data:/data", ref, "true")
	oneLineError(t, e.den("volume", "rm", "data"), "in use", "den rm")
	e.ok("rm", "user")
	e.ok("volume", "rm", "data")
	if strings.Contains(e.ok("volume", "ls", "-q").stdout, "data") {
		t.Fatal("volume rm left the volume")
	}
	e.ok("volume", "create", "made")
	if e.ok("volume", "ls", "-q").stdout != "made\n" {
		t.Fatal("volume create did not make it")
	}
	// prune keeps named volumes unless -a.
	e.ok("volume", "prune", "-f")
	if e.ok("volume", "ls", "-q").stdout != "made\n" {
		t.Fatal("volume prune removed a named volume")
	}
	e.ok("volume", "prune", "-f", "-a")
	if e.ok("volume", "ls", "-q").stdout != "" {
		t.Fatal("volume prune -a left a volume")
	}
}

// Anonymous volumes go with rm -v and --rm, as docker's do; prune takes
// the dangling ones.
func TestAnonymousVolumes(t *testing.T) {
	e, ref := pulled(t)
	e.ok("run", "--name", "a", "-v", "/data", ref, "touch", "/data/x")
	if n := len(strings.Fields(e.ok("volume", "ls", "-q").stdout)); n != 1 {
		t.Fatalf("%d volumes after -v /data, want 1", n)
	}
	e.ok("rm", "-v", "a")
	if out := e.ok("volume", "ls", "-q").stdout; out != "" {
		t.Fatalf("rm -v left the anonymous volume: %q", out)
	}
	e.ok("run", "--rm", "--mount", "type=volume,target=/data", ref, "true")
	if out := e.ok("volume", "ls", "-q").stdout; out != "" {
		t.Fatalf("--rm left the anonymous volume: %q", out)
	}
	e.ok("run", "--name", "b", "-v", "/data", ref, "true")
	e.ok("rm", "b")
	e.ok("volume", "prune", "-f")
	if out := e.ok("volume", "ls", "-q").stdout; out != "" {
		t.Fatalf("prune left a dangling anonymous volume: %q", out)
	}
	e.ok("run", "-v", "/data", "-v", "named:/n", ref, "true")
	e.ok("system", "prune", "-f", "--volumes")
	if out := e.ok("volume", "ls", "-q").stdout; out != "named\n" {
		t.Fatalf("system prune --volumes: volumes left %q, want only the named one", out)
	}
}

func TestVolumeBadInput(t *testing.T) {
	e, ref := pulled(t)
	oneLineError(t, e.den("run", "--rm", "-v", "a/b:/data", ref, "true"), "invalid volume name", "a/b")
	oneLineError(t, e.den("volume", "create", "a/b"), "invalid volume name")
	oneLineError(t, e.den("volume", "inspect", "nope"), "no such volume")
	oneLineError(t, e.den("run", "--rm", "--mount", "type=volume,source=x", ref, "true"), "target is required")
	oneLineError(t, e.den("run", "--rm", "--mount", "type=nfs,target=/x", ref, "true"), "bind, volume or tmpfs")
	oneLineError(t, e.den("run", "--rm", "--mount", "type=bind,source=/nonexistent,target=/x", ref, "true"), "does not exist")
	oneLineError(t, e.den("run", "--rm", "--mount", "type=tmpfs,target=/x,tmpfs-size=lots", ref, "true"), "tmpfs-size")
}

// --mount type=bind and type=tmpfs, docker's syntax; -v option lists.
func TestMountFlag(t *testing.T) {
	e, ref := pulled(t)
	r := e.ok("run", "--rm", "--mount", "type=bind,src="+e.dir+",dst=/host,ro", "--mount", "type=tmpfs,destination=/scratch,tmpfs-size=1m,tmpfs-mode=1770",
		"-v", e.dir+":/opt:ro,z", ref, "sh", "-c", "touch /host/x || echo ro; stat -c %a /scratch; df -k /scratch | tail -1 | awk '{print $2}'; touch /opt/y || echo ro2")
	if r.stdout != "ro\n1770\n1024\nro2\n" {
		t.Fatalf("--mount bind readonly, tmpfs size and mode, -v ro,z: %s", r)
	}
}
