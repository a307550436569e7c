// Package pid1 is the container's init: it builds the container's view of
// the filesystem, starts the command, reaps every zombie, forwards signals
// and exits with the command's status. It talks to den only through the
// control protocol (run/ctl).
package pid1

import (
	"os"
	"time"

	"github.com/denproject/den/run/ctl"
)

// IsInit reports whether this process was started as a container's init.
func IsInit() bool { return os.Getenv(ctl.EnvRole) == "init" }

// Config is what init needs; den fills it from the spec and the image.
type Config struct {
	Rootfs   string   `json:"rootfs"`
	Hostname string   `json:"hostname"`
	Args     []string `json:"args"`
	Env      []string `json:"env"`
	Cwd      string   `json:"cwd"`
	UID      uint32   `json:"uid"`
	GID      uint32   `json:"gid"`
	Groups   []uint32 `json:"groups,omitempty"`
	// NoSetGroups is set where setgroups is denied (the one-uid map).
	NoSetGroups bool `json:"noSetGroups,omitempty"`
	Tty         bool `json:"tty,omitempty"`
	// HostSys bind-mounts the host's /sys: a fresh sysfs needs a network
	// namespace of the container's own.
	HostSys bool `json:"hostSys,omitempty"`
	// Files are bind-mounted over paths in the container (hosts, resolv.conf).
	Files  []Bind `json:"files,omitempty"`
	Mounts []Bind `json:"mounts,omitempty"`
	// NewNet says the container has a network namespace of its own,
	// whose loopback init brings up.
	NewNet bool `json:"newNet,omitempty"`
	// PortForwarder, when set, is the child half of den's port forwarder
	// (rootlesskit's builtin driver), which init serves from inside the
	// network namespace; den says NetworkReady once it is connected.
	PortForwarder map[string]string `json:"portForwarder,omitempty"`
	// Restart, for a container whose init runs alone, is its --restart
	// policy, which the init then applies itself (restart_linux.go).
	Restart Restart `json:"restart,omitzero"`
	// NetnsFile, in the container's directory (ctl.LogFD), is the network
	// namespace bound for pasta; the init removes it at its end, and
	// pasta, which outlives den, exits then.
	NetnsFile string `json:"netnsFile,omitempty"`
	// TTYGroup says whether gid 5 (tty) exists in the namespace.
	TTYGroup bool `json:"ttyGroup,omitempty"`
	// Log, when set, keeps the command's stdout and stderr in the log, in
	// the directory den hands the init at ctl.LogFD.
	Log *Log `json:"log,omitempty"`
	// Detached: no den holds the container's stdio; the init keeps it
	// (a pty with Tty, a stdin pipe with Interactive) for den attach.
	Detached    bool `json:"detached,omitempty"`
	Interactive bool `json:"interactive,omitempty"`
	// PreserveFDs descriptors from ctl.InitPreserveFD on go to the
	// command at 3, 4, ..., with LISTEN_FDS and LISTEN_PID.
	PreserveFDs int `json:"preserveFDs,omitempty"`
	Sandbox
	// Issue 12: what --shm-size, --ulimit, --sysctl, --device, the
	// cgroup limits and --userns=keep-id ask of the init (host_linux.go).
	ShmSize int64             `json:"shmSize,omitempty"`
	Rlimits []Rlimit          `json:"rlimits,omitempty"`
	Sysctls map[string]string `json:"sysctls,omitempty"`
	Devices []Bind            `json:"devices,omitempty"`
	// Cgroup is the container's own cgroup, which the init joins.
	Cgroup string `json:"cgroup,omitempty"`
	// KeepID starts the init in a user namespace of its own (den's
	// launch reads it; the init needs nothing more).
	KeepID bool `json:"keepID,omitempty"`
	// Passed names the descriptors that come with the config, in order
	// (PassListen, PassDir, PassRootfs, PassSeccomp).
	Passed []string `json:"passed,omitempty"`
	// tree, from an init started before the mount, is the root filesystem
	// as a detached mount, which the init attaches at Rootfs.
	tree *os.File
}

// What the descriptors that come with the config are (Config.Passed).
const (
	PassListen  = "listen"  // the listening socket, for ctl.ListenFD
	PassDir     = "dir"     // the container's directory, for ctl.LogFD
	PassRootfs  = "rootfs"  // the root filesystem as a detached mount
	PassSeccomp = "seccomp" // the compiled seccomp filter (a memfd)
)

// Rlimit is one --ulimit: a resource (RLIMIT_*) with its limits.
type Rlimit struct {
	Type int    `json:"type"`
	Soft uint64 `json:"soft"`
	Hard uint64 `json:"hard"`
}

// Sandbox is what restricts the command.
type Sandbox struct {
	// Caps is the capability set the command keeps (bounding, permitted,
	// effective; ambient for a non-root user); LastCap is the kernel's
	// highest. NoNewPrivs and Seccomp (nil: unconfined) restrict it further.
	Caps       []uint   `json:"caps"`
	LastCap    uint     `json:"lastCap"`
	NoNewPrivs bool     `json:"noNewPrivs,omitempty"`
	Seccomp    *Seccomp `json:"seccomp,omitempty"`
	// SeccompKey names Seccomp's compiled program in den's cache, when
	// den sends that instead of the rules.
	SeccompKey string `json:"seccompKey,omitempty"`
	// SeccompFilter is Seccomp compiled by CompileSeccomp; what init loads.
	// It comes beside the config, as a file (Passed): some 23 KB, which
	// as JSON took the init 0.3-0.5 ms to decode.
	SeccompFilter []byte `json:"-"`
	// MaskedPaths are hidden (/dev/null or an empty read-only tmpfs);
	// ReadonlyPaths are made read-only.
	MaskedPaths   []string `json:"maskedPaths,omitempty"`
	ReadonlyPaths []string `json:"readonlyPaths,omitempty"`
	// ReadOnly makes the root filesystem read-only; Tmpfs are mounted
	// first (e.g. /tmp:size=64m).
	ReadOnly bool    `json:"readOnly,omitempty"`
	Tmpfs    []Tmpfs `json:"tmpfs,omitempty"`
}

// Bind is a bind mount from the host into the container.
type Bind struct {
	Source   string `json:"source"`
	Dest     string `json:"dest"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

// Tmpfs is a tmpfs mount: Options are mount(8)-style ("size=64m,noexec").
type Tmpfs struct {
	Dest    string `json:"dest"`
	Options string `json:"options,omitempty"`
	// Default: --read-only's own (/tmp, /run, /var/tmp), left out where
	// the user mounts something.
	Default bool `json:"default,omitempty"`
}

// Restart is a restart policy: always, unless-stopped, or on-failure
// (MaxRetries 0: no limit); "" is none.
type Restart struct {
	Name       string `json:"name,omitempty"`
	MaxRetries int    `json:"maxRetries,omitempty"`
}

// Again says whether a container whose command exited with code restarts,
// after retries restarts so far.
func (r Restart) Again(code, retries int) bool {
	switch r.Name {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		return code != 0 && (r.MaxRetries == 0 || retries < r.MaxRetries)
	}
	return false
}

// Backoff is the wait before a restart, docker's: 100 ms, doubling up to a
// minute, and 100 ms again once a run lasted 10 s (a fresh failure). last
// is the previous wait (0 before the first), ran how long the last run
// took. The init that runs alone and the den that stays both use it.
func (Restart) Backoff(last, ran time.Duration) time.Duration {
	if last == 0 || ran > 10*time.Second {
		return 100 * time.Millisecond
	}
	return min(2*last, time.Minute)
}
