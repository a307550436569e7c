package doctor

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSubIDs(t *testing.T) {
	me := Me{UID: 1001, GID: 1001, Name: "alice"}
	cases := []struct {
		name, file string
		status     Status
		usable     bool
		detail     string
		fix        string
	}{
		{"good", "bob:100000:65536\nalice:165536:65536\n", OK, true,
			"65536 ids from 165536", ""},
		{"by uid", "1001:100000:65536\n", OK, true, "65536 ids from 100000", ""},
		{"missing", "bob:100000:65536\n", Warn, false,
			"no line for alice in", "sudo usermod --add-subuids 165536-231071 alice"},
		{"missing file", "", Warn, false, "no line for alice in", "sudo usermod --add-subuids 100000-165535 alice"},
		{"malformed", "# ids\nalice:10000O:65536\n", Warn, false,
			`line 2 of`, "sudo sed -i '2d' "},
		{"small", "alice:100000:1000\n", Warn, true,
			"alice has 1000 ids in", "sudo usermod --del-subuids 100000-100999 --add-subuids 101000-166535 alice"},
		{"duplicate", "alice:100000:65536\nbob:165536:65536\nalice:100000:65536\n", Warn, true,
			"line 3 of", "sudo sed -i '3d' "},
		{"overlap", "bob:100000:65536\nalice:120000:65536\n", Warn, true,
			"your range 120000-185535 overlaps bob's 100000-165535 (line 1 of",
			"sudo usermod --del-subuids 120000-185535 --add-subuids 185536-251071 alice"},
		{"adjacent", "bob:100000:65536\nalice:165536:65536\n", OK, true, "65536 ids from 165536", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "subuid")
			if c.name != "missing file" {
				if err := os.WriteFile(path, []byte(c.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, usable := SubIDs(path, "subuid", me)
			if got.Status != c.status || usable != c.usable || !strings.Contains(got.Detail, c.detail) || !strings.HasPrefix(got.Fix, c.fix) {
				t.Fatalf("got %+v usable=%v; want %s usable=%v detail ~ %q fix ~ %q", got, usable, c.status, c.usable, c.detail, c.fix)
			}
			if c.status == OK && got.Fix != "" {
				t.Fatalf("an ok check has a fix: %+v", got)
			}
		})
	}
}

func TestSubGIDFixNamesGroups(t *testing.T) {
	path := filepath.Join(t.TempDir(), "subgid")
	got, _ := SubIDs(path, "subgid", Me{UID: 5, Name: "carol"})
	if got.Fix != "sudo usermod --add-subgids 100000-165535 carol" {
		t.Fatalf("fix %q", got.Fix)
	}
}

func TestAppArmorProfileNamesDensPath(t *testing.T) {
	p := AppArmorProfile("/home/alice/bin/den")
	for _, want := range []string{
		"cat <<EOT | sudo tee /etc/apparmor.d/home.alice.bin.den\n",
		"abi <abi/4.0>,\ninclude <tunables/global>\n",
		"/home/alice/bin/den flags=(unconfined) {\n  userns,\n",
		"include if exists <local/home.alice.bin.den>\n}\nEOT\nsudo systemctl restart apparmor.service",
	} {
		if !strings.Contains(p, want) {
			t.Fatalf("profile lacks %q:\n%s", want, p)
		}
	}
}

// withHost points the checks at a fixture tree for one test.
func withHost(t *testing.T, edit func(p *Paths, dir string)) string {
	t.Helper()
	saved := Host
	t.Cleanup(func() { Host = saved })
	dir := t.TempDir()
	edit(&Host, dir)
	return dir
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestUserNamespacesSysctls(t *testing.T) {
	dir := withHost(t, func(p *Paths, dir string) { p.Sys = dir })
	write(t, filepath.Join(dir, "user/max_user_namespaces"), "0\n")
	c := UserNamespaces(nil)
	if c.Status != Fail || !strings.Contains(c.Detail, "user.max_user_namespaces is 0") ||
		c.Fix != "sudo sysctl -w user.max_user_namespaces=28633 && echo user.max_user_namespaces=28633 | sudo tee /etc/sysctl.d/99-zz-den.conf" {
		t.Fatalf("%+v", c)
	}
	write(t, filepath.Join(dir, "user/max_user_namespaces"), "1000\n")
	write(t, filepath.Join(dir, "kernel/unprivileged_userns_clone"), "0\n")
	if c := UserNamespaces(nil); c.Status != Fail || !strings.HasPrefix(c.Fix, "sudo sysctl -w kernel.unprivileged_userns_clone=1") {
		t.Fatalf("%+v", c)
	}
	write(t, filepath.Join(dir, "kernel/unprivileged_userns_clone"), "1\n")
	if c := UserNamespaces(unix.EPERM); c.Status != Fail || !strings.Contains(c.Detail, "seccomp") {
		t.Fatalf("%+v", c)
	}
	if c := UserNamespaces(nil); c.Status != OK || c.Detail != "enabled (user.max_user_namespaces=1000)" {
		t.Fatalf("%+v", c)
	}
}

func TestAppArmorRestriction(t *testing.T) {
	dir := withHost(t, func(p *Paths, dir string) { p.Sys = dir })
	if _, shown := AppArmor("/usr/bin/den", nil); shown {
		t.Fatal("a check where the sysctl does not exist")
	}
	write(t, filepath.Join(dir, "kernel/apparmor_restrict_unprivileged_userns"), "1\n")
	c, _ := AppArmor("/usr/bin/den", errors.New("mounting in the user namespace: operation not permitted"))
	if c.Status != Fail || c.Fix != AppArmorProfile("/usr/bin/den") {
		t.Fatalf("%+v", c)
	}
	if c, _ := AppArmor("/usr/bin/den", nil); c.Status != OK {
		t.Fatalf("a profile is in place when the namespace works: %+v", c)
	}
}

func TestCgroupV2Delegation(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to give the fixture's upper cgroups to another owner")
	}
	dir := withHost(t, func(p *Paths, dir string) {
		p.Cgroup = dir
		p.SelfCgroup = filepath.Join(dir, "self")
	})
	me := Me{UID: 4242, Name: "me"}
	svc := filepath.Join(dir, "user.slice/user-4242.slice/user@4242.service")
	scope := filepath.Join(svc, "app.slice/den.scope")
	write(t, filepath.Join(scope, "cgroup.procs"), "")
	write(t, filepath.Join(svc, "cgroup.controllers"), "cpu io memory pids\n")
	write(t, Host.SelfCgroup, "0::/user.slice/user-4242.slice/user@4242.service/app.slice/den.scope\n")
	for _, d := range []string{svc, filepath.Join(svc, "app.slice"), scope} {
		if err := os.Chown(d, me.UID, me.UID); err != nil {
			t.Fatal(err)
		}
	}
	if d := delegated(me); d != svc {
		t.Fatalf("delegated %q, want %q", d, svc)
	}
	// From a login session's scope (root's), systemd's user manager is found.
	write(t, Host.SelfCgroup, "0::/user.slice/user-4242.slice/session-3.scope\n")
	if d := delegated(me); d != svc {
		t.Fatalf("delegated %q, want %q", d, svc)
	}
	ci := CgroupInfo{Version: "v2", Delegated: "/user.slice/user-4242.slice/user@4242.service", Controllers: []string{"cpu", "io", "memory", "pids"}}
	if c := cgroupCheck(me, ci); c.Status != OK || c.Detail != "cgroup v2, delegated at /user.slice/user-4242.slice/user@4242.service: cpu io memory pids" {
		t.Fatalf("%+v", c)
	}
	ci.Controllers = []string{"memory"}
	if c := cgroupCheck(me, ci); c.Status != Warn || !strings.Contains(c.Detail, "without cpu, pids") || c.Fix != delegateFix {
		t.Fatalf("%+v", c)
	}
	if c := cgroupCheck(me, CgroupInfo{Version: "v2"}); c.Status != Warn || !strings.Contains(c.Detail, "no cgroup is delegated to me") {
		t.Fatalf("%+v", c)
	}
	if c := cgroupCheck(me, CgroupInfo{Version: "v1"}); c.Status != Warn || c.Fix != unifiedFix {
		t.Fatalf("%+v", c)
	}
}

func TestContainerFlags(t *testing.T) {
	dir := withHost(t, func(p *Paths, dir string) {
		p.Root = dir
		p.SelfCgroup = filepath.Join(dir, "cgroup")
		p.MountInfo = filepath.Join(dir, "mountinfo")
		p.Tun = filepath.Join(dir, "tun")
	})
	write(t, Host.SelfCgroup, "0::/\n")
	write(t, Host.MountInfo, "22 27 0:21 / /proc rw,relatime - proc proc rw\n"+
		"30 22 0:30 / /proc/sys/fs/binfmt_misc rw - autofs systemd-1 rw\n")
	if c := Container(InContainer(), nil); c.Status != OK || c.Detail != "not inside a container" {
		t.Fatalf("%+v", c)
	}
	write(t, filepath.Join(dir, ".dockerenv"), "")
	write(t, Host.MountInfo, "22 27 0:21 / /proc rw - proc proc rw\n40 22 0:5 /null /proc/kcore rw - devtmpfs udev rw\n")
	c := Container(InContainer(), unix.EPERM)
	if c.Status != Fail || c.Fix != outerRuntimeFlags ||
		c.Detail != "inside a container (/.dockerenv): unshare(CLONE_NEWUSER) is refused (a seccomp profile?); /proc is partly masked (/proc/kcore), so a container's /proc cannot be mounted; "+Host.Tun+" does not exist" {
		t.Fatalf("%+v", c)
	}
}

func TestTunMissing(t *testing.T) {
	withHost(t, func(p *Paths, dir string) { p.Tun = filepath.Join(dir, "tun") })
	me := Me{Name: "alice"}
	if c := Tun(me, false); c.Status != Fail || c.Fix != "sudo modprobe tun" {
		t.Fatalf("%+v", c)
	}
	if c := Tun(me, true); c.Status != Fail || c.Fix != outerRuntimeFlags {
		t.Fatalf("%+v", c)
	}
}
