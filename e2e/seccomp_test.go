package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/denproject/den/internal/testimage"
	"github.com/denproject/den/run/security"
)

// A probe call and what docker's default profile does with it under the
// default capabilities, with SYS_ADMIN added and with SYS_PTRACE added:
// k reaches the kernel (the result is the unconfined one), P is refused
// with EPERM, N with ENOSYS. Arguments are chosen so that the kernel
// fails the call harmlessly with an errno of its own (EFAULT, EINVAL,
// EBADF...), which tells a refusal from a kernel answer.
type probeCall struct {
	name, args string
	want       string
}

const (
	atFdcwd = "0xffffffffffffff9c"
	neg1    = "0xffffffffffffffff"
)

var probeCalls = []probeCall{
	{"getpid", "", "kkk"}, {"read", neg1, "kkk"}, {"write", neg1, "kkk"}, {"close", neg1, "kkk"},
	{"openat", atFdcwd + ",0", "kkk"}, {"mmap", "0,0,0,0," + neg1, "kkk"}, {"ioctl", neg1, "kkk"},
	{"socket", "1,1", "kkk"}, {"socket", "2,2", "kkk"}, {"socket", "16,3", "kkk"},
	{"socket", "38,5", "PPP"}, {"socket", "39,1", "kkk"}, {"socket", "40,1", "PPP"}, {"socket", "41,1", "kkk"},
	{"personality", "0xffffffff", "kkk"}, {"personality", "0x20008", "kkk"}, {"personality", "0x400000", "PPP"},
	{"clone", "0x10000", "kkk"}, {"clone", "0x10010000", "PkP"}, {"clone3", "0,0", "NkN"},
	{"unshare", "0", "PkP"}, {"unshare", "0x10002000", "PkP"}, {"setns", neg1 + ",0", "PkP"},
	{"mount", "1,1,1,0,0", "PkP"}, {"umount2", "0,0xffff", "PkP"}, {"pivot_root", "1,1", "PPP"},
	{"open_tree", neg1 + ",0,0xffffffff", "PkP"}, {"mount_setattr", neg1 + ",0,0xffffffff,0,0", "PkP"},
	{"fsopen", "0,0xff", "PkP"}, {"fspick", neg1 + ",0,0xffff", "PkP"}, {"fsconfig", neg1 + ",0xff", "PkP"},
	{"fsmount", neg1 + ",0xff", "PkP"}, {"sethostname", "0,1000", "PkP"}, {"setdomainname", "0,1000", "PkP"},
	{"quotactl", "0xffffffff", "PkP"}, {"quotactl_fd", neg1, "PkP"}, {"perf_event_open", "0,0," + neg1 + "," + neg1 + ",0xffff", "PkP"},
	{"fanotify_init", "0xffffffff", "PkP"}, {"bpf", "0xffff", "PkP"}, {"syslog", "0xffff", "PkP"},
	{"lookup_dcookie", "", "PkP"}, {"lsm_list_modules", "0,0,0xff", "PkP"}, {"lsm_get_self_attr", "0,0,0,0xff", "PkP"},
	{"keyctl", "0xffff", "PPP"}, {"add_key", "", "PPP"}, {"request_key", "", "PPP"},
	{"ptrace", "0x4242,0", "kkk"}, {"process_vm_readv", "0,0,0,0,0,1", "kkk"}, {"process_vm_writev", "0,0,0,0,0,1", "kkk"},
	{"kcmp", "0,0,99", "PPk"}, {"pidfd_getfd", neg1 + "," + neg1 + ",1", "PPk"}, {"process_madvise", neg1 + ",0,0,0,1", "PPk"},
	{"open_by_handle_at", neg1 + ",0,0", "PPP"}, {"name_to_handle_at", atFdcwd + ",0,0,0,0xffff", "kkk"},
	{"io_uring_setup", "1,0", "PPP"}, {"io_uring_enter", neg1, "PPP"}, {"io_uring_register", neg1, "PPP"},
	{"userfaultfd", "0x8001", "PPP"}, {"settimeofday", "0,0", "PPP"}, {"clock_settime", "0xffff", "PPP"},
	{"adjtimex", "0", "kkk"}, {"clock_adjtime", "0xffff", "kkk"}, {"iopl", "4", "PPP"}, {"ioperm", "0,0,0", "PPP"},
	{"mbind", "0,0,0xff", "PPP"}, {"get_mempolicy", "0,0,0,0,0xff", "PPP"}, {"set_mempolicy", "0xff", "PPP"},
	{"set_mempolicy_home_node", "0,0,0,0xff", "PPP"}, {"move_pages", "0,0,0,0,0,0xff", "PPP"},
	{"migrate_pages", "0,0xffffffff,1,1", "PPP"}, {"nfsservctl", "", "PPP"}, {"sysfs", "0xff", "PPP"},
	{"ustat", "0,0", "PPP"}, {"uselib", "0", "PPP"}, {"reboot", "", "PPP"}, {"kexec_load", "", "PPP"},
	{"init_module", "", "PPP"}, {"acct", "0", "PPP"}, {"swapon", "0,0", "PPP"}, {"vhangup", "", "PPP"},
	{"memfd_secret", "0xff", "kkk"}, {"landlock_create_ruleset", "0,0,0xff", "kkk"}, {"seccomp", "0xff", "kkk"},
	{"prctl", "0xffff", "kkk"}, {"pidfd_open", "0,0xff", "kkk"}, {"mseal", "0,0,0xff", "kkk"},
	{"listmount", "0,0,0,0xff", "kkk"}, {"statmount", "0,0,0,0xff", "kkk"}, {"cachestat", neg1 + ",0,0,0xff", "kkk"},
	{"futex_wake", "0,0,0,0xff", "kkk"}, {"map_shadow_stack", "0,0,0xff", "kkk"}, {"getxattrat", neg1, "kkk"},
	{"removexattrat", neg1, "kkk"}, {"open_tree_attr", neg1 + ",0,0xffffffff", "NNN"}, {"468", neg1, "NNN"},
	{"io_setup", "0,0", "kkk"}, {"pkey_alloc", "0xff", "kkk"}, {"fchmodat2", neg1 + ",0,0,0xff", "kkk"},
	{"kill", "0x7fffffff,0", "kkk"}, {"getrandom", "0,0,0xff", "kkk"}, {"execveat", neg1 + ",0", "kkk"},
	{"arch_prctl", "0xffff", "kkk"}, {"modify_ldt", "99", "kkk"}, {"vmsplice", neg1, "kkk"},
	{"remap_file_pages", "0,0,0,0,0xff", "kkk"}, {"process_mrelease", neg1, "kkk"}, {"chroot", "0", "kkk"},
	{"mq_open", "0", "kkk"}, {"memfd_create", "0", "kkk"}, {"get_robust_list", "0x7fffffff,0,0", "kkk"},
}

func (c probeCall) spec() string { return c.name + ":" + c.args }

// probeImage is busybox with the probe at /bin/probe, pulled.
func probeImage(t *testing.T) (*env, string) {
	return probeImageMode(t, "test/probe:1", 0o755)
}

// probeImageMode is probeImage with the probe's mode (setuid, say) and
// the image's name chosen.
func probeImageMode(t *testing.T, tag string, mode int64) (*env, string) {
	t.Helper()
	if probeBin == "" {
		t.Skip("no probe binary")
	}
	probe, err := os.ReadFile(probeBin)
	if err != nil {
		t.Fatal(err)
	}
	es, err := testimage.BusyboxEntries()
	if err != nil {
		t.Fatal(err)
	}
	es = append(es, testimage.Entry{Name: "bin/probe", Body: string(probe), Mode: mode})
	l, err := testimage.Layer(es)
	if err != nil {
		t.Fatal(err)
	}
	img, err := testimage.Image([]string{"sh"}, l)
	if err != nil {
		t.Fatal(err)
	}
	ref := newRegistry(t).push(t, tag, img)
	e := newEnv(t)
	e.ok("pull", "-q", ref)
	return e, ref
}

// probe runs every call in one container and returns spec -> result
// ("absent" for a syscall this architecture lacks).
func probeSyscalls(e *env, ref string, flags ...string) map[string]string {
	e.t.Helper()
	args := append(append([]string{"run", "--rm"}, flags...), ref, "/bin/probe", "syscalls")
	for _, c := range probeCalls {
		args = append(args, c.spec())
	}
	r := e.ok(args...)
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 {
			out[f[0]] = f[2]
		}
	}
	if len(out) != len(uniqueSpecs()) {
		e.t.Fatalf("the probe answered %d of %d calls: %s", len(out), len(uniqueSpecs()), r)
	}
	return out
}

func uniqueSpecs() map[string]bool {
	m := map[string]bool{}
	for _, c := range probeCalls {
		m[c.spec()] = true
	}
	return m
}

// sandboxRun is one configuration: den's result and the kernel's (the
// same capabilities, seccomp=unconfined).
type sandboxRun struct {
	label        string
	got, kernel  map[string]string
	wantOf       func(probeCall) string // "k", or the errno name
	proven, seen int
}

func (s *sandboxRun) cell(c probeCall) (string, bool) {
	got, kernel, want := s.got[c.spec()], s.kernel[c.spec()], s.wantOf(c)
	if got == "absent" {
		return "-", true
	}
	s.seen++
	ok := want == "k" && got == kernel || want != "k" && got == want
	// A refusal proves the filter only when the kernel would have said
	// something else.
	if ok && (want == "k" || kernel != want) {
		s.proven++
	}
	mark := "kernel"
	switch {
	case want != "k" && kernel == want:
		mark = "refused, kernel too"
	case want != "k":
		mark = "refused"
	}
	if !ok {
		mark = "WRONG, docker: " + map[bool]string{true: "kernel", false: want}[want == "k"]
	}
	return got + " (" + mark + ")", ok
}

func TestSyscallTable(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the table's arguments are amd64's")
	}
	e, ref := probeImage(t)
	letters := map[byte]string{'k': "k", 'P': "EPERM", 'N': "ENOSYS"}
	var runs []*sandboxRun
	for i, flags := range [][]string{nil, {"--cap-add", "SYS_ADMIN"}, {"--cap-add", "SYS_PTRACE"}} {
		s := &sandboxRun{label: "default", got: probeSyscalls(e, ref, flags...),
			kernel: probeSyscalls(e, ref, append(flags, "--security-opt", "seccomp=unconfined")...),
			wantOf: func(c probeCall) string { return letters[c.want[i]] }}
		if flags != nil {
			s.label = "+" + flags[1]
		}
		runs = append(runs, s)
	}
	// den's default written out as a docker-format file gives the same
	// answers: a profile file is applied exactly as the built-in one.
	prof, err := security.DefaultProfileJSON()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.dir, "den-default.json")
	if err := os.WriteFile(path, prof, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, flags := range [][]string{nil, {"--cap-add", "SYS_ADMIN"}} {
		got := probeSyscalls(e, ref, append(flags, "--security-opt", "seccomp="+path)...)
		for spec, want := range runs[i].got {
			if got[spec] != want {
				t.Errorf("seccomp=den-default.json %v: %s gave %s, the built-in profile %s", flags, spec, got[spec], want)
			}
		}
	}
	runs = append(runs, containersCommonRuns(t, e, ref, runs)...)
	printTable(t, runs)
	if runs[0].proven < 60 {
		t.Errorf("only %d syscalls proven under the default profile, want 60 or more", runs[0].proven)
	}
}

func printTable(t *testing.T, runs []*sandboxRun) {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprint(w, "syscall(args)\tkernel")
	for _, r := range runs {
		fmt.Fprint(w, "\t"+r.label)
	}
	fmt.Fprintln(w)
	for _, c := range probeCalls {
		fmt.Fprintf(w, "%s(%s)\t%s", c.name, c.args, runs[0].kernel[c.spec()])
		for _, r := range runs {
			cell, ok := r.cell(c)
			if !ok {
				t.Errorf("%s under %s: %s", c.spec(), r.label, cell)
			}
			fmt.Fprint(w, "\t"+cell)
		}
		fmt.Fprintln(w)
	}
	w.Flush()
	for _, r := range runs {
		fmt.Fprintf(&b, "%s: %d calls, %d proven (kernel's answer, or a refusal the kernel would not have given)\n", r.label, r.seen, r.proven)
	}
	t.Log("\n" + b.String())
	if p := os.Getenv("DEN_SYSCALL_TABLE"); p != "" {
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Errorf("DEN_SYSCALL_TABLE: %v", err)
		}
	}
}

// errnoNames are the errnos profiles return, by number.
var errnoNames = map[uint]string{1: "EPERM", 13: "EACCES", 22: "EINVAL", 38: "ENOSYS"}

func errnoName(n uint) string {
	if s, ok := errnoNames[n]; ok {
		return s
	}
	return "errno" + strconv.Itoa(int(n))
}

// containersCommonPath is podman's default profile, where containers-common
// is installed.
const containersCommonPath = "/usr/share/containers/seccomp.json"

// containersCommonRuns runs the probe under containers-common's profile
// with each set of capabilities and expects what the profile says, read
// by the test's own small reading of the format (oracle below).
func containersCommonRuns(t *testing.T, e *env, ref string, base []*sandboxRun) []*sandboxRun {
	b, err := os.ReadFile(containersCommonPath)
	if err != nil {
		t.Logf("no %s here (containers-common is not installed): its profile is not compared", containersCommonPath)
		return nil
	}
	var p ccProfile
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("%s: %v", containersCommonPath, err)
	}
	var out []*sandboxRun
	for i, added := range []string{"", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE"} {
		flags := []string{"--security-opt", "seccomp=" + containersCommonPath}
		if added != "" {
			flags = append(flags, "--cap-add", strings.TrimPrefix(added, "CAP_"))
		}
		caps := append([]string{added}, dockerCaps...)
		out = append(out, &sandboxRun{label: "podman" + strings.TrimPrefix(base[i].label, "default"),
			got: probeSyscalls(e, ref, flags...), kernel: base[i].kernel,
			wantOf: func(c probeCall) string { return p.expect(c, caps) }})
	}
	return out
}

var dockerCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}

type ccProfile struct {
	DefaultAction   string `json:"defaultAction"`
	DefaultErrnoRet *uint  `json:"defaultErrnoRet"`
	Syscalls        []struct {
		Names    []string `json:"names"`
		Action   string   `json:"action"`
		ErrnoRet *uint    `json:"errnoRet"`
		Args     []struct {
			Index           int
			Value, ValueTwo uint64
			Op              string
		} `json:"args"`
		Includes, Excludes struct{ Caps, Arches []string }
	} `json:"syscalls"`
}

// expect is the profile's answer for c on amd64 with caps: the first
// rule that applies, names the call and matches its arguments; else the
// default ("k" for allowed calls). runc's two quirks (a rule comparing
// one argument twice, ENOSYS above the profile's newest syscall) do not
// arise with containers-common's profile, which answers ENOSYS anyway.
func (p *ccProfile) expect(c probeCall, caps []string) string {
	answer := func(action string, errno *uint) string {
		if action == "SCMP_ACT_ALLOW" {
			return "k"
		}
		if errno == nil {
			return "EPERM"
		}
		return errnoName(*errno)
	}
	def := answer(p.DefaultAction, p.DefaultErrnoRet)
	var args [6]uint64
	for i, s := range strings.Split(c.args, ",") {
		args[i], _ = strconv.ParseUint(s, 0, 64)
	}
	for _, r := range p.Syscalls {
		applies := slices.Contains(r.Names, c.name) && (len(r.Includes.Arches) == 0 || slices.Contains(r.Includes.Arches, "amd64")) &&
			!slices.Contains(r.Excludes.Arches, "amd64")
		for _, cp := range r.Includes.Caps {
			applies = applies && slices.Contains(caps, cp)
		}
		for _, cp := range r.Excludes.Caps {
			applies = applies && !slices.Contains(caps, cp)
		}
		if !applies || answer(r.Action, r.ErrnoRet) == def {
			continue
		}
		match := true
		for _, a := range r.Args {
			v := args[a.Index]
			match = match && map[string]bool{"SCMP_CMP_EQ": v == a.Value, "SCMP_CMP_NE": v != a.Value,
				"SCMP_CMP_LT": v < a.Value, "SCMP_CMP_LE": v <= a.Value, "SCMP_CMP_GT": v > a.Value,
				"SCMP_CMP_GE": v >= a.Value, "SCMP_CMP_MASKED_EQ": v&a.Value == a.ValueTwo}[a.Op]
		}
		if match {
			return answer(r.Action, r.ErrnoRet)
		}
	}
	return def
}
