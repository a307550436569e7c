package e2e

import (
	"archive/tar"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/denproject/den/internal/testimage"
)

// docker's default capability set, as /proc/self/status prints it.
const defaultCapEff = "00000000a80425fb"

func statusField(t *testing.T, status, field string) string {
	t.Helper()
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in %q", field, status)
	return ""
}

func TestDefaultSandbox(t *testing.T) {
	e, ref := pulled(t)
	st := e.ok("run", "--rm", ref, "cat", "/proc/self/status").stdout
	if got := statusField(t, st, "CapEff"); got != defaultCapEff {
		t.Errorf("CapEff %s, want docker's default %s", got, defaultCapEff)
	}
	if got := statusField(t, st, "CapBnd"); got != defaultCapEff {
		t.Errorf("CapBnd %s, want %s", got, defaultCapEff)
	}
	if statusField(t, st, "NoNewPrivs") != "1" || statusField(t, st, "Seccomp") != "2" {
		t.Errorf("NoNewPrivs and Seccomp: %s", st)
	}
	r := e.den("run", "--rm", ref, "unshare", "-U", "true")
	if r.code == 0 || !strings.Contains(r.stderr, "Operation not permitted") {
		t.Errorf("seccomp let unshare(CLONE_NEWUSER) through: %s", r)
	}
	// The filter must not break ordinary process creation.
	if r := e.ok("run", "--rm", ref, "sh", "-c", "sleep 0.01 & wait; echo forked"); r.stdout != "forked\n" {
		t.Errorf("fork under seccomp: %s", r)
	}
	if r := e.den("run", "--rm", "--security-opt", "seccomp=unconfined", ref, "unshare", "-U", "true"); r.code != 0 {
		t.Errorf("seccomp=unconfined still filters: %s", r)
	}
	if st := e.ok("run", "--rm", "--security-opt", "no-new-privileges=false", ref, "cat", "/proc/self/status").stdout; statusField(t, st, "NoNewPrivs") != "0" {
		t.Errorf("no-new-privileges=false ignored")
	}
}

func TestCapabilityFlags(t *testing.T) {
	e, ref := pulled(t)
	capEff := func(args ...string) string {
		a := append(append([]string{"run", "--rm"}, args...), ref, "cat", "/proc/self/status")
		return statusField(t, e.ok(a...).stdout, "CapEff")
	}
	if got := capEff("--cap-drop", "ALL"); got != "0000000000000000" {
		t.Errorf("--cap-drop ALL: CapEff %s", got)
	}
	if got := capEff("--cap-add", "SYS_ADMIN"); got != "00000000a82425fb" {
		t.Errorf("--cap-add SYS_ADMIN: CapEff %s", got)
	}
	if got := capEff("--cap-drop", "CAP_CHOWN", "--cap-drop", "net_raw"); got != "00000000a80405fa" {
		t.Errorf("--cap-drop CHOWN NET_RAW: CapEff %s", got)
	}
	if r := e.ok("run", "--rm", "--cap-add", "SYS_ADMIN", ref, "unshare", "-U", "true"); r.code != 0 {
		t.Errorf("SYS_ADMIN allows the namespace syscalls, as docker's profile does")
	}
	st := e.ok("run", "--rm", "--privileged", ref, "cat", "/proc/self/status").stdout
	if statusField(t, st, "Seccomp") != "0" || statusField(t, st, "CapEff") == defaultCapEff {
		t.Errorf("--privileged: %s", st)
	}
	oneLineError(t, e.den("run", "--rm", "--cap-add", "WIZARDRY", ref, "true"), "WIZARDRY")
	oneLineError(t, e.den("run", "--rm", "--security-opt", "seccomp="+filepath.Join(e.dir, "none.json"), ref, "true"), "none.json")
	// As with docker, a non-root user has the set only as its bounds: no
	// capability in effect, none ambient or inheritable to pass on.
	st = e.ok("run", "--rm", "-u", "1000", ref, "cat", "/proc/self/status").stdout
	for field, want := range map[string]string{"CapEff": "0000000000000000", "CapPrm": "0000000000000000",
		"CapAmb": "0000000000000000", "CapInh": "0000000000000000", "CapBnd": defaultCapEff} {
		if got := statusField(t, st, field); got != want {
			t.Errorf("-u 1000: %s %s, want %s", field, got, want)
		}
	}
}

func TestSeccompProfileFile(t *testing.T) {
	e, ref := pulled(t)
	// A docker-format profile that allows everything but uname.
	prof := filepath.Join(e.dir, "profile.json")
	os.WriteFile(prof, []byte(`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
		{"names":["uname"],"action":"SCMP_ACT_ERRNO","errnoRet":1},
		{"names":["uname"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_MODULE"]}}]}`), 0o644)
	r := e.den("run", "--rm", "--security-opt", "seccomp="+prof, ref, "true")
	// Everything else is denied, so even exec fails: the profile is in force.
	if r.code == 0 {
		t.Fatalf("a deny-all profile let the command run: %s", r)
	}
	// An allow-by-default profile, as docker takes it: only mkdir refused.
	os.WriteFile(prof, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}`), 0o644)
	if r := e.den("run", "--rm", "--security-opt", "seccomp="+prof, ref, "sh", "-c", "unshare -U true && mkdir /x"); r.code == 0 || !strings.Contains(r.stderr, "Permission denied") {
		t.Errorf("allow-by-default profile: %s", r)
	}
	for _, bad := range []string{`{"defaultAction":"SCMP_ACT_DANCE"}`, `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_NOTIFY"}]}`, `[`} {
		os.WriteFile(prof, []byte(bad), 0o644)
		oneLineError(t, e.den("run", "--rm", "--security-opt", "seccomp="+prof, ref, "true"), "profile.json")
	}
}

// docker's masked and read-only paths (moby's daemon/pkg/oci defaults),
// besides each CPU's thermal_throttle directory.
var (
	dockerMasked = []string{"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/sched_debug", "/proc/scsi", "/proc/timer_list", "/proc/timer_stats",
		"/sys/devices/virtual/powercap", "/sys/firmware"}
	dockerReadonly = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

// TestMaskedAndReadOnlyPaths checks docker's lists path by path: a masked
// file reads empty, a masked directory lists nothing, each is a mount of
// its own; a read-only path is a read-only mount and refuses writes.
func TestMaskedAndReadOnlyPaths(t *testing.T) {
	e, ref := pulled(t)
	throttle, _ := filepath.Glob("/sys/devices/system/cpu/cpu[0-9]*/thermal_throttle")
	masked := append(append([]string{}, dockerMasked...), throttle...)
	script := `mopts() { awk -v p="$1" '$5==p {o=$6} END {print o}' /proc/self/mountinfo; }
		for p in ` + strings.Join(masked, " ") + `; do
			if [ -d $p ]; then echo "$p dir $(ls -A $p | wc -l) $(mopts $p)"
			elif [ -e $p ]; then echo "$p file $(cat $p 2>/dev/null | wc -c) $(mopts $p)"
			else echo "$p absent"; fi
		done
		for p in ` + strings.Join(dockerReadonly, " ") + `; do [ -e $p ] && echo "$p ro $(mopts $p)" || echo "$p absent"; done
		echo 1 > /proc/sys/kernel/panic && echo "/proc/sys written"
		echo b > /proc/sysrq-trigger && echo "/proc/sysrq-trigger written"; true`
	r := e.ok("run", "--rm", ref, "sh", "-c", script)
	seen := map[string]bool{}
	present := 0
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		f := strings.Fields(line)
		seen[f[0]] = true
		switch {
		case strings.HasSuffix(line, "written"):
			t.Errorf("a read-only path was written: %s", line)
		case f[1] == "absent":
			t.Logf("%s: not on this kernel", f[0])
		case f[1] == "ro":
			if len(f) < 3 || !strings.HasPrefix(f[2], "ro,") && f[2] != "ro" {
				t.Errorf("%s is not a read-only mount: %q", f[0], line)
			}
		case len(f) < 4 || f[2] != "0" || f[3] == "":
			t.Errorf("%s is not masked (entries or bytes, mount options): %q", f[0], line)
		default:
			present++
		}
	}
	for _, p := range append(masked, dockerReadonly...) {
		if !seen[p] {
			t.Errorf("%s was not checked: %s", p, r)
		}
	}
	if present < 3 {
		t.Errorf("only %d masked paths exist here; the check proves little: %s", present, r)
	}
	// Without masking the same paths have content: the check can fail.
	if r := e.ok("run", "--rm", "--privileged", ref, "sh", "-c", "cat /proc/interrupts | wc -c"); strings.TrimSpace(r.stdout) == "0" {
		t.Errorf("/proc/interrupts is empty even unmasked: %s", r)
	}
	r = e.den("run", "--rm", "--read-only", ref, "touch", "/newfile")
	if r.code == 0 || !strings.Contains(r.stderr, "Read-only") {
		t.Errorf("--read-only accepted a write to /: %s", r)
	}
	if r := e.ok("run", "--rm", "--read-only", ref, "sh", "-c", "touch /tmp/a /run/b /var/tmp/c 2>&1 || mkdir -p /var/tmp; echo ok"); !strings.Contains(r.stdout, "ok") {
		t.Errorf("--read-only: /tmp, /run not writable: %s", r)
	}
	if r := e.ok("run", "--rm", "--read-only", "--tmpfs", "/data:size=1m,noexec", ref, "sh", "-c", "echo x > /data/f && grep ' /data ' /proc/mounts"); !strings.Contains(r.stdout, "noexec") || !strings.Contains(r.stdout, "size=1024k") {
		t.Errorf("--tmpfs options: %s", r)
	}
}

func TestSetuidBinaryGainsNothing(t *testing.T) {
	e, ref := probeImageMode(t, "test/suid:1", 0o4755)
	if r := e.ok("run", "--rm", "-u", "1000", ref, "/bin/probe"); r.stdout != "euid=1000\n" {
		t.Fatalf("a setuid-root binary raised the user: %s", r)
	}
	// The same image without no_new_privs does become root: the check above
	// is what stops it.
	if r := e.ok("run", "--rm", "-u", "1000", "--security-opt", "no-new-privileges=false", ref, "/bin/probe"); r.stdout != "euid=0\n" {
		t.Fatalf("without no_new_privs the probe should run as root: %s", r)
	}
}

// hostileCase is a crafted layer and what the refusal must name.
type hostileCase struct {
	name    string
	entries []testimage.Entry
	refuse  string // "" when the layer is neutralised, not refused
}

func hostileCases(canary string) []hostileCase {
	up := strings.Repeat("../", 12)
	return []hostileCase{
		{"dotdot", []testimage.Entry{{Name: up + strings.TrimPrefix(canary, "/"), Body: "owned\n"}}, "climbs out"},
		{"absolute", []testimage.Entry{{Name: canary, Body: "owned\n"}}, "absolute path"},
		{"hardlink-out", []testimage.Entry{{Name: "stolen", Type: tar.TypeLink, Link: up + strings.TrimPrefix(canary, "/")}}, "climbs out"},
		{"through-symlink", []testimage.Entry{
			{Name: "evil", Type: tar.TypeSymlink, Link: filepath.Dir(canary), Mode: 0o777},
			{Name: "evil/" + filepath.Base(canary), Body: "owned\n"}}, "through the symlink"},
		{"relative-symlink-through", []testimage.Entry{
			{Name: "rel", Type: tar.TypeSymlink, Link: up + strings.TrimPrefix(filepath.Dir(canary), "/"), Mode: 0o777},
			{Name: "rel/" + filepath.Base(canary), Body: "owned\n"}}, "through the symlink"},
		{"whiteout-dotdot", []testimage.Entry{{Name: "etc/.wh..."}}, "whiteout"},
		{"device", []testimage.Entry{{Name: "dev/evil", Type: tar.TypeChar, Mode: 0o666}}, ""},
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestHostileLayersCannotEscape(t *testing.T) {
	bb, _ := images(t)
	outside := t.TempDir()
	canary := filepath.Join(outside, "canary")
	if err := os.WriteFile(canary, []byte("original\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := listDir(t, outside)
	for _, c := range hostileCases(canary) {
		t.Run(c.name, func(t *testing.T) {
			l, err := testimage.Layer(c.entries)
			if err != nil {
				t.Fatal(err)
			}
			base, _ := bb.Layers()
			img, err := testimage.Image([]string{"sh"}, append(append([]v1.Layer{}, base...), l)...)
			if err != nil {
				t.Fatal(err)
			}
			reg := newRegistry(t)
			ref := reg.push(t, "test/hostile:"+c.name, img)
			e := newEnv(t)
			r := e.den("pull", ref)
			if c.refuse != "" {
				oneLineError(t, r, "layer 2/2", c.refuse, c.entries[len(c.entries)-1].Name[:min(8, len(c.entries[len(c.entries)-1].Name))])
				if staged, _ := filepath.Glob(filepath.Join(e.store(), "overlay", "staging", "*", "dir")); len(staged) != 0 {
					t.Errorf("a refused layer left staged files: %v", staged)
				}
			} else {
				if r.code != 0 {
					t.Fatalf("pull: %s", r)
				}
				if !strings.Contains(r.stderr, "skipping device node") {
					t.Errorf("the skipped device is not reported: %s", r)
				}
				e.ok("run", "--rm", ref, "true")
			}
			if b, _ := os.ReadFile(canary); string(b) != "original\n" {
				t.Fatalf("the canary outside the store changed: %q", b)
			}
			if after := listDir(t, outside); strings.Join(after, ",") != strings.Join(before, ",") {
				t.Fatalf("files appeared outside the store: %v", after)
			}
		})
	}
}

func TestVolumeDestinationStaysInRootfs(t *testing.T) {
	bb, _ := images(t)
	hostDir := t.TempDir()
	base, _ := bb.Layers()
	// The image aims /mnt/escape at a host path; den must resolve it inside
	// the container's root.
	l, err := testimage.Layer([]testimage.Entry{{Name: "mnt/", Type: tar.TypeDir}, {Name: "mnt/escape", Type: tar.TypeSymlink, Link: hostDir, Mode: 0o777}})
	if err != nil {
		t.Fatal(err)
	}
	img, err := testimage.Image([]string{"sh"}, append(append([]v1.Layer{}, base...), l)...)
	if err != nil {
		t.Fatal(err)
	}
	reg := newRegistry(t)
	ref := reg.push(t, "test/escape:1", img)
	e := newEnv(t)
	vol := filepath.Join(e.dir, "vol")
	os.Mkdir(vol, 0o755)
	os.WriteFile(filepath.Join(vol, "marker"), []byte("vol\n"), 0o644)
	r := e.ok("pull", "-q", ref)
	r = e.ok("run", "--rm", "-v", vol+":/mnt/escape", ref, "sh", "-c", "cat "+hostDir+"/marker; touch /mnt/escape/new")
	if r.stdout != "vol\n" {
		t.Fatalf("the volume is not at the symlink's target inside the rootfs: %s", r)
	}
	if ents := listDir(t, hostDir); len(ents) != 0 {
		t.Fatalf("the host directory the image aimed at was touched: %v", ents)
	}
}

func TestDecompressionBombIsRefused(t *testing.T) {
	bb, _ := images(t)
	base, _ := bb.Layers()
	// 8 MiB of zeros compress to a few KiB.
	l, err := testimage.Layer([]testimage.Entry{{Name: "bomb", Body: strings.Repeat("\x00", 8<<20)}})
	if err != nil {
		t.Fatal(err)
	}
	if sz, _ := l.Size(); sz > 1<<20 {
		t.Fatalf("the bomb is not compressed: %d", sz)
	}
	img, err := testimage.Image([]string{"sh"}, append(append([]v1.Layer{}, base...), l)...)
	if err != nil {
		t.Fatal(err)
	}
	reg := newRegistry(t)
	ref := reg.push(t, "test/bomb:1", img)
	e := newEnv(t)
	oneLineError(t, e.den("--max-layer-size", "4194304", "pull", ref), "layer 2/2", "--max-layer-size")
	if rows := imageRows(t, e); len(rows) != 0 {
		t.Fatalf("a refused image was stored: %v", rows)
	}
	e.ok("pull", "-q", ref) // the default limit is generous
}

// TestInitIsOutOfReach: the command cannot reach the init's descriptors
// (the control socket to den among them), its root or its executable (den's
// binary on the host) through /proc/1, as root or as another user.
func TestInitIsOutOfReach(t *testing.T) {
	e, ref := probeImage(t)
	var paths []string
	for fd := 0; fd < 12; fd++ {
		paths = append(paths, fmt.Sprintf("/proc/1/fd/%d", fd))
	}
	paths = append(paths, "/proc/1/exe", "/proc/1/root/tmp/planted", "/proc/1/cwd/planted")
	for _, user := range [][]string{nil, {"-u", "1000"}} {
		for _, mode := range []string{"w", "c", "r"} {
			args := append(append([]string{"run", "--rm"}, user...), ref, "/bin/probe", "open", mode)
			r := e.ok(append(args, paths...)...)
			for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
				f := strings.Fields(line)
				if len(f) != 2 || f[1] == "ok" || f[1] == "ENOENT" && !strings.HasPrefix(f[0], "/proc/1/fd/") {
					t.Errorf("%v open %s: %s", user, mode, line)
				}
			}
		}
	}
	// The command itself stays dumpable (a debugger inside works) and its
	// own /proc entries stay open to it.
	if r := e.ok("run", "--rm", ref, "/bin/probe", "open", "r", "/proc/self/exe", "/proc/self/fd/0"); strings.Count(r.stdout, " ok") != 2 {
		t.Errorf("the command cannot read its own /proc entries: %s", r)
	}
}
