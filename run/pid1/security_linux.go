package pid1

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"unsafe"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// restrict narrows what the command will inherit from this thread: the
// capability bounding set, no_new_privs and the seccomp filter. They are
// set on init's own (locked) thread right before it forks the command,
// so init itself keeps running unrestricted on its other threads.
func restrict(c *Config) error {
	if c.Caps != nil {
		keep := map[uint]bool{}
		for _, cp := range c.Caps {
			keep[cp] = true
		}
		for cp := uint(0); cp <= c.LastCap; cp++ {
			if keep[cp] {
				continue
			}
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(cp), 0, 0, 0); err != nil {
				return fmt.Errorf("dropping capability %d from the bounding set: %w", cp, err)
			}
		}
	}
	if c.NoNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("setting no_new_privs: %w", err)
		}
	}
	if c.SeccompFilter != nil {
		return loadSeccomp(c.SeccompFilter)
	}
	return nil
}

// lockThread pins init to one OS thread: prctl and seccomp act per thread,
// and the fork that starts the command must happen on that thread.
func lockThread() { runtime.LockOSThread() }

var ops = map[string]seccomp.Operation{
	"eq": seccomp.Equal, "ne": seccomp.NotEqual, "lt": seccomp.LessThan, "le": seccomp.LessOrEqual,
	"gt": seccomp.GreaterThan, "ge": seccomp.GreaterOrEqual,
}

func action(r SeccompRule) (seccomp.Action, error) {
	switch r.Action {
	case "allow":
		return seccomp.ActionAllow, nil
	case "errno":
		return seccomp.Action(unix.SECCOMP_RET_ERRNO | r.Errno&unix.SECCOMP_RET_DATA), nil
	case "kill":
		return seccomp.ActionKillThread, nil
	case "kill_process":
		return seccomp.ActionKillProcess, nil
	case "trap":
		return seccomp.ActionTrap, nil
	case "log":
		return seccomp.ActionLog, nil
	}
	return 0, fmt.Errorf("seccomp action %q is not supported", r.Action)
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

// buildSeccomp compiles the filter for this architecture; syscalls the
// architecture lacks are skipped, as libseccomp does.
func buildSeccomp(s *Seccomp) ([]bpf.RawInstruction, error) {
	info, err := arch.GetInfo("")
	if err != nil {
		return nil, fmt.Errorf("seccomp: %w", err)
	}
	pol := seccomp.Policy{DefaultAction: seccomp.ActionErrno}
	for _, r := range s.Rules {
		act, err := action(r)
		if err != nil {
			return nil, err
		}
		g := seccomp.SyscallGroup{Action: act}
		var conds seccomp.ArgumentConditions
		for _, a := range r.Args {
			c := seccomp.Condition{Argument: a.Index, Value: a.Value}
			switch {
			case a.Op == "masked_eq" && a.ValueTwo == 0:
				c.Operation = seccomp.BitsNotSet
			case a.Op == "masked_eq" && a.ValueTwo == a.Value && a.Value&(a.Value-1) == 0:
				c.Operation = seccomp.BitsSet
			default:
				op, ok := ops[a.Op]
				if !ok {
					return nil, fmt.Errorf("seccomp argument comparison %q (value %d, %d) is not supported", a.Op, a.Value, a.ValueTwo)
				}
				c.Operation = op
			}
			conds = append(conds, c)
		}
		for _, n := range r.Names {
			if _, ok := info.SyscallNames[n]; !ok {
				continue
			}
			if len(conds) == 0 {
				g.Names = append(g.Names, n)
			} else {
				g.NamesWithCondtions = append(g.NamesWithCondtions, seccomp.NameWithConditions{Name: n, Conditions: conds})
			}
		}
		pol.Syscalls = append(pol.Syscalls, g)
	}
	insts, err := pol.Assemble()
	if err != nil {
		return nil, fmt.Errorf("assembling the seccomp filter: %w", err)
	}
	// The library's errno action carries no errno; give the default its
	// own (EPERM, as docker's profile says).
	bare := bpf.RetConstant{Val: uint32(seccomp.ActionErrno)}
	for i, in := range insts {
		if in == bare {
			insts[i] = bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | s.DefaultErrno&unix.SECCOMP_RET_DATA}
		}
	}
	return bpf.Assemble(insts)
}

func loadSeccomp(packed []byte) error {
	if len(packed) == 0 || len(packed)%8 != 0 {
		return fmt.Errorf("loading the seccomp filter: %d bytes is not a program", len(packed))
	}
	filter := make([]unix.SockFilter, len(packed)/8)
	for i := range filter {
		b := packed[8*i:]
		filter[i] = unix.SockFilter{Code: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:])}
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&prog)), 0, 0); err != nil {
		return fmt.Errorf("loading the seccomp filter: %w", err)
	}
	return nil
}
