package pid1

import (
	"encoding/binary"
	"testing"
)

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
	if _, err := CompileSeccomp(&Seccomp{Rules: []SeccompRule{{Names: []string{"read"}, Action: "dance"}}}); err == nil {
		t.Fatal("an unknown action compiled")
	}
	if err := loadSeccomp(packed[:5]); err == nil {
		t.Fatal("a truncated program was loaded")
	}
}
