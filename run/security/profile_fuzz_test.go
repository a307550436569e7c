package security

import (
	"math/bits"
	"strings"
	"testing"

	"github.com/denproject/den/run/pid1"
)

// FuzzParseProfile: a docker-format profile never panics the parser or
// the compiler; a refusal is one line naming the file; a profile that
// parses either compiles to a program the kernel would take (at most
// 4096 instructions, every path ending in a verdict) or is refused with
// one line.
func FuzzParseProfile(f *testing.F) {
	def, err := DefaultProfileJSON()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(def, uint64(0xa80425fb))
	for _, s := range []string{
		`{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86","SCMP_ARCH_X32"]}],"syscalls":[{"names":["socket"],"action":"SCMP_ACT_ERRNO","errnoRet":22,"args":[{"index":0,"value":16,"op":"SCMP_CMP_EQ"},{"index":2,"value":9,"op":"SCMP_CMP_EQ"}],"excludes":{"caps":["CAP_AUDIT_WRITE"]}},{"names":["socket"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_AUDIT_WRITE"]}}]}`,
		`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"chmod","action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":2048,"valueTwo":2048,"op":"SCMP_CMP_MASKED_EQ"},{"index":1,"value":1,"op":"SCMP_CMP_GE"}]}]}`,
		`{"defaultAction":"SCMP_ACT_KILL_PROCESS","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_AARCH64"],"syscalls":[{"names":["read","write","exit_group"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"4.8"}}]}`,
		`{"defaultAction":"SCMP_ACT_LOG","syscalls":[{"names":["ptrace"],"action":"SCMP_ACT_TRACE","errnoRet":5}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["x"],"action":"SCMP_ACT_NOTIFY"}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":7,"op":"SCMP_CMP_EQ"}]}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"x"}}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":null}`, `{}`, `[]`, `{"defaultAction":1}`, ``,
	} {
		f.Add([]byte(s), uint64(0xa80425fb))
	}
	f.Fuzz(func(t *testing.T, b []byte, capMask uint64) {
		var caps []uint
		for c := uint(0); c < 41; c++ {
			if capMask&(1<<c) != 0 {
				caps = append(caps, c)
			}
		}
		s, err := ParseProfile("p.json", b, caps)
		if err != nil {
			if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "p.json") {
				t.Fatalf("error %q is not one line naming the file", err)
			}
			return
		}
		packed, err := pid1.CompileSeccomp(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("compile error %q is not one line", err)
			}
			return
		}
		if len(packed) == 0 || len(packed)%8 != 0 || len(packed)/8 > 4096 {
			t.Fatalf("a program of %d bytes", len(packed))
		}
		for _, nr := range []uint32{0, 1, 59, 435, 0x40000000, 999} {
			args := [6]uint64{capMask, bits.ReverseBytes64(capMask), 0, 1, 0xffffffff, ^uint64(0)}
			if _, err := pid1.RunFilter(packed, 0xc000003e, nr, args); err != nil {
				t.Fatalf("the program does not run: %v", err)
			}
		}
	})
}
