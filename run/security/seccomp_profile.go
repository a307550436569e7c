package security

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/run/pid1"
)

// Profile is the JSON format of docker's and podman's seccomp profiles
// (moby/profiles/seccomp), the fields that decide the filter.
type Profile struct {
	DefaultAction   string    `json:"defaultAction"`
	DefaultErrnoRet *uint     `json:"defaultErrnoRet,omitempty"`
	Architectures   []string  `json:"architectures,omitempty"`
	ArchMap         []ArchMap `json:"archMap,omitempty"`
	Syscalls        []Syscall `json:"syscalls"`
}

// ArchMap lists the ABIs a filter covers on one native architecture.
type ArchMap struct {
	Arch      string   `json:"architecture"`
	SubArches []string `json:"subArchitectures"`
}

// Syscall is one rule: an action for the named syscalls, when the
// arguments match and the container's capabilities, architecture and
// kernel are as includes and excludes say.
type Syscall struct {
	Names    []string `json:"names,omitempty"`
	Name     string   `json:"name,omitempty"`
	Action   string   `json:"action"`
	ErrnoRet *uint    `json:"errnoRet,omitempty"`
	Args     []Arg    `json:"args,omitempty"`
	Comment  string   `json:"comment,omitempty"`
	Includes *Filter  `json:"includes,omitempty"`
	Excludes *Filter  `json:"excludes,omitempty"`
}

// Arg compares one argument of the syscall.
type Arg struct {
	Index    uint32 `json:"index"`
	Value    uint64 `json:"value"`
	ValueTwo uint64 `json:"valueTwo,omitempty"`
	Op       string `json:"op"`
}

// Filter is a rule's includes or excludes block.
type Filter struct {
	Caps      []string `json:"caps,omitempty"`
	Arches    []string `json:"arches,omitempty"`
	MinKernel string   `json:"minKernel,omitempty"`
}

// dockerArch is moby's name for the native architecture (includes and
// excludes name it so), and archMap's key for it.
var dockerArch = map[string][2]string{
	"amd64": {"amd64", "SCMP_ARCH_X86_64"}, "arm64": {"arm64", "SCMP_ARCH_AARCH64"},
	"arm": {"arm", "SCMP_ARCH_ARM"}, "386": {"x86", "SCMP_ARCH_X86"},
	"ppc64le": {"ppc64le", "SCMP_ARCH_PPC64LE"}, "s390x": {"s390x", "SCMP_ARCH_S390X"},
	"riscv64": {"riscv64", "SCMP_ARCH_RISCV64"},
}

// actions maps docker's action names to the init's.
var actions = map[string]string{
	"SCMP_ACT_ALLOW": "allow", "SCMP_ACT_ERRNO": "errno", "SCMP_ACT_KILL": "kill",
	"SCMP_ACT_KILL_THREAD": "kill", "SCMP_ACT_KILL_PROCESS": "kill_process",
	"SCMP_ACT_TRAP": "trap", "SCMP_ACT_TRACE": "trace", "SCMP_ACT_LOG": "log",
}

func loadProfile(path string, caps []uint) (*pid1.Seccomp, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--security-opt seccomp: %w", err)
	}
	return ParseProfile(path, b, caps)
}

// ParseProfile reads a docker-format profile's JSON for a container with
// caps (its bounding set); path only names it in errors.
func ParseProfile(path string, b []byte, caps []uint) (*pid1.Seccomp, error) {
	var p Profile
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("--security-opt seccomp: %s is not a seccomp profile: %w", path, err)
	}
	s, err := p.Resolve(caps)
	if err != nil {
		return nil, fmt.Errorf("--security-opt seccomp: %s: %w", path, err)
	}
	return s, nil
}

// Resolve keeps the rules that apply to a container with caps on this
// machine, as moby does before it hands the filter to runc, and applies
// runc's reading of them.
func (p *Profile) Resolve(caps []uint) (*pid1.Seccomp, error) {
	def, ok := actions[p.DefaultAction]
	if !ok {
		return nil, fmt.Errorf("defaultAction %q is not supported (use SCMP_ACT_ERRNO, SCMP_ACT_ALLOW, SCMP_ACT_KILL_PROCESS, ...)", p.DefaultAction)
	}
	if len(p.Architectures) != 0 && len(p.ArchMap) != 0 {
		return nil, errors.New("both architectures and archMap are given: use one")
	}
	out := &pid1.Seccomp{DefaultAction: def, DefaultErrno: errnoOr(p.DefaultErrnoRet), Arches: p.Architectures}
	native := dockerArch[runtime.GOARCH]
	for _, m := range p.ArchMap {
		if m.Arch == native[1] {
			out.Arches = append([]string{m.Arch}, m.SubArches...)
		}
	}
	for i, s := range p.Syscalls {
		names := s.Names
		if s.Name != "" {
			if len(s.Names) != 0 {
				return nil, fmt.Errorf("syscalls[%d] has both name and names: use one", i)
			}
			names = []string{s.Name}
		}
		applies, err := s.applies(caps, native[0])
		if err != nil {
			return nil, fmt.Errorf("syscalls[%d]: %w", i, err)
		}
		if !applies {
			continue
		}
		act, ok := actions[s.Action]
		if !ok {
			return nil, fmt.Errorf("syscalls[%d]: action %q is not supported", i, s.Action)
		}
		rule := pid1.SeccompRule{Names: names, Action: act, Errno: errnoOr(s.ErrnoRet)}
		for _, a := range s.Args {
			op, ok := argOps[a.Op]
			if !ok || a.Index > 5 {
				return nil, fmt.Errorf("syscalls[%d]: argument %d comparison %q is not supported", i, a.Index, a.Op)
			}
			rule.Args = append(rule.Args, pid1.SeccompArg{Index: a.Index, Op: op, Value: a.Value, ValueTwo: a.ValueTwo})
		}
		out.Rules = append(out.Rules, splitSameIndex(rule)...)
	}
	return out, nil
}

var argOps = map[string]string{
	"SCMP_CMP_EQ": "eq", "SCMP_CMP_NE": "ne", "SCMP_CMP_LT": "lt", "SCMP_CMP_LE": "le",
	"SCMP_CMP_GT": "gt", "SCMP_CMP_GE": "ge", "SCMP_CMP_MASKED_EQ": "masked_eq",
}

// errnoOr is an errnoRet, EPERM when absent (runc's default).
func errnoOr(e *uint) uint32 {
	if e == nil {
		return uint32(unix.EPERM)
	}
	return uint32(*e)
}

// splitSameIndex follows runc: when a rule compares one argument more
// than once, each comparison becomes a rule of its own (they are ORed).
func splitSameIndex(r pid1.SeccompRule) []pid1.SeccompRule {
	seen := map[uint32]bool{}
	repeated := false
	for _, a := range r.Args {
		repeated = repeated || seen[a.Index]
		seen[a.Index] = true
	}
	if !repeated {
		return []pid1.SeccompRule{r}
	}
	var out []pid1.SeccompRule
	for _, a := range r.Args {
		one := r
		one.Args = []pid1.SeccompArg{a}
		out = append(out, one)
	}
	return out
}

// applies reads includes and excludes as moby does: every included
// capability held (in the bounding set), the architecture listed, the
// kernel at least minKernel; and no excluded one.
func (s Syscall) applies(caps []uint, arch string) (bool, error) {
	if f := s.Excludes; f != nil {
		if slices.Contains(f.Arches, arch) || slices.ContainsFunc(f.Caps, func(c string) bool { return hasCapName(caps, c) }) {
			return false, nil
		}
		if f.MinKernel != "" {
			ok, err := kernelAtLeast(f.MinKernel)
			if err != nil || ok {
				return false, err
			}
		}
	}
	if f := s.Includes; f != nil {
		if len(f.Arches) > 0 && !slices.Contains(f.Arches, arch) {
			return false, nil
		}
		for _, c := range f.Caps {
			if !hasCapName(caps, c) {
				return false, nil
			}
		}
		if f.MinKernel != "" {
			return kernelAtLeast(f.MinKernel)
		}
	}
	return true, nil
}

// hasCapName matches docker's spelling, CAP_SYS_ADMIN; an unknown name is
// never held.
func hasCapName(caps []uint, name string) bool {
	n, ok := capNames[strings.TrimPrefix(name, "CAP_")]
	return ok && strings.HasPrefix(name, "CAP_") && slices.Contains(caps, n)
}

// kernelAtLeast compares the running kernel's "major.minor" with want.
func kernelAtLeast(want string) (bool, error) {
	var wk, wm, k, m int
	if _, err := fmt.Sscanf(want, "%d.%d", &wk, &wm); err != nil {
		return false, fmt.Errorf("minKernel %q is not a kernel version (e.g. 4.8)", want)
	}
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return false, err
	}
	if _, err := fmt.Sscanf(unix.ByteSliceToString(uts.Release[:]), "%d.%d", &k, &m); err != nil {
		return false, fmt.Errorf("reading the kernel version: %w", err)
	}
	return k > wk || k == wk && m >= wm, nil
}
