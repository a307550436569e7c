package security

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseSecurityOpts(t *testing.T) {
	cases := []struct {
		in         []string
		noNewPrivs bool
		seccomp    string
		bad        bool
	}{
		{nil, true, "default", false},
		{[]string{"no-new-privileges=false"}, false, "default", false},
		{[]string{"no-new-privileges:true"}, true, "default", false},
		{[]string{"no-new-privileges"}, true, "default", false},
		{[]string{"seccomp=unconfined"}, true, "unconfined", false},
		{[]string{"seccomp:/p.json"}, true, "/p.json", false},
		{[]string{"label=disable", "apparmor=unconfined"}, true, "default", false},
		{[]string{"seccomp="}, false, "", true},
		{[]string{"no-new-privileges=maybe"}, false, "", true},
		{[]string{"selinux"}, false, "", true},
	}
	for _, c := range cases {
		o, err := ParseSecurityOpts(c.in)
		if c.bad {
			if err == nil || !strings.Contains(err.Error(), "--security-opt") {
				t.Errorf("%q: %v", c.in, err)
			}
			continue
		}
		if err != nil || o.NoNewPrivs != c.noNewPrivs || o.Seccomp != c.seccomp {
			t.Errorf("%q: %+v, %v", c.in, o, err)
		}
	}
}

func TestCapabilitiesFollowDocker(t *testing.T) {
	def, err := capabilities(nil, nil, false)
	if err != nil || len(def) != len(defaultCaps) || !slices.Contains(def, uint(unix.CAP_NET_RAW)) || slices.Contains(def, uint(unix.CAP_SYS_ADMIN)) {
		t.Fatalf("default set %v, %v", def, err)
	}
	// Drops first, then adds, as docker does: ALL then one is just that one.
	got, err := capabilities([]string{"cap_net_admin"}, []string{"ALL"}, false)
	if err != nil || !slices.Equal(got, []uint{unix.CAP_NET_ADMIN}) {
		t.Fatalf("drop ALL, add NET_ADMIN: %v, %v", got, err)
	}
	got, _ = capabilities(nil, []string{"NET_RAW"}, false)
	if slices.Contains(got, uint(unix.CAP_NET_RAW)) {
		t.Fatal("--cap-drop NET_RAW kept it")
	}
	all, _ := capabilities(nil, nil, true)
	if uint(len(all)) != lastCap()+1 {
		t.Fatalf("--privileged has %d capabilities, the kernel %d", len(all), lastCap()+1)
	}
	if _, err := capabilities([]string{"FLY"}, nil, false); err == nil || !strings.Contains(err.Error(), "--cap-add") {
		t.Fatalf("unknown capability: %v", err)
	}
}

func TestResolve(t *testing.T) {
	sb, err := Resolve(Flags{ReadOnly: true, ReadOnlyTmpfs: true, Tmpfs: []string{"/cache:size=1m"}})
	if err != nil || !sb.ReadOnly || len(sb.Tmpfs) != 4 || sb.Tmpfs[3].Options != "size=1m" || sb.SeccompKey == "" {
		t.Fatalf("%+v, %v", sb, err)
	}
	priv, err := Resolve(Flags{Privileged: true})
	if err != nil || priv.Seccomp != nil || len(priv.MaskedPaths) != 0 {
		t.Fatalf("--privileged: %+v, %v", priv, err)
	}
	if _, err := Resolve(Flags{SecurityOpt: []string{"seccomp=/nonexistent.json"}}); err == nil {
		t.Fatal("a missing profile file was accepted")
	}
}

func TestPathListsAreDockers(t *testing.T) {
	docker := []string{"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/sched_debug", "/proc/scsi", "/proc/timer_list", "/proc/timer_stats",
		"/sys/devices/virtual/powercap", "/sys/firmware"}
	got := MaskedPaths()
	if !slices.Equal(got[:len(docker)], docker) {
		t.Errorf("masked paths %v, docker's %v", got, docker)
	}
	for _, p := range got[len(docker):] {
		if !strings.HasPrefix(p, "/sys/devices/system/cpu/cpu") || !strings.HasSuffix(p, "/thermal_throttle") {
			t.Errorf("masked path %s is not docker's", p)
		}
	}
	if ro := ReadonlyPaths(); !slices.Equal(ro, []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}) {
		t.Errorf("read-only paths %v", ro)
	}
}

// The default profile's rules are built only where no compiled program is
// cached: Resolve names them by a key, Rules builds them, and the key
// changes with the capabilities.
func TestDefaultRulesAreLazyAndKeyed(t *testing.T) {
	sb, err := Resolve(Flags{})
	if err != nil || sb.Seccomp != nil || sb.SeccompKey == "" {
		t.Fatalf("%+v, %v", sb, err)
	}
	rules, err := Rules(Flags{})
	if err != nil || rules == nil || len(rules.Rules) == 0 {
		t.Fatalf("Rules: %v", err)
	}
	admin, _ := Resolve(Flags{CapAdd: []string{"SYS_ADMIN"}})
	if admin.SeccompKey == sb.SeccompKey {
		t.Fatal("another capability set has the same key")
	}
	if again, _ := Resolve(Flags{}); again.SeccompKey != sb.SeccompKey {
		t.Fatal("the key is not stable")
	}
	if none, _ := Resolve(Flags{SecurityOpt: []string{"seccomp=unconfined"}}); none.SeccompKey != "" || none.Seccomp != nil {
		t.Fatal("unconfined has a filter")
	}
}
