package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// What scripts written for docker do with containers, each as docker
// answers it: the container group, cleanup with rm -f, names, filters,
// cp -L, exec's working directory, logs of a container never started.
func TestDockerScriptIdioms(t *testing.T) {
	e, ref := pulled(t)

	// A container without --name gets docker's kind of name.
	id := strings.TrimSpace(e.ok("run", "-d", ref, "sh", "-c", "echo real > /tmp/real; ln -s /tmp/real /tmp/lnk; exit 3").stdout)
	e.ok("wait", id)
	name := strings.TrimSpace(e.ok("ps", "-a", "--filter", "id="+id, "--format", "{{.Names}}").stdout)
	if !regexp.MustCompile(`^[a-z]+_[a-z]+[0-9]*$`).MatchString(name) {
		t.Fatalf("generated name %q", name)
	}
	// docker's spellings: /NAME, and the exited filter (which implies -a).
	if r := e.ok("inspect", "-f", "{{.State.ExitCode}}", "/"+name); r.stdout != "3\n" {
		t.Fatalf("inspect /NAME: %s", r)
	}
	if r := e.ok("ps", "-q", "--no-trunc", "--filter", "exited=3", "--filter", "name=^/"+name+"$"); r.stdout != id+"\n" {
		t.Fatalf("ps --filter exited=3 name=^/NAME$: %s", r)
	}
	if r := e.ok("ps", "-q", "--filter", "exited=0"); r.stdout != "" {
		t.Fatalf("ps --filter exited=0: %s", r)
	}

	// cp -L copies what the link points to.
	dst := filepath.Join(e.dir, "copied")
	e.ok("cp", "-L", name+":/tmp/lnk", dst)
	if b, err := os.ReadFile(dst); err != nil || string(b) != "real\n" {
		t.Fatalf("cp -L: %q, %v", b, err)
	}

	// The container group: the same commands, as docker's.
	if r := e.ok("container", "ls", "-a", "-q", "--no-trunc"); !strings.Contains(r.stdout, id) {
		t.Fatalf("container ls: %s", r)
	}
	e.ok("container", "rm", name)
	if r := e.den("container", "frobnicate"); r.code == 0 {
		t.Fatalf("an unknown container command passed: %s", r)
	}
	// rm -f of what is not there: said, exit 0 (a script's cleanup).
	if r := e.den("rm", "-f", name); r.code != 0 || !strings.Contains(r.stderr, "no such container") {
		t.Fatalf("rm -f of a removed container: %s", r)
	}
	if r := e.den("rm", name); r.code == 0 {
		t.Fatalf("rm of a removed container passed: %s", r)
	}

	// Names docker refuses, refused with 125.
	for _, bad := range []string{"bad name", "../x", "a/b", "-x", "_x"} {
		if r := e.den("run", "--rm", "--name", bad, ref, "true"); r.code != 125 || !strings.Contains(r.stderr, "invalid container name") {
			t.Fatalf("--name %q: %s", bad, r)
		}
	}
	// A flag den does not know: 125, as docker's CLI.
	if r := e.den("ps", "--bogus"); r.code != 125 {
		t.Fatalf("unknown flag: %s", r)
	}
	// Garbage in the new flags and arguments: one line, nothing done.
	failed125(t, e.den("run", "--rm", "-a", "stdboth", ref, "true"), "-a")
	failed125(t, e.den("run", "-d", "-a", "stdout", ref, "true"), "-a and -d")
	oneLineError(t, e.den("ps", "--filter", "exited=three"), "exited")
	oneLineError(t, e.den("images", "--filter", "before=no-such-image"), "no such image")
	oneLineError(t, e.den("history", "--format", "ID", ref), "--format")
	oneLineError(t, e.den("volume", "create", "-d", "nfs", "v"), "local")
	oneLineError(t, e.den("rename", "no-such-container", "new"), "no-such-container")
	if r := e.ok("ps", "-aq"); r.stdout != "" {
		t.Fatalf("garbage left containers: %s", r.stdout)
	}

	// rename, running: the new name reaches it, the old one is free.
	e.ok("run", "-d", "--name", "before", ref, "sleep", "60")
	e.ok("rename", "before", "live")
	if r := e.ok("exec", "live", "echo", "renamed"); r.stdout != "renamed\n" {
		t.Fatalf("exec after rename: %s", r)
	}
	if r := e.den("rename", "live", "bad name"); r.code == 0 {
		t.Fatalf("rename to a bad name passed: %s", r)
	}
	// A name taken is refused; one that only begins another's ID is not.
	other := strings.TrimSpace(e.ok("create", "--name", "other", ref, "true").stdout)
	oneLineError(t, e.den("rename", "live", "other"), "already in use")
	e.ok("rename", "live", other[:4])
	e.ok("rename", other[:4], "live")
	e.ok("rm", "other")
	e.ok("run", "--rm", "--name", "before", ref, "true")

	// exec -w: a missing directory fails (126) and is not made.
	if r := e.den("exec", "-w", "/nonexist", "live", "pwd"); r.code != 126 {
		t.Fatalf("exec -w /nonexist: %s", r)
	}
	if r := e.den("exec", "live", "test", "-e", "/nonexist"); r.code != 1 {
		t.Fatalf("exec -w made the directory: %s", r)
	}
	// inspect's idioms: the address through Networks, no health check.
	tmpl := "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}"
	if r := e.ok("inspect", "-f", tmpl, "live"); r.stdout != "10.0.2.100 none\n" {
		t.Fatalf("inspect idioms: %s", r)
	}
	e.ok("rm", "-f", "live")

	// A script's cleanup: den rm -f $(den ps -aq).
	e.ok("run", "-d", ref, "sleep", "60")
	e.ok("create", ref, "true")
	ids := strings.Fields(e.ok("ps", "-aq").stdout)
	if len(ids) != 2 {
		t.Fatalf("ps -aq: %v", ids)
	}
	e.ok(append([]string{"rm", "-f"}, ids...)...)
	if r := e.ok("ps", "-aq"); r.stdout != "" {
		t.Fatalf("rm -f $(ps -aq) left %s", r.stdout)
	}

	// logs of a container never started: nothing, exit 0.
	e.ok("create", "--name", "fresh", ref, "echo", "hi")
	if r := e.ok("logs", "fresh"); r.stdout != "" {
		t.Fatalf("logs of a created container: %s", r)
	}
	e.ok("start", "-a", "fresh")
	if r := e.ok("logs", "--since", "0", "fresh"); r.stdout != "hi\n" {
		t.Fatalf("logs --since 0: %s", r)
	}
}

// run's flags where docker's answer differed: --read-only's tmpfs under
// the user's mounts, its working directory, -it without a terminal, bad
// -e and -w, -v of a missing directory, --add-host's = form, and
// --privileged without no_new_privs.
func TestRunFlagsAsDocker(t *testing.T) {
	e, ref := pulled(t)
	data := filepath.Join(e.dir, "data")
	os.Mkdir(data, 0o755)
	os.WriteFile(filepath.Join(data, "f"), []byte("kept\n"), 0o644)
	r := e.ok("run", "--rm", "--read-only", "-v", data+":/tmp", "-v", data+":/run/x", "-w", "/newdir", ref,
		"sh", "-c", "cat /tmp/f /run/x/f; echo new > /tmp/g; pwd")
	if r.stdout != "kept\nkept\n/newdir\n" {
		t.Fatalf("--read-only with binds at /tmp and /run/x, -w /newdir: %s", r)
	}
	if b, err := os.ReadFile(filepath.Join(data, "g")); err != nil || string(b) != "new\n" {
		t.Fatalf("a write to the bind at /tmp went elsewhere: %q, %v", b, err)
	}
	// -v of a missing directory makes it.
	fresh := filepath.Join(e.dir, "fresh", "sub")
	e.ok("run", "--rm", "-v", fresh+":/m", ref, "touch", "/m/made")
	if _, err := os.Stat(filepath.Join(fresh, "made")); err != nil {
		t.Fatalf("-v of a missing directory: %v", err)
	}
	if r := e.ok("run", "--rm", "--add-host", "db=10.1.2.3", "--add-host", "v6=[2001:db8::33]", ref, "cat", "/etc/hosts"); !strings.Contains(r.stdout, "10.1.2.3\tdb") || !strings.Contains(r.stdout, "2001:db8::33\tv6") {
		t.Fatalf("--add-host NAME=IP: %s", r)
	}
	// -a shows only the streams named.
	if r := e.ok("run", "--rm", "-a", "stderr", ref, "sh", "-c", "echo out; echo err >&2"); r.stdout != "" || r.stderr != "err\n" {
		t.Fatalf("-a stderr: %s", r)
	}
	if r := e.denIn(strings.NewReader("in\n"), "run", "--rm", "-a", "stdin", "-a", "stdout", ref, "cat"); r.stdout != "in\n" {
		t.Fatalf("-a stdin -a stdout: %s", r)
	}
	if r := e.ok("run", "--rm", "--privileged", ref, "grep", "NoNewPrivs", "/proc/self/status"); !strings.HasSuffix(r.stdout, "0\n") {
		t.Fatalf("--privileged keeps no_new_privs: %s", r)
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"run", "--rm", "-e", "=bad", ref, "true"}, 125, "environment variable"},
		{[]string{"run", "--rm", "-w", "rel", ref, "true"}, 125, "absolute path"},
		{[]string{"run", "--rm", "-i", "-t", ref, "cat"}, 1, "not a TTY"}, // stdin is a pipe here
		{[]string{"run", "--rm", "-u", "3000000", ref, "true"}, 126, "uid 3000000 is not mapped"},
	} {
		r := e.denIn(strings.NewReader("hi\n"), c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
			t.Fatalf("den %v: %s", c.args, r)
		}
	}
}

// Volumes and inspect as scripts read them: volume inspect's template,
// rm -f of a volume that is not there, volumes in .Mounts and Binds, the
// restart policy, docker's -v options and network name.
func TestVolumeAndInspectIdioms(t *testing.T) {
	e, ref := pulled(t)
	e.ok("volume", "create", "-d", "local", "vv")
	mp := strings.TrimSpace(e.ok("volume", "inspect", "-f", "{{.Mountpoint}}", "vv").stdout)
	if !strings.HasSuffix(mp, "/volumes/vv/_data") {
		t.Fatalf("volume inspect -f: %q", mp)
	}
	host := filepath.Join(e.dir, "h")
	os.Mkdir(host, 0o755)
	e.ok("create", "--name", "c", "--network", "bridge", "--restart", "on-failure:2", "-d", "-v", "vv:/data",
		"-v", host+":/h:cached", "--mount", "type=tmpfs,target=/t", ref, "true")
	r := e.ok("inspect", "-f", "{{json .Mounts}} {{json .HostConfig.Binds}} {{json .HostConfig.RestartPolicy}}", "c")
	for _, want := range []string{`"Name":"vv"`, `"Source":"` + mp + `"`, `"Type":"volume"`, `"Type":"tmpfs"`, `"vv:/data"`,
		`{"MaximumRetryCount":2,"Name":"on-failure"}`} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("inspect lacks %s: %s", want, r.stdout)
		}
	}
	e.ok("rm", "c")
	if r := e.den("volume", "rm", "-f", "vv", "nosuch"); r.code != 0 || !strings.Contains(r.stderr, "no such volume: nosuch") {
		t.Fatalf("volume rm -f: %s", r)
	}
}
