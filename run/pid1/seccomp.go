package pid1

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/net/bpf"
)

// Seccomp is a syscall filter in a form independent of any profile format:
// rules are tried in order, the first whose name and arguments match
// decides; an unlisted syscall gets the default action (errno
// DefaultErrno unless DefaultAction says otherwise).
type Seccomp struct {
	DefaultAction string        `json:"defaultAction,omitempty"` // "" is errno
	DefaultErrno  uint32        `json:"defaultErrno"`
	Rules         []SeccompRule `json:"rules"`
	// Arches are the ABIs the filter covers, in libseccomp's names
	// (SCMP_ARCH_X86_64, SCMP_ARCH_X86, ...); none means the native one.
	// A syscall from an ABI not covered kills the process.
	Arches []string `json:"arches,omitempty"`
}

// SeccompRule applies Action to the named syscalls when all Args match.
type SeccompRule struct {
	Names  []string     `json:"names"`
	Action string       `json:"action"` // allow, errno, kill, kill_process, trap, trace, log
	Errno  uint32       `json:"errno,omitempty"`
	Args   []SeccompArg `json:"args,omitempty"`
}

// SeccompArg compares argument Index: Op is eq, ne, lt, le, gt, ge, or
// masked_eq ((arg & Value) == ValueTwo), as in docker's profiles.
type SeccompArg struct {
	Index    uint32 `json:"index"`
	Op       string `json:"op"`
	Value    uint64 `json:"value"`
	ValueTwo uint64 `json:"valueTwo,omitempty"`
}

// The kernel's seccomp return values (linux/seccomp.h).
const (
	retKillProcess = 0x80000000
	retKillThread  = 0x00000000
	retTrap        = 0x00030000
	retErrno       = 0x00050000
	retTrace       = 0x7ff00000
	retLog         = 0x7ffc0000
	retAllow       = 0x7fff0000
	retData        = 0x0000ffff
	enosys         = 38
	x32Bit         = 0x40000000
)

//go:generate go run ../../internal/gensyscalls

// abi is one syscall ABI a filter covers: its audit arch, the bit its
// numbers carry (x32's), and its syscall table as "name number" lines
// (zsyscalls.go, generated from go-seccomp-bpf/arch). The table becomes a
// map only when a filter is compiled, which den caches: the library makes
// its maps in a package init that every den process paid, a container's
// init among them (0.14 ms and 160 KB of heap each).
type abi struct {
	name  string
	id    uint32
	mask  int
	table string
	once  sync.Once
	nrs   map[string]int
}

// nr is the syscall's number in this ABI.
func (a *abi) nr(name string) (int, bool) {
	a.once.Do(func() {
		a.nrs = make(map[string]int, strings.Count(a.table, "\n"))
		for _, line := range strings.Split(strings.TrimSpace(a.table), "\n") {
			n, num, _ := strings.Cut(line, " ")
			a.nrs[n], _ = strconv.Atoi(num)
		}
	})
	n, ok := a.nrs[name]
	return n, ok
}

// nativeABI is the ABI den runs under.
func nativeABI() *abi {
	switch runtime.GOARCH {
	case "amd64":
		return abiX86_64
	case "386":
		return abiI386
	case "arm64":
		return abiAARCH64
	case "arm":
		return abiARM
	}
	return nil
}

func actionCode(action string, errno uint32) (uint32, error) {
	switch action {
	case "allow":
		return retAllow, nil
	case "errno", "":
		return retErrno | errno&retData, nil
	case "kill":
		return retKillThread, nil
	case "kill_process":
		return retKillProcess, nil
	case "trap":
		return retTrap | errno&retData, nil
	case "trace":
		return retTrace | errno&retData, nil
	case "log":
		return retLog, nil
	}
	return 0, fmt.Errorf("seccomp action %q is not supported", action)
}

// CompileSeccomp turns the filter into the classic BPF program init loads,
// packed as the kernel's struct sock_filter array. den compiles it while
// the init starts, so the init's critical path only loads it.
func CompileSeccomp(s *Seccomp) ([]byte, error) {
	raw, err := buildSeccomp(s)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 8*len(raw))
	for _, r := range raw {
		out = binary.NativeEndian.AppendUint16(out, r.Op)
		out = append(out, r.Jt, r.Jf)
		out = binary.NativeEndian.AppendUint32(out, r.K)
	}
	return out, nil
}

// buildSeccomp compiles the filter the way runc and libseccomp build
// docker's: per ABI, syscall numbers above the highest one the profile
// names answer ENOSYS (so that a libc falls back from a syscall newer than
// the profile), the others are looked up in a binary search and their
// rules tried in order; names an ABI lacks are skipped.
func buildSeccomp(s *Seccomp) ([]bpf.RawInstruction, error) {
	def, err := actionCode(s.DefaultAction, s.DefaultErrno)
	if err != nil {
		return nil, err
	}
	abis, err := filterArches(s.Arches)
	if err != nil {
		return nil, err
	}
	var rules []compiledRule
	for _, r := range s.Rules {
		code, err := actionCode(r.Action, r.Errno)
		if err != nil {
			return nil, err
		}
		for _, a := range r.Args {
			if _, ok := argOps[a.Op]; !ok || a.Index > 5 {
				return nil, fmt.Errorf("seccomp argument comparison %q on argument %d is not supported", a.Op, a.Index)
			}
		}
		rules = append(rules, compiledRule{SeccompRule: r, code: code})
	}
	stub := def != retAllow && def != retLog && def != retErrno|enosys
	p := &program{}
	badArch := p.label()
	var entries []label
	p.ld(4) // seccomp_data.arch
	groups := groupByAuditArch(abis)
	for _, ids := range groups {
		entry := p.label()
		entries = append(entries, entry)
		next := p.label()
		p.jump(jeq, ids[0].id, entry, next)
		p.set(next)
	}
	p.jumpTo(badArch)
	for i, ids := range groups {
		p.set(entries[i])
		p.ld(0) // seccomp_data.nr
		p.abiSection(ids, rules, def, stub, badArch)
	}
	p.set(badArch)
	p.ret(retKillProcess)
	return p.assemble()
}

func filterArches(names []string) ([]*abi, error) {
	native := nativeABI()
	if native == nil {
		return nil, fmt.Errorf("seccomp: den has no syscall table for %s", runtime.GOARCH)
	}
	out := []*abi{native}
	for _, n := range names {
		if a := abiNamed(n); a != nil && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

// groupByAuditArch puts x86_64 and x32 together: they share an audit arch
// and differ by a bit of the syscall number.
func groupByAuditArch(abis []*abi) [][]*abi {
	var out [][]*abi
	idx := map[uint32]int{}
	for _, a := range abis {
		if i, ok := idx[a.id]; ok {
			out[i] = append(out[i], a)
			continue
		}
		idx[a.id] = len(out)
		out = append(out, []*abi{a})
	}
	for _, g := range out {
		sort.Slice(g, func(i, j int) bool { return g[i].mask < g[j].mask })
	}
	return out
}

type compiledRule struct {
	SeccompRule
	code uint32
}

// abiSection emits the checks of one audit arch, the syscall number
// loaded. x32 calls (bit 30) go to their own table, or are refused as an
// ABI not covered.
func (p *program) abiSection(ids []*abi, rules []compiledRule, def uint32, stub bool, badArch label) {
	if ids[0].id != abiX86_64.id {
		p.syscallTable(ids[0], rules, def, stub)
		return
	}
	x64, x32 := p.label(), badArch
	if len(ids) == 2 {
		x32 = p.label()
	}
	p.jump(jset, x32Bit, x32, x64)
	p.set(x64)
	p.syscallTable(ids[0], rules, def, stub)
	if len(ids) == 2 {
		p.set(x32)
		p.syscallTable(ids[1], rules, def, stub)
	}
}

// syscallTable emits the ENOSYS stub and a binary search over the
// syscalls with rules; each leaf tries that syscall's rules in order.
func (p *program) syscallTable(a *abi, rules []compiledRule, def uint32, stub bool) {
	per := map[uint32][]compiledRule{}
	var highest uint32 // of the syscalls the profile names: above it, ENOSYS
	for _, r := range rules {
		for _, n := range r.Names {
			if nr, ok := a.nr(n); ok {
				num := uint32(nr | a.mask)
				highest = max(highest, num)
				if r.code != def { // as runc: a rule that says the default changes nothing
					per[num] = append(per[num], r)
				}
			}
		}
	}
	nums := make([]uint32, 0, len(per))
	for n := range per {
		nums = append(nums, n)
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	deflt := p.label()
	if stub && highest > 0 {
		nosys, body := p.label(), p.label()
		p.jump(jgt, highest, nosys, body)
		p.set(nosys)
		p.ret(retErrno | enosys)
		p.set(body)
	}
	p.search(segments(nums, per, def), deflt, a.mask == 0 && a.id&0x80000000 != 0)
	p.set(deflt)
	p.ret(def)
}

// segment is a run of syscall numbers from start up to the next
// segment's that ends the same way: rules nil, the default; one rule
// without arguments, its action; else those rules, for the one number.
type segment struct {
	start uint32
	rules []compiledRule
}

// segments cuts the numbers into runs: docker's profile allows most
// syscalls in long runs, and a run takes one comparison and one return
// where each syscall took three instructions (2,861 in all for docker's
// profile on amd64, x32 and i386, 0.4 ms to load at every start; 692 now).
func segments(nums []uint32, per map[uint32][]compiledRule, def uint32) []segment {
	plain := func(rs []compiledRule) (uint32, bool) {
		if len(rs) > 0 && len(rs[0].Args) == 0 {
			return rs[0].code, true
		}
		return 0, false
	}
	var segs []segment
	add := func(start uint32, rs []compiledRule) {
		if n := len(segs); n > 0 && segs[n-1].start == start {
			segs[n-1].rules = rs // syscall 0 over the default below it
			return
		}
		if n := len(segs); n > 0 {
			last := segs[n-1].rules
			lc, lok := plain(last)
			c, ok := plain(rs)
			if last == nil && rs == nil || lok && ok && lc == c {
				return // the run goes on
			}
		}
		segs = append(segs, segment{start: start, rules: rs})
	}
	add(0, nil)
	for i, n := range nums {
		add(n, per[n])
		if i == len(nums)-1 || nums[i+1] != n+1 {
			add(n+1, nil) // a gap, or the numbers above the highest
		}
	}
	return segs
}

// search emits a binary search for the segment that holds the syscall
// number: the last whose start is not above it.
func (p *program) search(segs []segment, deflt label, wide bool) {
	if len(segs) == 1 {
		if segs[0].rules == nil {
			p.jumpTo(deflt)
			return
		}
		p.leaf(segs[0].rules, deflt, wide)
		return
	}
	mid := len(segs) / 2
	hi, lo := p.label(), p.label()
	p.jump(jge, segs[mid].start, hi, lo)
	p.set(lo)
	p.search(segs[:mid], deflt, wide)
	p.set(hi)
	p.search(segs[mid:], deflt, wide)
}

// leaf tries one syscall's rules in order; the syscall number is in A.
func (p *program) leaf(rules []compiledRule, deflt label, wide bool) {
	for _, r := range rules {
		if len(r.Args) == 0 {
			p.ret(r.code)
			return
		}
		pass, fail := p.label(), p.label()
		for i, a := range r.Args {
			next := pass
			if i < len(r.Args)-1 {
				next = p.label()
			}
			p.compare(a, next, fail, wide)
			if next != pass {
				p.set(next)
			}
		}
		p.set(pass)
		p.ret(r.code)
		p.set(fail)
	}
	p.jumpTo(deflt)
}
