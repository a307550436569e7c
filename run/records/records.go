// Package records is what den keeps about each container beside its
// layer, and what ps, inspect, stop, kill and logs read back: its state,
// the den process that runs it, its exit code and its spec.
package records

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/netns"
	"github.com/denproject/den/run/spec"
)

// State is a container's state, in docker's words.
type State string

// The states den records.
const (
	Created State = "created"
	Running State = "running"
	Exited  State = "exited"
)

// Record is stored as the container's metadata.
type Record struct {
	Image      string    `json:"image"`
	Args       []string  `json:"args"`
	Created    time.Time `json:"created"`
	State      State     `json:"state"`
	Pid        int       `json:"pid,omitempty"` // the den that runs it
	ExitCode   int       `json:"exitCode"`
	Hostname   string    `json:"hostname"`
	StartedAt  time.Time `json:"startedAt,omitzero"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
	// Ports are the published ports, with the host ports den picked.
	Ports []netns.Port `json:"ports,omitempty"`
	// Spec is what the container was made from, its seccomp rules left
	// out (they are the spec's security flags, resolved again).
	Spec *spec.Spec `json:"spec,omitempty"`
}

// KilledCode is the exit code of a container whose den was killed before
// it could record the end: the init died with it, by SIGKILL.
const KilledCode = 128 + int(unix.SIGKILL)

// Decode reads a record from the container's metadata, and corrects a
// running state whose den is gone.
func Decode(metadata string) Record {
	var r Record
	_ = json.Unmarshal([]byte(metadata), &r)
	if r.State == Running && !Alive(r.Pid) {
		r.State, r.ExitCode = Exited, KilledCode
	}
	return r
}

// Encode is the record as metadata.
func (r *Record) Encode() string {
	c := *r
	if c.Spec != nil && c.Spec.Sandbox.Seccomp != nil {
		slim := *c.Spec
		slim.Sandbox.Seccomp, slim.Sandbox.SeccompFilter = nil, nil
		c.Spec = &slim
	}
	b, _ := json.Marshal(&c)
	return string(b)
}

// Status is docker's STATUS column.
func (r *Record) Status() string {
	switch r.State {
	case Running:
		return "Up"
	case Created:
		return "Created"
	}
	return fmt.Sprintf("Exited (%d)", r.ExitCode)
}

// Alive reports whether process pid exists; a zombie (killed, not yet
// reaped by whoever adopted it) does not count.
func Alive(pid int) bool {
	if pid <= 0 || unix.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// WaitGone waits up to timeout for pid to end.
func WaitGone(pid int, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !Alive(pid) {
			return true
		}
	}
	return !Alive(pid)
}

// InitPidFile, in the container's run directory, holds the init's pid.
const InitPidFile = "init.pid"

// WriteInitPid records the init's pid for den stop and den kill.
func WriteInitPid(runDir string, pid int) error {
	return os.WriteFile(filepath.Join(runDir, InitPidFile), []byte(strconv.Itoa(pid)), 0o600)
}

// InitOf reads the init's pid and checks that it is still the child of
// the den that runs the container, pid (pids are reused).
func InitOf(runDir string, pid int) (int, error) {
	if b, err := os.ReadFile(filepath.Join(runDir, InitPidFile)); err == nil {
		init, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", init))
		for _, line := range strings.Split(string(status), "\n") {
			if ppid, ok := strings.CutPrefix(line, "PPid:"); ok && strings.TrimSpace(ppid) == strconv.Itoa(pid) {
				return init, nil
			}
		}
	}
	return 0, fmt.Errorf("container is not running (no init under den process %d)", pid)
}
