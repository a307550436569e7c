package security

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"

	"github.com/denproject/den/run/pid1"
)

const (
	allowed = "allow"
	eperm   = "EPERM"
	enosys  = "ENOSYS"
)

// verdict runs the compiled filter on one syscall of the native ABI (or
// abi) and names what the caller would see.
func verdict(t *testing.T, s *pid1.Seccomp, abi *arch.Info, name string, args ...uint64) string {
	t.Helper()
	packed, err := pid1.CompileSeccomp(s)
	if err != nil {
		t.Fatal(err)
	}
	if abi == nil {
		abi, _ = arch.GetInfo("")
	}
	nr, ok := abi.SyscallNames[name]
	if !ok {
		n, err := strconv.Atoi(name)
		if err != nil {
			t.Fatalf("no syscall %s on %s", name, abi.Name)
		}
		nr = n
	}
	var a [6]uint64
	copy(a[:], args)
	v, err := pid1.RunFilter(packed, uint32(abi.ID), uint32(nr|abi.SeccompMask), a)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case v == unix.SECCOMP_RET_ALLOW:
		return allowed
	case v&0xffff0000 == unix.SECCOMP_RET_ERRNO:
		return unix.ErrnoName(unix.Errno(v & 0xffff))
	case v == unix.SECCOMP_RET_KILL_PROCESS:
		return "kill"
	}
	return fmt.Sprintf("ret %#x", v)
}

func TestDefaultProfileFollowsDocker(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the table names amd64 syscalls")
	}
	def, _ := capabilities(nil, nil, false)
	admin, _ := capabilities([]string{"SYS_ADMIN"}, nil, false)
	ptrace, _ := capabilities([]string{"SYS_PTRACE"}, nil, false)
	newNS := uint64(unix.CLONE_NEWUSER | unix.CLONE_NEWNS)
	cases := []struct {
		name                  string
		args                  []uint64
		dflt, sysAdmin, sysPt string
	}{
		{"read", nil, allowed, allowed, allowed},
		{"io_uring_setup", nil, eperm, eperm, eperm},
		{"io_uring_enter", nil, eperm, eperm, eperm},
		{"personality", []uint64{0xffffffff}, allowed, allowed, allowed},
		{"personality", []uint64{0x20008}, allowed, allowed, allowed},
		{"personality", []uint64{0xffffffffffffffff}, eperm, eperm, eperm},
		{"personality", []uint64{0x0400000}, eperm, eperm, eperm},
		{"socket", []uint64{unix.AF_INET}, allowed, allowed, allowed},
		{"socket", []uint64{unix.AF_ALG}, eperm, eperm, eperm},
		{"socket", []uint64{unix.AF_ALG + 1}, allowed, allowed, allowed},
		{"socket", []uint64{unix.AF_VSOCK}, eperm, eperm, eperm},
		{"socket", []uint64{unix.AF_VSOCK + 1}, allowed, allowed, allowed},
		{"clone", []uint64{uint64(unix.SIGCHLD)}, allowed, allowed, allowed},
		{"clone", []uint64{newNS}, eperm, allowed, eperm},
		{"clone", []uint64{1 << 32}, allowed, allowed, allowed},
		{"clone3", nil, enosys, allowed, enosys},
		{"unshare", nil, eperm, allowed, eperm},
		{"mount", nil, eperm, allowed, eperm},
		{"lsm_list_modules", nil, eperm, allowed, eperm},
		{"kcmp", nil, eperm, eperm, allowed},
		{"ptrace", nil, allowed, allowed, allowed},
		{"open_by_handle_at", nil, eperm, eperm, eperm},
		{"mseal", nil, allowed, allowed, allowed},
		{"removexattrat", nil, allowed, allowed, allowed},
		{"nfsservctl", nil, eperm, eperm, eperm},
		{"open_tree_attr", nil, enosys, enosys, enosys},
		{"999", nil, enosys, enosys, enosys},
		{"arch_prctl", nil, allowed, allowed, allowed},
		{"reboot", nil, eperm, eperm, eperm},
	}
	for _, c := range cases {
		for i, caps := range [][]uint{def, admin, ptrace} {
			want := []string{c.dflt, c.sysAdmin, c.sysPt}[i]
			if got := verdict(t, defaultSeccomp(caps), nil, c.name, c.args...); got != want {
				t.Errorf("%s(%#x) with %s: %s, docker says %s", c.name, c.args, []string{"default caps", "SYS_ADMIN", "SYS_PTRACE"}[i], got, want)
			}
		}
	}
	// A 32-bit program is filtered by the same rules (docker's archMap).
	if got := verdict(t, defaultSeccomp(def), arch.I386, "socketcall"); got != allowed {
		t.Errorf("i386 socketcall: %s", got)
	}
	if got := verdict(t, defaultSeccomp(def), arch.I386, "clone", newNS); got != eperm {
		t.Errorf("i386 clone(CLONE_NEWUSER): %s", got)
	}
}

func TestDefaultProfileRoundTrips(t *testing.T) {
	b, err := DefaultProfileJSON()
	if err != nil {
		t.Fatal(err)
	}
	def, _ := capabilities(nil, nil, false)
	p, err := ParseProfile("default.json", b, def)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := pid1.CompileSeccomp(defaultSeccomp(def))
	got, _ := pid1.CompileSeccomp(p)
	if string(got) != string(want) || len(got)/8 > 4096 {
		t.Fatalf("the default profile read back from JSON compiles differently (%d vs %d instructions)", len(got)/8, len(want)/8)
	}
	t.Logf("default filter: %d instructions", len(got)/8)
}

func TestParseProfile(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the profile names amd64")
	}
	profile := `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,
	 "archMap":[{"architecture":"SCMP_ARCH_AARCH64","subArchitectures":["SCMP_ARCH_ARM"]},
	            {"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86"]}],
	 "syscalls":[
		{"names":["read","write"],"action":"SCMP_ACT_ALLOW"},
		{"name":"close","action":"SCMP_ACT_ERRNO"},
		{"names":["mount"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN"]}},
		{"names":["umount2"],"action":"SCMP_ACT_ALLOW","excludes":{"caps":["CAP_CHOWN"]}},
		{"names":["getpid"],"action":"SCMP_ACT_ALLOW","includes":{"arches":["arm64"]}},
		{"names":["getppid"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"3.0"}},
		{"names":["gettid"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"99.0"}},
		{"names":["chmod"],"action":"SCMP_ACT_ERRNO","errnoRet":13,"args":[{"index":1,"value":2048,"op":"SCMP_CMP_MASKED_EQ","valueTwo":2048}]},
		{"names":["chmod"],"action":"SCMP_ACT_ALLOW"},
		{"names":["kill"],"action":"SCMP_ACT_ALLOW","args":[{"index":1,"value":9,"op":"SCMP_CMP_EQ"},{"index":1,"value":15,"op":"SCMP_CMP_EQ"}]},
		{"names":["dup"],"action":"SCMP_ACT_ERRNO","errnoRet":38},
		{"names":["dup"],"action":"SCMP_ACT_ALLOW"}]}`
	def, _ := capabilities(nil, nil, false)
	admin, _ := capabilities([]string{"SYS_ADMIN"}, nil, false)
	p, err := ParseProfile("p.json", []byte(profile), def)
	if err != nil {
		t.Fatal(err)
	}
	pa, _ := ParseProfile("p.json", []byte(profile), admin)
	for _, c := range []struct {
		s    *pid1.Seccomp
		abi  *arch.Info
		name string
		args []uint64
		want string
	}{
		{p, nil, "read", nil, allowed},
		{p, nil, "getuid", nil, enosys}, // defaultErrnoRet
		{p, nil, "close", nil, eperm},   // errnoRet absent: EPERM, as runc
		{p, nil, "mount", nil, enosys},
		{pa, nil, "mount", nil, allowed},
		{p, nil, "umount2", nil, enosys}, // excluded: CHOWN held
		{p, nil, "getpid", nil, enosys},  // arm64 only
		{p, nil, "getppid", nil, allowed},
		{p, nil, "gettid", nil, enosys},
		{p, nil, "chmod", []uint64{0, 0o4755}, "EACCES"},
		{p, nil, "chmod", []uint64{0, 0o755}, allowed},
		// Two comparisons of one argument are ORed, as runc does.
		{p, nil, "kill", []uint64{1, 9}, allowed},
		{p, nil, "kill", []uint64{1, 15}, allowed},
		{p, nil, "kill", []uint64{1, 1}, enosys},
		// A rule equal to the default is dropped, as runc does: the next decides.
		{p, nil, "dup", nil, allowed},
		{p, arch.I386, "read", nil, allowed}, // archMap's sub-architecture
		{p, arch.X32, "read", nil, "kill"},
	} {
		if got := verdict(t, c.s, c.abi, c.name, c.args...); got != c.want {
			t.Errorf("%s(%o): %s, want %s", c.name, c.args, got, c.want)
		}
	}
	allowAll, err := ParseProfile("allow.json", []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["chown"],"action":"SCMP_ACT_ERRNO"}]}`), def)
	if err != nil {
		t.Fatal(err)
	}
	if verdict(t, allowAll, nil, "open_tree_attr") != allowed || verdict(t, allowAll, nil, "chown") != eperm {
		t.Error("an allow-by-default profile")
	}
	for _, bad := range []string{`not json`, `{"defaultAction":"SCMP_ACT_DANCE"}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["x"],"action":"SCMP_ACT_NOTIFY"}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"x","names":["y"],"action":"SCMP_ACT_ALLOW"}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"op":"SCMP_CMP_LIKE"}]}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"op":"SCMP_CMP_EQ"}]}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"new"}}]}`,
	} {
		if _, err := ParseProfile("bad.json", []byte(bad), def); err == nil || !strings.Contains(err.Error(), "bad.json") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
