package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const (
	doctorFaultTest = "TestDoctorFault"
	envFault        = "DEN_E2E_FAULT"     // the fault the harness made, as root
	envFaultDir     = "DEN_E2E_FAULT_DIR" // a directory of the harness's, for paths in the lines
)

func doctorLines(r result) []string {
	return strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
}

// hasLine fails unless den doctor printed want, and, when fix is given,
// the fix line right under it.
func hasLine(t *testing.T, r result, want, fix string) {
	t.Helper()
	lines := doctorLines(r)
	for i, l := range lines {
		if l != want {
			continue
		}
		if fix == "" {
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "      fix:") {
				t.Fatalf("%q has a fix line: %q", want, lines[i+1])
			}
			return
		}
		if i+1 >= len(lines) || lines[i+1] != "      fix: "+fix {
			t.Fatalf("under %q, want the fix %q; output:\n%s", want, fix, r.stdout)
		}
		return
	}
	t.Fatalf("den doctor did not print %q; output:\n%s\nstderr: %s", want, r.stdout, r.stderr)
}

// usageFailure checks a refused command line: exit 1, the cause on one
// line (starting with first), then cobra's pointer to --help.
func usageFailure(t *testing.T, r result, first string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if r.code != 1 || r.stdout != "" || len(lines) != 2 || !strings.HasPrefix(lines[0], first) || !strings.HasSuffix(lines[1], "--help'.") {
		t.Fatalf("want exit 1 and %q: %s", first, r)
	}
}

func me(t *testing.T) *user.User {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestDoctorAsIs: on the test machine den run works, so nothing fails;
// these machines run cgroup v1 with an empty v2 hierarchy, a warning.
func TestDoctorAsIs(t *testing.T) {
	e := newEnv(t)
	r := e.den("doctor")
	if r.code != 0 || strings.Contains(r.stdout, "\nfail  ") || r.stderr != "" {
		t.Fatalf("den doctor on a working host: %s", r)
	}
	checks := regexp.MustCompile(`(?m)^(ok  |warn|fail)  [^:]+: `).FindAllString(r.stdout, -1)
	if len(checks) < 10 {
		t.Fatalf("%d check lines: %s", len(checks), r.stdout)
	}
	hasLine(t, r, "ok    den's namespace: den enters its user and mount namespace as den run does", "")
	hasLine(t, r, "ok    overlay: native overlay works in den's user namespace", "")
	hasLine(t, r, "ok    /dev/net/tun: usable", "")
	hasLine(t, r, "ok    runtime dir: "+filepath.Join(e.run, "den")+" (from XDG_RUNTIME_DIR)", "")
	if !regexp.MustCompile(`(?m)^warn  cgroups: cgroup v1`).MatchString(r.stdout) {
		t.Fatalf("no cgroup v1 warning: %s", r.stdout)
	}
	if !regexp.MustCompile(`(?m)^ok    subuid range: /etc/subuid: \d+ ids from \d+$`).MatchString(r.stdout) {
		t.Fatalf("no subuid line: %s", r.stdout)
	}

	j := e.ok("doctor", "--format", "json")
	var parsed []struct{ Name, Status, Detail, Fix string }
	if err := json.Unmarshal([]byte(j.stdout), &parsed); err != nil || len(parsed) != len(checks) {
		t.Fatalf("den doctor --format json: %v: %s", err, j.stdout)
	}
	for _, c := range parsed {
		if (c.Status == "ok") != (c.Fix == "") && c.Status != "warn" {
			t.Fatalf("check %+v: a fault without a fix, or an ok with one", c)
		}
	}

	usageFailure(t, e.den("doctor", "--format", "yaml"), `den: unknown --format "yaml": use text or json`)
	oneLineError(t, e.den("doctor", "now"), `den: unknown command "now" for "den doctor"`)
}

// TestDoctorNewuidmapWithoutSetuid puts copies of the mappers (a copy
// loses the setuid bit) first in PATH, where den looks them up: den run
// would fail, so doctor fails, and points back at the system's copies.
func TestDoctorNewuidmapWithoutSetuid(t *testing.T) {
	e := newEnv(t)
	bin := t.TempDir()
	for _, p := range []string{"newuidmap", "newgidmap"} {
		src, err := exec.LookPath(p)
		if err != nil {
			t.Skipf("%s is not installed", p)
		}
		if err := copyFile(src, filepath.Join(bin, p)); err != nil {
			t.Fatal(err)
		}
	}
	e.path = bin + ":" + e.path
	r := e.den("doctor")
	if r.code != 1 {
		t.Fatalf("want exit 1: %s", r)
	}
	hasLine(t, r, fmt.Sprintf("fail  newuidmap/newgidmap: %s/newuidmap is neither setuid root nor has file capabilities (mode 0755, owner uid %s): den cannot map your subordinate ids", bin, me(t).Uid),
		"export PATH=/usr/bin:$PATH")
	if !regexp.MustCompile(`(?m)^fail  den's namespace: .*newuidmap.* \(the failures above are the cause\)$`).MatchString(r.stdout) {
		t.Fatalf("the namespace line does not fail: %s", r.stdout)
	}
	// doctor is right: den run fails the same way.
	run := e.den("run", "--rm", "--network", "none", "nonexistent-image", "true")
	oneLineError(t, run, bin+"/newuidmap", "setuid")
}

// TestDoctorInfo: den info gives the facts, and counts what the store holds.
func TestDoctorInfo(t *testing.T) {
	e, ref := pulled(t)
	e.ok("run", "--name", "info-c", "--network", "none", ref, "true")
	r := e.ok("info", "--format", "json")
	var in struct {
		Version string
		User    struct {
			Name   string
			UID    int
			UIDMap []struct{ Container, Host, Size int }
		}
		Store struct {
			Root, RuntimeDir, Driver string
			Images, Containers       int
		}
		Network struct{ Default string }
		Cgroup  struct{ Version string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &in); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	uid, _ := strconv.Atoi(me(t).Uid)
	if in.User.UID != uid || len(in.User.UIDMap) != 2 || in.User.UIDMap[0].Host != uid || in.User.UIDMap[1].Host != subuidBase(t) {
		t.Fatalf("user and id map: %+v", in.User)
	}
	if in.Store.Root != filepath.Join(e.data, "den") || in.Store.RuntimeDir != filepath.Join(e.run, "den") ||
		in.Store.Driver != "overlay" || in.Store.Images != 1 || in.Store.Containers != 1 {
		t.Fatalf("store: %+v", in.Store)
	}
	if in.Network.Default == "" || !strings.HasPrefix(in.Cgroup.Version, "v1") {
		t.Fatalf("network %+v cgroup %+v", in.Network, in.Cgroup)
	}
	text := e.ok("info")
	for _, want := range []string{"\n Images: 1\n", "\n Containers: 1\n", "\n  Stopped: 1\n", "\n Driver: overlay\n",
		fmt.Sprintf("\n UID Map: 0 %d 1, 1 %d 65536\n", uid, subuidBase(t))} {
		if !strings.Contains(text.stdout, want) {
			t.Fatalf("den info lacks %q:\n%s", want, text.stdout)
		}
	}
	if got := e.ok("info", "--format", "{{.Store.Images}}/{{.User.Name}}").stdout; got != "1/"+me(t).Username+"\n" {
		t.Fatalf("template: %q", got)
	}
	usageFailure(t, e.den("info", "--format", "yaml"), `den: unknown --format "yaml": use json or a Go template such as '{{.Store.Images}}'`)
	usageFailure(t, e.den("info", "--format", "{{.Nope"), "den: invalid --format template: ")
	oneLineError(t, e.den("info", "extra"), `den: unknown command "extra" for "den info"`)
}

// faults are the host faults the harness makes as root, each in a mount
// namespace of its own so that nothing outside sees it (other tests run
// meanwhile): setup runs there as root before den doctor's test does.
var faults = []struct {
	name, setup string
	subuid      string // the /etc/subuid and /etc/subgid the case sees, if not the host's
}{
	{name: "tun-0600", setup: "mount -t tmpfs -o mode=0755 tmpfs /dev/net && mknod -m 0600 /dev/net/tun c 10 200"},
	{name: "no-range", subuid: "someone:100000:65536\n"},
	{name: "duplicate", subuid: "dentest:300000:65536\nsomeone:400000:65536\ndentest:300000:65536\n"},
	{name: "overlap", subuid: "someone:250000:65536\ndentest:300000:65536\n"},
	{name: "small", subuid: "dentest:300000:1000\n"},
	{name: "noexec", setup: "mkdir -p $DEN_E2E_FAULT_DIR/noexec && mount -t tmpfs -o noexec,mode=0777 tmpfs $DEN_E2E_FAULT_DIR/noexec"},
	{name: "no-userns", setup: "echo 0 > $DEN_E2E_FAULT_DIR/zero && mount --bind $DEN_E2E_FAULT_DIR/zero /proc/sys/user/max_user_namespaces"},
}

// TestDoctorFault checks den doctor's line for the fault the harness made
// (one run of this test per fault, as root made them; see runDoctorFaults).
func TestDoctorFault(t *testing.T) {
	fault, dir := os.Getenv(envFault), os.Getenv(envFaultDir)
	if fault == "" {
		t.Skip("needs a host fault that the e2e harness makes as root when `make test` runs as root")
	}
	e := newEnv(t)
	name := me(t).Username
	var r result
	switch fault {
	case "tun-0600":
		r = e.den("doctor")
		hasLine(t, r, "fail  /dev/net/tun: not usable by "+name+" (mode 0600): the default network needs it (--network none|host work without)",
			"sudo chmod 0666 /dev/net/tun")
	case "no-range":
		r = e.den("doctor")
		hasLine(t, r, "warn  subuid range: no line for "+name+" in /etc/subuid: den maps only your own uid, so files owned by other users in images are stored as root",
			"sudo usermod --add-subuids 165536-231071 "+name)
		hasLine(t, r, "warn  subgid range: no line for "+name+" in /etc/subgid: den maps only your own uid, so files owned by other users in images are stored as root",
			"sudo usermod --add-subgids 165536-231071 "+name)
		hasLine(t, r, "ok    den's namespace: den enters its user and mount namespace as den run does", "")
	case "duplicate":
		r = e.den("doctor")
		hasLine(t, r, "warn  subuid range: line 3 of /etc/subuid repeats line 1 ("+name+":300000:65536)", "sudo sed -i '3d' /etc/subuid")
	case "overlap":
		r = e.den("doctor")
		hasLine(t, r, "warn  subuid range: your range 300000-365535 overlaps someone's 250000-315535 (line 1 of /etc/subuid): files of their containers and yours share owners",
			"sudo usermod --del-subuids 300000-365535 --add-subuids 365536-431071 "+name)
	case "small":
		r = e.den("doctor")
		hasLine(t, r, "warn  subuid range: "+name+" has 1000 ids in /etc/subuid (line 1), fewer than 65536: images with high uids (nobody = 65534) fail to unpack",
			"sudo usermod --del-subuids 300000-300999 --add-subuids 301000-366535 "+name)
	case "noexec":
		store := filepath.Join(dir, "noexec", name, "den")
		r = e.den("--root", store, "doctor")
		hasLine(t, r, "warn  store: "+store+" is on a noexec mount (tmpfs): den run works (its overlay mounts allow exec), but files bound in from the store cannot be executed",
			"sudo mount -o remount,exec "+filepath.Join(dir, "noexec")+" (or: den --root /path/on/a/local/disk/den ...)")
	case "no-userns":
		r = e.den("doctor")
		hasLine(t, r, "fail  user namespaces: user.max_user_namespaces is 0: no user namespace can be created",
			"sudo sysctl -w user.max_user_namespaces=28633 && echo user.max_user_namespaces=28633 | sudo tee /etc/sysctl.d/99-zz-den.conf")
	default:
		t.Fatalf("unknown fault %q", fault)
	}
	fails := strings.Contains(r.stdout, "\nfail  ") || strings.HasPrefix(r.stdout, "fail  ")
	if want := map[bool]int{true: 1, false: 0}[fails]; r.code != want {
		t.Fatalf("exit %d with fails=%v: only a fail makes den doctor exit non-zero: %s", r.code, fails, r)
	}
	t.Logf("den doctor with fault %s:\n%s", fault, r.stdout)
}

// runDoctorFaults runs TestDoctorFault once per fault, as the test user,
// in a private mount namespace where root made the fault (root only).
func runDoctorFaults(uid, gid int, bin, dir, tmp string, env []string) (int, error) {
	code := 0
	for _, f := range faults {
		script := ""
		if f.subuid != "" {
			file := filepath.Join(dir, "subid-"+f.name)
			if err := os.WriteFile(file, []byte(strings.ReplaceAll(f.subuid, "dentest", testUser)), 0o644); err != nil {
				return 0, err
			}
			script = fmt.Sprintf("mount --bind %s /etc/subuid && mount --bind %s /etc/subgid", file, file)
		}
		if f.setup != "" {
			script = f.setup
		}
		args := append([]string{"setpriv", "--reuid=" + strconv.Itoa(uid), "--regid=" + strconv.Itoa(gid), "--clear-groups", "--", bin},
			withRun(os.Args[1:], "^"+doctorFaultTest+"$")...)
		cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-ec", script+` && exec "$@"`, "sh")
		cmd.Args = append(cmd.Args, args...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		cmd.Dir = tmp
		cmd.Env = append(append([]string{}, env...), envFault+"="+f.name, envFaultDir+"="+dir)
		c, err := exitCode(cmd.Run())
		if err != nil {
			return 0, fmt.Errorf("fault %s: %w", f.name, err)
		}
		if code == 0 {
			code = c
		}
	}
	return code, nil
}

// selects says whether -test.run in args (if any) selects test.
func selects(args []string, test string) bool {
	pat := ""
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "-test.run="); ok {
			pat = v
		} else if a == "-test.run" && i+1 < len(args) {
			pat = args[i+1]
		}
	}
	if pat == "" {
		return true
	}
	re, err := regexp.Compile(strings.Split(pat, "/")[0])
	return err == nil && re.MatchString(test)
}
