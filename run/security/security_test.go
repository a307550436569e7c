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

func TestDefaultSeccompDependsOnCapabilities(t *testing.T) {
	allowed := func(caps []uint, name string) bool {
		for _, r := range defaultSeccomp(caps).Rules {
			if r.Action == "allow" && len(r.Args) == 0 && slices.Contains(r.Names, name) {
				return true
			}
		}
		return false
	}
	def, _ := capabilities(nil, nil, false)
	admin, _ := capabilities([]string{"SYS_ADMIN"}, nil, false)
	if allowed(def, "mount") || !allowed(admin, "mount") {
		t.Error("mount must need CAP_SYS_ADMIN")
	}
	if !allowed(def, "read") || allowed(def, "kexec_load") {
		t.Error("read is allowed to all, kexec_load to none")
	}
}

func TestParseProfile(t *testing.T) {
	profile := `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"syscalls":[
		{"names":["read","write"],"action":"SCMP_ACT_ALLOW"},
		{"names":["mount"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN"]}},
		{"names":["chmod"],"action":"SCMP_ACT_ERRNO","errnoRet":13,"args":[{"index":1,"value":2048,"op":"SCMP_CMP_MASKED_EQ","valueTwo":2048}]}]}`
	def, _ := capabilities(nil, nil, false)
	p, err := ParseProfile("p.json", []byte(profile), def)
	if err != nil {
		t.Fatal(err)
	}
	if p.DefaultErrno != 38 || len(p.Rules) != 2 {
		t.Fatalf("profile %+v", p)
	}
	if r := p.Rules[1]; r.Action != "errno" || r.Errno != 13 || r.Args[0].Op != "masked_eq" {
		t.Fatalf("rule %+v", r)
	}
	for _, bad := range []string{`{"defaultAction":"SCMP_ACT_ALLOW"}`, `not json`,
		`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["x"],"action":"SCMP_ACT_NOTIFY"}]}`} {
		if _, err := ParseProfile("bad.json", []byte(bad), def); err == nil || !strings.Contains(err.Error(), "bad.json") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestResolve(t *testing.T) {
	sb, err := Resolve(Flags{ReadOnly: true, ReadOnlyTmpfs: true, Tmpfs: []string{"/cache:size=1m"}})
	if err != nil || !sb.ReadOnly || len(sb.Tmpfs) != 4 || sb.Tmpfs[3].Options != "size=1m" || sb.Seccomp == nil {
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
