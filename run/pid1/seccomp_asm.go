package pid1

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/net/bpf"
)

// A tiny classic-BPF assembler for seccomp filters: instructions refer to
// labels, and conditional jumps too far for their 8-bit offsets go
// through an unconditional jump placed right after them.

type label int

type cond int

const (
	jeq cond = iota
	jgt
	jge
	jset
)

type insn struct {
	kind byte // 'l' load, '&' and, 'j' conditional jump, 'a' jump always, 'r' return, ':' label
	k    uint32
	cond cond
	t, f label
	at   label // the label a ':' pseudo-instruction defines
}

type program struct {
	ins    []insn
	labels int
}

func (p *program) label() label { p.labels++; return label(p.labels) }
func (p *program) set(l label)  { p.ins = append(p.ins, insn{kind: ':', at: l}) }
func (p *program) ld(off uint32) {
	p.ins = append(p.ins, insn{kind: 'l', k: off})
}
func (p *program) and(k uint32)   { p.ins = append(p.ins, insn{kind: '&', k: k}) }
func (p *program) ret(k uint32)   { p.ins = append(p.ins, insn{kind: 'r', k: k}) }
func (p *program) jumpTo(l label) { p.ins = append(p.ins, insn{kind: 'a', t: l}) }
func (p *program) jump(c cond, k uint32, t, f label) {
	p.ins = append(p.ins, insn{kind: 'j', cond: c, k: k, t: t, f: f})
}

// loOff is where the low half of a 64-bit argument sits.
var loOff = func() uint32 {
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return 0 // little endian
	}
	return 4
}()

// Offsets of seccomp_data.args[i]'s 32-bit halves.
func argLo(i uint32) uint32 { return 16 + 8*i + loOff }
func argHi(i uint32) uint32 { return 16 + 8*i + 4 - loOff }

// argOps are the comparisons docker's profiles use.
var argOps = map[string]bool{"eq": true, "ne": true, "lt": true, "le": true, "gt": true, "ge": true, "masked_eq": true}

// compare jumps to pass when argument a holds, else to fail. On 64-bit
// ABIs both halves are compared, high first, as libseccomp does; on 32-bit
// ones only the low half.
func (p *program) compare(a SeccompArg, pass, fail label, wide bool) {
	vhi, vlo := uint32(a.Value>>32), uint32(a.Value)
	lo := p.label()
	if a.Op == "masked_eq" {
		whi, wlo := uint32(a.ValueTwo>>32), uint32(a.ValueTwo)
		if wide {
			p.ld(argHi(a.Index))
			p.and(vhi)
			p.jump(jeq, whi, lo, fail)
			p.set(lo)
		}
		p.ld(argLo(a.Index))
		p.and(vlo)
		p.jump(jeq, wlo, pass, fail)
		return
	}
	// On the high half: below, equal (decided by the low half), above.
	type outcome struct{ below, above label }
	var hiOut outcome
	var loT, loF label
	var c cond
	switch a.Op {
	case "eq":
		hiOut, c, loT, loF = outcome{fail, fail}, jeq, pass, fail
	case "ne":
		hiOut, c, loT, loF = outcome{pass, pass}, jeq, fail, pass
	case "gt":
		hiOut, c, loT, loF = outcome{fail, pass}, jgt, pass, fail
	case "ge":
		hiOut, c, loT, loF = outcome{fail, pass}, jge, pass, fail
	case "lt":
		hiOut, c, loT, loF = outcome{pass, fail}, jge, fail, pass
	case "le":
		hiOut, c, loT, loF = outcome{pass, fail}, jgt, fail, pass
	}
	if wide {
		notAbove := p.label()
		p.ld(argHi(a.Index))
		p.jump(jgt, vhi, hiOut.above, notAbove)
		p.set(notAbove)
		p.jump(jeq, vhi, lo, hiOut.below)
		p.set(lo)
	}
	p.ld(argLo(a.Index))
	p.jump(c, vlo, loT, loF)
}

// assemble lays the program out, adds the long jumps it needs and
// encodes it.
func (p *program) assemble() ([]bpf.RawInstruction, error) {
	ins := p.ins
	for {
		pos, at := layout(ins)
		var out []insn
		grown := false
		for i, in := range ins {
			out = append(out, in)
			if in.kind != 'j' {
				continue
			}
			for _, target := range []*label{&out[len(out)-1].t, &out[len(out)-1].f} {
				if at[*target]-pos[i]-1 > 255 {
					tramp := p.label()
					dest := *target
					*target = tramp
					out = append(out, insn{kind: ':', at: tramp}, insn{kind: 'a', t: dest})
					grown = true
				}
			}
		}
		ins = out
		if !grown {
			break
		}
	}
	pos, at := layout(ins)
	var prog []bpf.Instruction
	for i, in := range ins {
		if (in.kind == 'a' || in.kind == 'j') && (at[in.t] <= pos[i] || in.kind == 'j' && at[in.f] <= pos[i]) {
			return nil, fmt.Errorf("seccomp: jump %d goes backwards", i)
		}
		switch in.kind {
		case 'l':
			prog = append(prog, bpf.LoadAbsolute{Off: in.k, Size: 4})
		case '&':
			prog = append(prog, bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: in.k})
		case 'r':
			prog = append(prog, bpf.RetConstant{Val: in.k})
		case 'a':
			prog = append(prog, bpf.Jump{Skip: uint32(at[in.t] - pos[i] - 1)})
		case 'j':
			tests := map[cond]bpf.JumpTest{jeq: bpf.JumpEqual, jgt: bpf.JumpGreaterThan, jge: bpf.JumpGreaterOrEqual, jset: bpf.JumpBitsSet}
			prog = append(prog, bpf.JumpIf{Cond: tests[in.cond], Val: in.k,
				SkipTrue: uint8(at[in.t] - pos[i] - 1), SkipFalse: uint8(at[in.f] - pos[i] - 1)})
		}
	}
	if len(prog) > 4096 {
		return nil, fmt.Errorf("the seccomp filter needs %d instructions, the kernel takes 4096", len(prog))
	}
	return bpf.Assemble(prog)
}

// layout gives each instruction its index in the program and each label
// the index of the instruction after it. Jumps only go forward.
func layout(ins []insn) (pos []int, at map[label]int) {
	pos = make([]int, len(ins))
	at = map[label]int{}
	n := 0
	for i, in := range ins {
		pos[i] = n
		if in.kind == ':' {
			at[in.at] = n
			continue
		}
		n++
	}
	return pos, at
}

// RunFilter runs a compiled filter (CompileSeccomp's bytes) on one
// syscall, as the kernel would, and returns its verdict: the tests' way
// to check a filter without loading it.
func RunFilter(packed []byte, auditArch, nr uint32, args [6]uint64) (uint32, error) {
	raw := make([]bpf.RawInstruction, len(packed)/8)
	for i := range raw {
		b := packed[8*i:]
		raw[i] = bpf.RawInstruction{Op: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:])}
	}
	prog, ok := bpf.Disassemble(raw)
	if !ok {
		return 0, fmt.Errorf("the filter does not disassemble")
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		return 0, err
	}
	// x/net/bpf's machine loads words big endian: store each 32-bit field
	// so that it reads back as the kernel would read it natively.
	data := make([]byte, 64)
	binary.BigEndian.PutUint32(data[0:], nr)
	binary.BigEndian.PutUint32(data[4:], auditArch)
	for i, a := range args {
		binary.BigEndian.PutUint32(data[argLo(uint32(i)):], uint32(a))
		binary.BigEndian.PutUint32(data[argHi(uint32(i)):], uint32(a>>32))
	}
	v, err := vm.Run(data)
	return uint32(v), err
}
