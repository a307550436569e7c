package pid1

import (
	"encoding/binary"
	"math/rand"
	"testing"

	"github.com/elastic/go-seccomp-bpf/arch"
)

// reference is the filter's meaning, written plainly: the first rule
// whose name and arguments match decides; numbers above the highest named
// syscall answer ENOSYS; the rest get the default.
func reference(s *Seccomp, a *arch.Info, nr uint32, args [6]uint64) uint32 {
	def, _ := actionCode(s.DefaultAction, s.DefaultErrno)
	wide := a.SeccompMask == 0 && a.ID&0x80000000 != 0
	var highest uint32
	for _, r := range s.Rules {
		code, _ := actionCode(r.Action, r.Errno)
		for _, n := range r.Names {
			num, ok := syscallNames(a)[n]
			if !ok {
				continue
			}
			highest = max(highest, uint32(num|a.SeccompMask))
			if uint32(num|a.SeccompMask) != nr || code == def || !argsMatch(r.Args, args, wide) {
				continue
			}
			return code
		}
	}
	if nr > highest && def != retAllow && def != retLog && def != retErrno|enosys {
		return retErrno | enosys
	}
	return def
}

func argsMatch(conds []SeccompArg, args [6]uint64, wide bool) bool {
	for _, c := range conds {
		v, want, mask := args[c.Index], c.Value, c.ValueTwo
		if !wide {
			v, want, mask = uint64(uint32(v)), uint64(uint32(want)), uint64(uint32(mask))
		}
		ok := map[string]bool{"eq": v == want, "ne": v != want, "lt": v < want, "le": v <= want,
			"gt": v > want, "ge": v >= want, "masked_eq": v&want == mask}[c.Op]
		if !ok {
			return false
		}
	}
	return true
}

// testFilter has a rule of every shape: plain, per comparison, 64-bit
// values, several conditions, an errno, a rule equal to the default.
func testFilter(n int) *Seccomp {
	s := &Seccomp{DefaultErrno: 1, Arches: []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}}
	names := make([]string, 0, n)
	for nr := 0; len(names) < n; nr++ {
		if name, ok := arch.X86_64.SyscallNumbers[nr]; ok {
			names = append(names, name)
		}
	}
	ops := []string{"eq", "ne", "lt", "le", "gt", "ge", "masked_eq"}
	for i, name := range names {
		r := SeccompRule{Names: []string{name}, Action: "allow"}
		switch i % 4 {
		case 1:
			r.Args = []SeccompArg{{Index: uint32(i % 6), Op: ops[i%7], Value: uint64(i) << (i % 40), ValueTwo: uint64(i) << (i % 40) & 0xff00ff00ff}}
		case 2:
			r.Action, r.Errno = "errno", uint32(i%100)
			r.Args = []SeccompArg{{Index: 0, Op: "gt", Value: 5}, {Index: 1, Op: "masked_eq", Value: 0xf0, ValueTwo: 0x30}}
		case 3:
			r.Action = "errno" // the default: dropped
		}
		s.Rules = append(s.Rules, r)
	}
	return s
}

// runsFilter is shaped like docker's profile: long runs of syscalls
// allowed outright, broken by conditional rules (some before a plain rule
// for the same syscall), other errnos, and syscalls left to the default.
func runsFilter(n int) *Seccomp {
	s := &Seccomp{DefaultErrno: 1, Arches: []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}}
	var plain []string
	for nr := 0; nr < n; nr++ {
		name, ok := arch.X86_64.SyscallNumbers[nr]
		switch {
		case !ok || nr%13 == 5:
			// left to the default
		case nr%17 == 3:
			s.Rules = append(s.Rules, SeccompRule{Names: []string{name}, Action: "allow", Args: []SeccompArg{{Index: 0, Op: "eq", Value: 5}}})
			if nr%2 == 1 {
				plain = append(plain, name) // and then allowed outright
			}
		case nr%19 == 7:
			s.Rules = append(s.Rules, SeccompRule{Names: []string{name}, Action: "errno", Errno: 38})
		default:
			plain = append(plain, name)
		}
	}
	s.Rules = append(s.Rules, SeccompRule{Names: plain, Action: "allow"})
	// The highest syscall named, with the default's action: numbers
	// between it and the highest with another action get the default,
	// not ENOSYS (runc counts every rule's names).
	if name, ok := arch.X86_64.SyscallNumbers[n]; ok {
		s.Rules = append(s.Rules, SeccompRule{Names: []string{name}, Action: "errno", Errno: 1})
	}
	return s
}

func TestCompiledFilterMatchesRules(t *testing.T) {
	rng := rand.New(rand.NewSource(16))
	for _, size := range []int{3, 40, 150, -40, -330} { // 300: long jumps; negative: runsFilter
		var s *Seccomp
		if size < 0 {
			size = -size
			s = runsFilter(size)
		} else {
			s = testFilter(size)
		}
		packed, err := CompileSeccomp(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []*arch.Info{arch.X86_64, arch.I386, arch.X32} {
			for i := 0; i < 4000; i++ {
				nr := uint32(rng.Intn(size+20)) | uint32(a.SeccompMask)
				var args [6]uint64
				for j := range args {
					args[j] = []uint64{0, 5, 6, 0x30, 0x3f, uint64(rng.Intn(1 << 12)), rng.Uint64(), uint64(rng.Intn(size)) << rng.Intn(40)}[rng.Intn(8)]
				}
				got, err := RunFilter(packed, uint32(a.ID), nr, args)
				if err != nil {
					t.Fatal(err)
				}
				if want := reference(s, a, nr, args); got != want {
					t.Fatalf("%d rules, %s syscall %d %x: filter says %#x, rules %#x", size, a.Name, nr, args, got, want)
				}
			}
		}
	}
}

func TestSeccompABIs(t *testing.T) {
	s := &Seccomp{DefaultErrno: 1, Rules: []SeccompRule{{Names: []string{"read", "write"}, Action: "allow"}}}
	packed, err := CompileSeccomp(s)
	if err != nil {
		t.Fatal(err)
	}
	verdict := func(a *arch.Info, nr uint32) uint32 {
		v, err := RunFilter(packed, uint32(a.ID), nr, [6]uint64{})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Native only: 32-bit and x32 calls are an ABI the filter does not
	// cover, and a foreign architecture too.
	if verdict(arch.X86_64, 0) != retAllow || verdict(arch.I386, 3) != retKillProcess || verdict(arch.X86_64, x32Bit) != retKillProcess || verdict(arch.AARCH64, 63) != retKillProcess {
		t.Error("native-only filter")
	}
	s.Arches = []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}
	if packed, err = CompileSeccomp(s); err != nil {
		t.Fatal(err)
	}
	// i386's read is 3, x32's is 0 with bit 30.
	if v := []uint32{verdict(arch.I386, 3), verdict(arch.X86_64, x32Bit), verdict(arch.I386, 2)}; v[0] != retAllow || v[1] != retAllow || v[2] != retErrno|1 {
		t.Errorf("32-bit ABIs: %#x", v)
	}
	if v := []uint32{verdict(arch.X86_64, 2), verdict(arch.X86_64, 999), verdict(arch.X86_64, x32Bit|2)}; v[0] != retErrno|enosys || v[1] != retErrno|enosys || v[2] != retErrno|enosys {
		t.Errorf("numbers above the highest named syscall answer ENOSYS: %#x", v)
	}
}

func TestCompileSeccompPacksTheProgram(t *testing.T) {
	s := &Seccomp{DefaultErrno: 1, Rules: []SeccompRule{
		{Names: []string{"read", "write", "no_such_syscall"}, Action: "allow"},
		{Names: []string{"personality"}, Action: "allow", Args: []SeccompArg{{Index: 0, Op: "eq", Value: 8}}},
	}}
	raw, err := buildSeccomp(s)
	if err != nil {
		t.Fatal(err)
	}
	packed, err := CompileSeccomp(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(packed) != 8*len(raw) {
		t.Fatalf("%d bytes for %d instructions", len(packed), len(raw))
	}
	for i, r := range raw {
		b := packed[8*i:]
		if binary.NativeEndian.Uint16(b) != r.Op || b[2] != r.Jt || b[3] != r.Jf || binary.NativeEndian.Uint32(b[4:]) != r.K {
			t.Fatalf("instruction %d packed wrong: % x, want %+v", i, b[:8], r)
		}
	}
	for _, bad := range []SeccompRule{{Names: []string{"read"}, Action: "dance"},
		{Names: []string{"read"}, Action: "allow", Args: []SeccompArg{{Index: 6, Op: "eq"}}},
		{Names: []string{"read"}, Action: "allow", Args: []SeccompArg{{Index: 0, Op: "like"}}}} {
		if _, err := CompileSeccomp(&Seccomp{Rules: []SeccompRule{bad}}); err == nil {
			t.Errorf("%+v compiled", bad)
		}
	}
	if err := loadSeccomp(packed[:5]); err == nil {
		t.Fatal("a truncated program was loaded")
	}
}

// syscallNames inverts the library's table. Where x32 lists a name twice
// (readv at 19, 64-bit only, and at 515 for x32) the x32 number is the
// one that works, as libseccomp has it; the library's own inverted map
// takes either, as Go's map order falls.
func syscallNames(a *arch.Info) map[string]int {
	if m, ok := inverted[a]; ok {
		return m
	}
	out := map[string]int{}
	inverted[a] = out
	for nr, n := range a.SyscallNumbers {
		if old, ok := out[n]; !ok || nr > old {
			out[n] = nr
		}
	}
	return out
}

var inverted = map[*arch.Info]map[string]int{}

// The generated tables are the library's (go generate ./run/pid1 after
// updating it).
func TestSyscallTablesAreTheLibrarys(t *testing.T) {
	for name, want := range map[string]*arch.Info{"SCMP_ARCH_X86_64": arch.X86_64, "SCMP_ARCH_X86": arch.I386,
		"SCMP_ARCH_X32": arch.X32, "SCMP_ARCH_AARCH64": arch.AARCH64, "SCMP_ARCH_ARM": arch.ARM} {
		a := abiNamed(name)
		if a == nil || a.id != uint32(want.ID) || a.mask != want.SeccompMask {
			t.Fatalf("%s: %+v", name, a)
		}
		a.nr("read")
		if len(a.nrs) != len(want.SyscallNames) {
			t.Errorf("%s: %d syscalls, the library has %d", name, len(a.nrs), len(want.SyscallNames))
		}
		for n, nr := range syscallNames(want) {
			if got, ok := a.nr(n); !ok || got != nr {
				t.Errorf("%s %s: %d %v, want %d", name, n, got, ok, nr)
			}
		}
	}
	if nativeABI() == nil {
		t.Fatal("no native ABI")
	}
}
