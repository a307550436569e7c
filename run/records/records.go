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
	"github.com/denproject/den/run/ctl"
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
	Image     string    `json:"image"`
	Args      []string  `json:"args"`
	Created   time.Time `json:"created"`
	State     State     `json:"state"`
	Pid       int       `json:"pid,omitempty"` // the den that runs it
	ExitCode  int       `json:"exitCode"`
	Hostname  string    `json:"hostname"`
	StartedAt time.Time `json:"startedAt,omitzero"`
	// RestartCount is how often --restart started it again.
	RestartCount int       `json:"restartCount,omitempty"`
	FinishedAt   time.Time `json:"finishedAt,omitzero"`
	// Ports are the published ports, with the host ports den picked.
	Ports []netns.Port `json:"ports,omitempty"`
	// Spec is what the container was made from, its seccomp rules left
	// out (they are the spec's security flags, resolved again).
	Spec *spec.Spec `json:"spec,omitempty"`
	// InitPid and InitStart name the container's init when no den stays
	// with it (Pid 0): a detached container whose init alone runs on. Its
	// start time (in clock ticks since boot) tells a reused pid apart.
	// The init leaves its exit status in ExitFile.
	InitPid   int    `json:"initPid,omitempty"`
	InitStart uint64 `json:"initStart,omitempty"`
	ExitFile  string `json:"exitFile,omitempty"`
	// Shifted: the container was made from its image's keep-id copy
	// (derived, already shifted); recorded with the container itself.
	Shifted bool `json:"shifted,omitempty"`
	// Ended says that Decode found a running record whose container has
	// ended: what its den would have recorded is still to be done.
	Ended bool `json:"-"`
}

// KilledCode is the exit code of a container whose den was killed before
// it could record the end: the init died with it, by SIGKILL.
const KilledCode = 128 + int(unix.SIGKILL)

// Decode reads a record from the container's metadata, and corrects a
// running state whose den is gone.
func Decode(metadata string) Record {
	var r Record
	_ = json.Unmarshal([]byte(metadata), &r)
	if r.State == Running && !r.alive() {
		// den was killed before it could record the end (the init died
		// with it), or the init that ran alone ended.
		r.State, r.ExitCode, r.Ended = Exited, KilledCode, true
		var st ctl.ExitStatus
		if b, err := os.ReadFile(r.ExitFile); r.ExitFile != "" && err == nil && json.Unmarshal(b, &st) == nil {
			r.ExitCode, r.FinishedAt = st.Code, st.FinishedAt
		}
	}
	if r.InitPid > 0 && r.ExitFile != "" {
		// An init that applies the restart policy notes each restart.
		var rs ctl.RestartStatus
		if b, err := os.ReadFile(filepath.Join(filepath.Dir(r.ExitFile), ctl.RestartFile)); err == nil && json.Unmarshal(b, &rs) == nil {
			r.RestartCount, r.StartedAt = rs.Count, rs.StartedAt
		}
	}
	return r
}

// Alone says whether the container's init runs with no den beside it.
func (r *Record) Alone() bool { return r.Pid == 0 && r.InitPid > 0 }

// alive: the den that runs it, or its init (which, started alone, may
// outlive a den that was killed before it said so).
func (r *Record) alive() bool {
	if r.Pid > 0 && Alive(r.Pid) {
		return true
	}
	if r.InitPid <= 0 {
		return false
	}
	state, start := procStat(r.InitPid)
	return start == r.InitStart && live(r.InitPid, state)
}

// Init is the container's init: found under the den that runs it, or the
// one that runs alone, checked by its start time (pids are reused).
func (r *Record) Init(runDir string) (int, error) {
	if r.InitPid > 0 && !(r.Pid > 0 && Alive(r.Pid)) {
		if r.alive() {
			return r.InitPid, nil
		}
		return 0, fmt.Errorf("container is not running (its init %d has ended)", r.InitPid)
	}
	return InitOf(runDir, r.Pid)
}

// WaitEnd waits up to timeout for the container to end.
func (r *Record) WaitEnd(timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !r.alive() {
			return true
		}
	}
	return !r.alive()
}

// StartTime is process pid's start time in clock ticks since boot
// (/proc/PID/stat, field 22); 0 when there is no such process.
func StartTime(pid int) uint64 {
	_, start := procStat(pid)
	return start
}

// procStat reads /proc/PID/stat once for the process's state (0 when
// there is no such process) and its start time.
func procStat(pid int) (state byte, start uint64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return '?', 0
	}
	state = b[i+2]
	if f := strings.Fields(string(b[i+1:])); len(f) >= 20 {
		start, _ = strconv.ParseUint(f[19], 10, 64)
	}
	return state, start
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
	if pid <= 0 {
		return false
	}
	state, _ := procStat(pid)
	return live(pid, state)
}

// live: a process in state (from procStat) that exists and is no zombie.
func live(pid int, state byte) bool {
	return state != 0 && state != 'Z' && unix.Kill(pid, 0) == nil
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

// MarkStopped notes, in the container's directory, that the user stopped
// the container (ctl.StoppedFile): its restart policy, applied by its den
// or its init, must not start it again.
func MarkStopped(dir string) {
	_ = os.WriteFile(filepath.Join(dir, ctl.StoppedFile), nil, 0o600)
}

// Stopped says whether the user stopped the container.
func Stopped(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ctl.StoppedFile))
	return err == nil
}

// ClearStopped forgets it, when the container starts again.
func ClearStopped(dir string) { _ = os.Remove(filepath.Join(dir, ctl.StoppedFile)) }
