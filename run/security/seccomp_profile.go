package security

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/denproject/den/run/pid1"
)

// dockerProfile is the JSON format of docker's and podman's seccomp
// profiles (the fields den uses).
type dockerProfile struct {
	DefaultAction   string `json:"defaultAction"`
	DefaultErrnoRet *uint  `json:"defaultErrnoRet"`
	Syscalls        []struct {
		Names    []string `json:"names"`
		Name     string   `json:"name"`
		Action   string   `json:"action"`
		ErrnoRet *uint    `json:"errnoRet"`
		Args     []struct {
			Index    uint32 `json:"index"`
			Value    uint64 `json:"value"`
			ValueTwo uint64 `json:"valueTwo"`
			Op       string `json:"op"`
		} `json:"args"`
		Includes filterSpec `json:"includes"`
		Excludes filterSpec `json:"excludes"`
	} `json:"syscalls"`
}

type filterSpec struct {
	Caps   []string `json:"caps"`
	Arches []string `json:"arches"`
}

var dockerArch = map[string]string{"amd64": "amd64", "arm64": "arm64", "arm": "arm", "386": "x86", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}

func (f filterSpec) matches(caps []uint) bool {
	for _, c := range f.Caps {
		if !hasCap(caps, strings.TrimPrefix(c, "CAP_")) {
			return false
		}
	}
	if len(f.Arches) == 0 {
		return true
	}
	for _, a := range f.Arches {
		if a == dockerArch[runtime.GOARCH] {
			return true
		}
	}
	return false
}

// loadProfile reads a docker-format profile. Only an errno default is
// supported: den's filters are allowlists.
func loadProfile(path string, caps []uint) (*pid1.Seccomp, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--security-opt seccomp: %w", err)
	}
	return ParseProfile(path, b, caps)
}

// ParseProfile reads a docker-format profile's JSON for a container with
// caps; path only names it in errors.
func ParseProfile(path string, b []byte, caps []uint) (*pid1.Seccomp, error) {
	var p dockerProfile
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("--security-opt seccomp: %s is not a seccomp profile: %w", path, err)
	}
	if p.DefaultAction != "SCMP_ACT_ERRNO" {
		return nil, fmt.Errorf("--security-opt seccomp: %s: defaultAction %q is not supported (use SCMP_ACT_ERRNO)", path, p.DefaultAction)
	}
	out := &pid1.Seccomp{DefaultErrno: 1}
	if p.DefaultErrnoRet != nil {
		out.DefaultErrno = uint32(*p.DefaultErrnoRet)
	}
	for _, s := range p.Syscalls {
		if !s.Includes.matches(caps) || excluded(s.Excludes, caps) {
			continue
		}
		r := pid1.SeccompRule{Names: s.Names}
		if s.Name != "" {
			r.Names = append(r.Names, s.Name)
		}
		switch s.Action {
		case "SCMP_ACT_ALLOW":
			r.Action = "allow"
		case "SCMP_ACT_ERRNO":
			r.Action, r.Errno = "errno", 1
			if s.ErrnoRet != nil {
				r.Errno = uint32(*s.ErrnoRet)
			}
		case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD":
			r.Action = "kill"
		case "SCMP_ACT_KILL_PROCESS":
			r.Action = "kill_process"
		case "SCMP_ACT_TRAP":
			r.Action = "trap"
		case "SCMP_ACT_LOG":
			r.Action = "log"
		default:
			return nil, fmt.Errorf("--security-opt seccomp: %s: action %q is not supported", path, s.Action)
		}
		for _, a := range s.Args {
			op := strings.ToLower(strings.TrimPrefix(a.Op, "SCMP_CMP_"))
			r.Args = append(r.Args, pid1.SeccompArg{Index: a.Index, Op: op, Value: a.Value, ValueTwo: a.ValueTwo})
		}
		out.Rules = append(out.Rules, r)
	}
	return out, nil
}

// excluded reports whether an "excludes" block rules the entry out: any
// listed capability held, or the architecture listed.
func excluded(f filterSpec, caps []uint) bool {
	for _, c := range f.Caps {
		if hasCap(caps, strings.TrimPrefix(c, "CAP_")) {
			return true
		}
	}
	for _, a := range f.Arches {
		if a == dockerArch[runtime.GOARCH] {
			return true
		}
	}
	return false
}
