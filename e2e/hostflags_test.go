package e2e

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// --userns=keep-id: the user's ids inside, with a passwd entry; a file
// made in a bind mount is the user's on the host; root and the image's
// owners still show as themselves, and the subordinate range stays mapped.
func TestKeepID(t *testing.T) {
	base := subuidBase(t)
	e, ref := pulled(t)
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	vol := filepath.Join(e.dir, "vol")
	if err := os.Mkdir(vol, 0o755); err != nil {
		t.Fatal(err)
	}
	r := e.ok("run", "--rm", "--userns=keep-id", "-v", vol+":/vol", ref, "sh", "-c",
		"id -u; id -g; id -un; touch /vol/mine; stat -c %U:%u /etc/passwd /bin/busybox; ls -ln / | grep ' root$' | awk '{print $3}'; cat /proc/self/uid_map; grep CapBnd /proc/self/status")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) < 8 {
		t.Fatalf("output: %s", r)
	}
	if lines[0] != me.Uid || lines[1] != me.Gid || lines[2] != me.Username {
		t.Errorf("id inside: %q, want %s %s %s", lines[:3], me.Uid, me.Gid, me.Username)
	}
	if lines[3] != "root:0" || lines[4] != "root:0" {
		t.Errorf("image files show owners %q, want root:0", lines[3:5])
	}
	if lines[5] != "0" {
		t.Errorf("/root is owned by %q inside, want 0", lines[5])
	}
	if st := stat(t, filepath.Join(vol, "mine")); int(st.Uid) != os.Getuid() || int(st.Gid) != os.Getgid() {
		t.Errorf("file made in the bind mount is %d:%d on the host, want %d:%d", st.Uid, st.Gid, os.Getuid(), os.Getgid())
	}
	total := 0
	for _, l := range lines[6:] {
		if f := strings.Fields(l); len(f) == 3 {
			n, _ := strconv.Atoi(f[2])
			total += n
		}
	}
	if total != 65537 {
		t.Errorf("uid_map maps %d ids, want the user and the whole range (65537): %q", total, r.stdout)
	}
	// Root inside keeps docker's capabilities; uid 1000 is a subordinate
	// uid.
	r = e.ok("run", "--rm", "--userns=keep-id", "-u", "0", "-v", vol+":/vol", ref, "sh", "-c",
		"grep CapEff /proc/self/status; chown 1000:1000 /vol/mine && stat -c %u /vol/mine")
	if !strings.Contains(r.stdout, "CapEff:\t"+defaultCapEff) {
		t.Errorf("root under keep-id lacks docker's capabilities: %q", r.stdout)
	}
	// Inside, uids below yours sit one further into the range, as podman's.
	if st := stat(t, filepath.Join(vol, "mine")); int(st.Uid) != base+1000 {
		t.Errorf("chown 1000 inside gave host uid %d, want %d", st.Uid, base+1000)
	}

	// One shifted copy of the image serves every keep-id container: their
	// own layers copy nothing up. It is not listed, its containers are the
	// image's (ps's ancestor, rmi's refusal), and it goes with the image.
	for _, n := range []string{"k1", "k2"} {
		if r := e.ok("run", "--name", n, "--userns=keep-id", ref, "stat", "-c", "%U", "/bin/busybox"); r.stdout != "root\n" {
			t.Fatalf("%s: /bin/busybox shows %q", n, r.stdout)
		}
	}
	if in := allInLayers(e, "bin/busybox"); len(in) != 2 {
		t.Errorf("busybox is in %d layers, want the image's and its shifted copy's: %v", len(in), in)
	}
	if rows := imageRows(t, e); len(rows) != 1 {
		t.Errorf("den images lists the shifted copy: %v", rows)
	}
	if r := e.ok("ps", "-a", "-q", "--filter", "ancestor="+ref); len(strings.Fields(r.stdout)) != 2 {
		t.Errorf("ps --filter ancestor= misses keep-id containers: %s", r)
	}
	oneLineError(t, e.den("rmi", ref), "in use")
	e.ok("rm", "k1", "k2")
	e.ok("rmi", ref)
	if in, _ := filepath.Glob(filepath.Join(e.store(), "overlay", "*", "diff")); len(in) != 0 {
		t.Errorf("rmi left layers (the shifted copy's?): %v", in)
	}
}

func TestKeepIDBadInput(t *testing.T) {
	e, ref := pulled(t)
	oneLineError(t, e.den("run", "--rm", "--userns=nope", ref, "true"), "--userns", "keep-id")
}

// --shm-size, --ulimit, --group-add, --device and --sysctl reach the
// container.
func TestRunHostFlags(t *testing.T) {
	e, ref := pulled(t)
	r := e.ok("run", "--rm", "--shm-size", "2m", "--ulimit", "nofile=100:200", "--group-add", "extra", "--group-add", "3000",
		"--device", "/dev/null:/dev/mynull", "--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmni=1234",
		ref, "sh", "-c", "df -k /dev/shm | tail -1 | awk '{print $2}'; ulimit -n; ulimit -Hn; id -G; echo hi > /dev/mynull && echo dev; cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni")
	if want := "2048\n100\n200\n0 2000 3000\ndev\n1\n1234\n"; r.stdout != want {
		t.Fatalf("got %q, want %q (%s)", r.stdout, want, r)
	}
}

func TestRunHostFlagsBadInput(t *testing.T) {
	e, ref := pulled(t)
	var hard syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &hard); err != nil {
		t.Fatal(err)
	}
	above := fmt.Sprintf("nofile=%d:%d", hard.Max+1, hard.Max+1)
	oneLineError(t, e.den("run", "--rm", "--ulimit", above, ref, "true"), "--ulimit", "above yours")
	oneLineError(t, e.den("run", "--rm", "--ulimit", "bogus=1", ref, "true"), "invalid --ulimit")
	if dev := unopenableDevice(); dev != "" {
		oneLineError(t, e.den("run", "--rm", "--device", dev, ref, "true"), "--device "+dev, "cannot open")
	} else {
		t.Error("no device node here that this user cannot open")
	}
	oneLineError(t, e.den("run", "--rm", "--device", "/etc/passwd", ref, "true"), "not a device")
	oneLineError(t, e.den("run", "--rm", "--sysctl", "kernel.hostname=x", ref, "true"), "not namespaced")
	oneLineError(t, e.den("run", "--rm", "--network", "host", "--sysctl", "net.ipv4.ip_forward=1", ref, "true"), "--network host")
	oneLineError(t, e.den("run", "--rm", "--shm-size", "huge", ref, "true"), "--shm-size")
	oneLineError(t, e.den("run", "--rm", "--group-add", "nosuchgroup", ref, "true"), "--group-add")
	oneLineError(t, e.den("run", "--rm", "--memory-swap", "1g", ref, "true"), "--memory-swap needs --memory")
}

// On cgroup v1 (these machines), or v2 without delegation, limits are
// refused with the cause and the fix, never ignored.
func TestLimitsRefusedWithoutDelegation(t *testing.T) {
	e, ref := pulled(t)
	for _, flags := range [][]string{{"--memory", "64m"}, {"--cpus", "1"}, {"--cpu-shares", "512"}, {"--pids-limit", "10"}, {"--memory", "64m", "--memory-swap", "-1"}} {
		r := e.den(append(append([]string{"run", "--rm"}, flags...), ref, "true")...)
		if r.code != 125 {
			t.Fatalf("%v: exit %d, want 125: %s", flags, r.code, r)
		}
		if v2Delegated() {
			t.Skip("this host delegates cgroup v2: the refusal is not expected here")
		}
		oneLineError(t, r, "cgroup")
		if !strings.Contains(r.stderr, "systemd") {
			t.Errorf("%v: the refusal names no fix: %q", flags, r.stderr)
		}
	}
	// -1 asks for no limit: nothing to enforce.
	e.ok("run", "--rm", "--pids-limit", "-1", ref, "true")
}

func v2Delegated() bool {
	b, _ := os.ReadFile("/proc/self/cgroup")
	return strings.Contains(string(b), "0::/user.slice/") && strings.Contains(string(b), ".service/")
}

// unopenableDevice is a device node the test user cannot open.
func unopenableDevice() string {
	for _, d := range []string{"/dev/mem", "/dev/vda", "/dev/sda", "/dev/console", "/dev/fuse", "/dev/kmsg"} {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode()&os.ModeDevice == 0 {
			continue
		}
		if f, err := os.OpenFile(d, os.O_RDWR|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0); err == nil {
			f.Close()
			continue
		}
		return d
	}
	return ""
}
