// Package doctor checks the host for what den needs: user namespaces, the
// id-mapping helpers and ranges, overlay, /dev/net/tun, the network
// programs, the runtime and store directories, cgroups, and an outer
// container's restrictions. Each check is one result with the fix as a
// command; only a fault that stops `den run` from working is a Fail.
package doctor

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
)

// Status is a check's outcome.
type Status string

// The outcomes: Warn is a missing extra or a degraded path that still
// runs containers; Fail stops den run.
const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Check is one line of den doctor.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	// Fix is the command that repairs a fault; it may span lines (a
	// heredoc).
	Fix string `json:"fix,omitempty"`
}

func ok(name, format string, args ...any) Check {
	return Check{Name: name, Status: OK, Detail: fmt.Sprintf(format, args...)}
}

func warn(name, fix, format string, args ...any) Check {
	return Check{Name: name, Status: Warn, Detail: fmt.Sprintf(format, args...), Fix: fix}
}

func fail(name, fix, format string, args ...any) Check {
	return Check{Name: name, Status: Fail, Detail: fmt.Sprintf(format, args...), Fix: fix}
}

// Failed reports whether any check failed.
func Failed(cs []Check) bool {
	for _, c := range cs {
		if c.Status == Fail {
			return true
		}
	}
	return false
}

// Paths are the host files the checks read; tests point them at fixtures.
type Paths struct {
	Sys        string // /proc/sys
	Subuid     string
	Subgid     string
	Tun        string
	Fuse       string
	Cgroup     string // /sys/fs/cgroup
	SelfCgroup string // /proc/self/cgroup
	MountInfo  string // /proc/self/mountinfo
	Root       string // "/" (for /.dockerenv and /run/.containerenv)
}

// Host is where the checks look; tests replace it.
var Host = Paths{
	Sys: "/proc/sys", Subuid: "/etc/subuid", Subgid: "/etc/subgid", Tun: "/dev/net/tun",
	Fuse: "/dev/fuse", Cgroup: "/sys/fs/cgroup", SelfCgroup: "/proc/self/cgroup",
	MountInfo: "/proc/self/mountinfo", Root: "/",
}

// Me is the user the checks are about.
type Me struct {
	UID, GID int
	Name     string
}

// CurrentUser is the caller, named as /etc/subuid would name it.
func CurrentUser() Me {
	m := Me{UID: os.Getuid(), GID: os.Getgid(), Name: strconv.Itoa(os.Getuid())}
	if u, err := user.LookupId(m.Name); err == nil {
		m.Name = u.Username
	} else if n := os.Getenv("USER"); n != "" {
		m.Name = n
	}
	return m
}

func readTrim(path string) (string, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	s := string(b)
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == ' ') {
		s = s[:len(s)-1]
	}
	return s, true
}
