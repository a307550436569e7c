package e2e

import (
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// jsonLines reads docker's --format json: one object per line.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON object per line: %v\n%s", err, out)
		}
		rows = append(rows, m)
	}
	return rows
}

// twoContainers runs "web" (detached, port 80 published on a port den
// picks) and "done" (exited with 3) and returns web's host port.
func twoContainers(t *testing.T, e *env, ref string) int {
	t.Helper()
	e.ok("run", "-d", "--name", "web", "-p", "80", ref, "sleep", "300")
	t.Cleanup(func() { e.den("rm", "-f", "web") })
	if r := e.den("run", "--name", "done", "--network", "none", ref, "sh", "-c", "exit 3"); r.code != 3 {
		t.Fatalf("den run done: %s", r)
	}
	out := strings.TrimSpace(e.ok("port", "web", "80").stdout)
	m := regexp.MustCompile(`^0\.0\.0\.0:(\d+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("den port web 80: %q, want 0.0.0.0:PORT", out)
	}
	port, _ := strconv.Atoi(m[1])
	return port
}

func TestPsFormats(t *testing.T) {
	e, ref := pulled(t)
	port := twoContainers(t, e, ref)
	published := "0.0.0.0:" + strconv.Itoa(port) + "->80/tcp"

	lines := strings.Split(strings.TrimSpace(e.ok("ps").stdout), "\n")
	if len(lines) != 2 || !regexp.MustCompile(`^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$`).MatchString(lines[0]) {
		t.Fatalf("den ps: want docker's header and web alone:\n%s", strings.Join(lines, "\n"))
	}
	if !regexp.MustCompile(`^[0-9a-f]{12} .*"sleep 300" .* Up (Less than a second|\d+ seconds?) +` + regexp.QuoteMeta(published) + ` +web$`).MatchString(lines[1]) {
		t.Fatalf("den ps row: %q", lines[1])
	}
	if out := e.ok("ps", "-a").stdout; !regexp.MustCompile(`Exited \(3\) (Less than a second|\d+ seconds?) ago +done`).MatchString(out) {
		t.Fatalf("den ps -a: no exited row for done:\n%s", out)
	}
	ids := strings.Fields(e.ok("ps", "-aq").stdout)
	if len(ids) != 2 || len(ids[0]) != 12 || !isHex(ids[0]) {
		t.Fatalf("den ps -aq: %q", ids)
	}
	if full := strings.Fields(e.ok("ps", "-aq", "--no-trunc").stdout); len(full) != 2 || !strings.HasPrefix(full[0], ids[0]) || len(full[0]) != 64 {
		t.Fatalf("den ps -aq --no-trunc: %q", full)
	}
	if out := e.ok("ps", "-a", "--format", "{{.Names}} {{.State}}").stdout; out != "done exited\nweb running\n" {
		t.Fatalf("den ps --format template (newest first): %q", out)
	}
	if out := e.ok("ps", "--format", `table {{.Names}}\t{{.Ports}}`).stdout; !regexp.MustCompile(`^NAMES +PORTS\nweb +` + regexp.QuoteMeta(published) + `\n$`).MatchString(out) {
		t.Fatalf("den ps --format 'table ...': %q", out)
	}

	rows := jsonLines(t, e.ok("ps", "-a", "--format", "json").stdout)
	if len(rows) != 2 {
		t.Fatalf("den ps -a --format json: %v", rows)
	}
	web, done := rows[1], rows[0]
	for _, k := range []string{"ID", "Image", "Command", "CreatedAt", "RunningFor", "Status", "Ports", "Names", "State", "Labels", "Mounts", "Networks"} {
		if _, ok := web[k]; !ok {
			t.Errorf("den ps --format json has no %q: %v", k, web)
		}
	}
	if web["Names"] != "web" || web["State"] != "running" || web["Ports"] != published || web["Image"] != ref || web["Command"] != `"sleep 300"` {
		t.Fatalf("den ps json of web: %v", web)
	}
	if done["State"] != "exited" || !strings.HasPrefix(done["Status"].(string), "Exited (3) ") || done["Ports"] != "" {
		t.Fatalf("den ps json of done: %v", done)
	}
	if same := e.ok("ps", "-a", "--format", "{{json .}}").stdout; len(jsonLines(t, same)) != 2 {
		t.Fatalf("{{json .}}: %s", same)
	}

	psFilters(t, e, ref)
	psBadInput(t, e)
}

func psFilters(t *testing.T, e *env, ref string) {
	names := func(args ...string) string {
		return strings.Join(strings.Fields(e.ok(append([]string{"ps", "--format", "{{.Names}}"}, args...)...).stdout), ",")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-f", "name=we"}, "web"},
		{[]string{"-f", "status=exited"}, "done"}, // without -a, as docker's
		{[]string{"-a", "-f", "ancestor=" + ref}, "done,web"},
		{[]string{"-a", "-f", "status=running", "-f", "status=exited"}, "done,web"},
		{[]string{"-a", "-f", "name=web", "-f", "status=exited"}, ""},
		{[]string{"-a", "-f", "label=nope"}, ""},
		{[]string{"-n", "1"}, "done"},
		{[]string{"-l"}, "done"},
	} {
		if got := names(c.args...); got != c.want {
			t.Errorf("den ps %v: %q, want %q", c.args, got, c.want)
		}
	}
}

func psBadInput(t *testing.T, e *env) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "{{.Nope}}"}, "template parsing error"},
		{[]string{"--format", "{{.ID"}, "template parsing error"},
		{[]string{"--format", "yaml"}, "unknown --format"},
		{[]string{"-f", "colour=red"}, "invalid filter"},
		{[]string{"-f", "status=zombie"}, "invalid filter"},
		{[]string{"-f", "name"}, "invalid filter"},
	} {
		r := e.den(append([]string{"ps"}, c.args...)...)
		oneLineError(t, r, c.want)
		if r.code != 1 || r.stdout != "" {
			t.Errorf("den ps %v: exit %d, stdout %q: want 1 and nothing", c.args, r.code, r.stdout)
		}
	}
}

func TestInspectFormats(t *testing.T) {
	e, ref := pulled(t)
	port := twoContainers(t, e, ref)

	out := e.ok("inspect", "-f", "{{.State.Status}} {{.State.Running}} {{.Name}} {{.Path}} {{json .Args}} {{.HostConfig.NetworkMode}}", "web").stdout
	if !regexp.MustCompile(`^running true /web sleep \["300"\] (pasta|slirp4netns|builtin)\n$`).MatchString(out) {
		t.Fatalf("den inspect -f of web: %q", out)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(e.ok("inspect", "-f", "{{.State.Pid}}", "web").stdout))
	if _, serr := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil || pid <= 0 || serr != nil {
		t.Fatalf("den inspect -f {{.State.Pid}}: %d (%v, %v): want the running init's pid", pid, err, serr)
	}
	hostPort := e.ok("inspect", "-f", `{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}`, "web").stdout
	if hostPort != strconv.Itoa(port)+"\n" {
		t.Fatalf("inspect's NetworkSettings.Ports: %q, den port says %d", hostPort, port)
	}

	var both []struct {
		ID      string `json:"Id"`
		Name    string
		Created string
		Image   string
		State   struct {
			Status                string
			Running               bool
			ExitCode              int
			StartedAt, FinishedAt string
		}
		Config struct {
			Hostname, Image, StopSignal string
			Cmd, Env                    []string
		}
		HostConfig struct {
			PortBindings map[string][]struct{ HostIP, HostPort string } `json:"PortBindings"`
			AutoRemove   bool
		}
		Mounts []any
	}
	r := e.ok("inspect", "--format", "json", "web", "done")
	if strings.Count(r.stdout, "\n") != 1 || json.Unmarshal([]byte(r.stdout), &both) != nil || len(both) != 2 {
		t.Fatalf("den inspect --format json: want a one-line array of two: %s", r.stdout)
	}
	web, done := both[0], both[1]
	if web.HostConfig.PortBindings["80/tcp"] == nil || web.HostConfig.PortBindings["80/tcp"][0].HostPort != "" {
		t.Errorf("HostConfig.PortBindings of -p 80: %+v", web.HostConfig.PortBindings)
	}
	if done.Name != "/done" || done.State.Status != "exited" || done.State.ExitCode != 3 || done.State.Running ||
		!strings.HasPrefix(done.Image, "sha256:") || done.Config.Image != ref || done.Config.StopSignal != "SIGTERM" ||
		done.Config.Hostname != done.ID[:12] || done.Mounts == nil {
		t.Errorf("den inspect done: %+v", done)
	}
	if !strings.HasPrefix(e.ok("inspect", "done").stdout, "[\n    {\n        \"Id\": ") {
		t.Errorf("den inspect: want docker's array indented by four spaces")
	}

	var img []struct {
		ID       string `json:"Id"`
		RepoTags []string
		Os       string
		Config   struct{ Cmd []string }
		RootFS   struct {
			Type   string
			Layers []string
		}
	}
	r = e.ok("inspect", "--type", "image", ref)
	if json.Unmarshal([]byte(r.stdout), &img) != nil || len(img) != 1 || !strings.HasPrefix(img[0].ID, "sha256:") ||
		len(img[0].RepoTags) != 1 || img[0].Os != "linux" || img[0].Config.Cmd[0] != "sh" || img[0].RootFS.Type != "layers" || len(img[0].RootFS.Layers) == 0 {
		t.Fatalf("den inspect --type image: %s", r.stdout)
	}

	inspectBadInput(t, e, ref)
}

// inspectBadInput: one line each, and what was found is still printed.
func inspectBadInput(t *testing.T, e *env, ref string) {
	r := e.den("inspect", "nope")
	oneLineError(t, r, "no such container or image", "nope")
	if r.code != 1 || strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("den inspect nope: %s", r)
	}
	r = e.den("inspect", "-f", "{{.Name}}", "web", "nope")
	if r.code != 1 || r.stdout != "/web\n" {
		t.Errorf("den inspect web nope: %s", r)
	}
	oneLineError(t, e.den("inspect", "--type", "container", ref), "no such container")
	oneLineError(t, e.den("inspect", "--type", "volume", "web"), "--type")
	r = e.den("inspect", "-f", "{{.Nope}}", "web")
	oneLineError(t, r, "template parsing error", "Nope")
	if r.code != 1 {
		t.Errorf("den inspect -f {{.Nope}}: exit %d, want 1", r.code)
	}
	r = e.den("inspect", "-f", "{{.State", "web")
	oneLineError(t, r, "template parsing error")
	if r.code != 64 {
		t.Errorf("den inspect -f {{.State: exit %d, want docker's 64", r.code)
	}
}

func TestPortAndTop(t *testing.T) {
	e, ref := pulled(t)
	port := twoContainers(t, e, ref)
	if out := e.ok("port", "web").stdout; out != "80/tcp -> 0.0.0.0:"+strconv.Itoa(port)+"\n" {
		t.Fatalf("den port web: %q", out)
	}
	if out := e.ok("port", "web", "80/tcp").stdout; out != "0.0.0.0:"+strconv.Itoa(port)+"\n" {
		t.Fatalf("den port web 80/tcp: %q", out)
	}
	if out := e.ok("port", "done").stdout; out != "" {
		t.Fatalf("den port of a stopped container: %q, want nothing (as docker)", out)
	}
	oneLineError(t, e.den("port", "web", "81"), "no public port 81/tcp")
	oneLineError(t, e.den("port", "web", "80/udp"), "no public port 80/udp")
	oneLineError(t, e.den("port", "done", "80"), "no public port")
	oneLineError(t, e.den("port", "web", "http"), "invalid port")
	oneLineError(t, e.den("port", "nope"), "no such container", "nope")

	out := e.ok("top", "web").stdout
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !regexp.MustCompile(`^UID +PID +PPID +C +STIME +TTY +TIME +CMD$`).MatchString(lines[0]) || !strings.Contains(out, "sleep 300") {
		t.Fatalf("den top web (ps -ef's columns, the container's sleep): %s", out)
	}
	for _, l := range lines[1:] {
		if strings.Contains(l, "den top") || strings.Contains(l, "ps -ef") {
			t.Fatalf("den top lists a process outside the container: %q", l)
		}
	}
	out = e.ok("top", "web", "-o", "pid,args").stdout
	if !regexp.MustCompile(`^ *PID +COMMAND\n`).MatchString(out) || !strings.Contains(out, "sleep 300") {
		t.Fatalf("den top web -o pid,args: %s", out)
	}
	oneLineError(t, e.den("top", "done"), "done", "not running")
	oneLineError(t, e.den("top", "nope"), "no such container", "nope")
	oneLineError(t, e.den("top", "web", "-o", "comm"), "PID")
	oneLineError(t, e.den("top", "web", "--no-such-ps-option"), "ps")
}

// What scripts do with docker: den stop $(den ps -q), den rm $(den ps -aq).
func TestPsQuietFeedsStopAndRm(t *testing.T) {
	e, ref := pulled(t)
	e.ok("run", "--name", "ended", "--network", "none", ref, "true")
	e.ok("run", "-d", "--name", "up", "--network", "none", ref, "sleep", "300")
	running := strings.Fields(e.ok("ps", "-q").stdout)
	if len(running) != 1 {
		t.Fatalf("den ps -q: %q", running)
	}
	if r := e.ok(append([]string{"stop", "-t", "1"}, running...)...); strings.Fields(r.stdout)[0] != running[0] {
		t.Fatalf("den stop $(den ps -q) prints the id it was given: %s", r)
	}
	all := strings.Fields(e.ok("ps", "-aq").stdout)
	if len(all) != 2 {
		t.Fatalf("den ps -aq: %q", all)
	}
	if r := e.ok(append([]string{"rm"}, all...)...); strings.Join(strings.Fields(r.stdout), " ") != strings.Join(all, " ") {
		t.Fatalf("den rm $(den ps -aq) prints the ids it was given: %s", r)
	}
	if left := e.ok("ps", "-aq").stdout; left != "" {
		t.Fatalf("containers left after den rm $(den ps -aq): %q", left)
	}
}
