// Package ctl is the one protocol between den's processes: the den a user
// runs, den inside the user namespace, and a container's init. Each pair
// talks over one unix socket (SOCK_SEQPACKET, so a message is one packet
// and descriptors ride along with it), in JSON messages that carry this
// package's Version. Every descriptor number and message type that the
// processes must agree on is declared here, and nowhere else.
package ctl

import (
	"encoding/json"
	"time"
)

// Version is the protocol's version. A process refuses a message of another
// version in one line, so that a den upgraded while containers run never
// misreads an old init.
const Version = 1

// FD is where a process that den starts (the namespace child, the init)
// finds its control socket.
const FD = 3

// RequestFD is where the namespace child finds a descriptor that den
// hands it with a request (den cp: a running container's root, which only
// den, the owner of the container's namespaces, may open).
const RequestFD = 4

// ChildPreserveFD and InitPreserveFD are where the namespace child and
// the init find the descriptors den run --preserve-fds passes on (den's
// 3, 4, ...), in order; the command gets them at 3, 4, ... again.
const (
	ChildPreserveFD = 5
	InitPreserveFD  = 6
)

// ListenFD is where the init finds its listening socket: bound in the
// container's run directory on the host, it is how den exec reaches a
// running container, without the namespace child.
const ListenFD = 4

// LogFD is where the init finds the container's directory, in which it
// writes the container's log (also after pivot_root).
const LogFD = 5

// Environment variables that mark a process's role and carry --debug's
// clock across execs.
const (
	// EnvRole is "init" in a container's init and "child" in the namespace
	// child that serves one request.
	EnvRole = "_DEN_ROLE"
	// EnvStart is, with --debug, when the outer den started (Unix ns).
	EnvStart = "_DEN_T0"
)

// Type names a message. The direction is given as sender → receiver; "den"
// is the den the user ran, "child" den in the user namespace, "init" the
// container's PID 1.
type Type string

const (
	// Request (den → child) asks the child for one operation: Op names it,
	// the body is the operation's own typed request (for run, the spec).
	Request Type = "request"
	// Done (child → den) ends a request: Result, or Code and Error.
	Done Type = "done"
	// Progress (child → den) reports a pull's progress (a pull.Event).
	Progress Type = "progress"
	// Published (child → den) names a port den picked for -p PORT.
	Published Type = "published"
	// Signal (den → child) relays a signal den received; the child passes
	// it to the init, which passes it to the command.
	Signal Type = "signal"
	// Config (child → init) is the container's whole configuration.
	Config Type = "config"
	// NetworkReady (child → init): the network is up; the init starts the
	// command only after it.
	NetworkReady Type = "network-ready"
	// TTY (init → child → den) carries the pty master as a descriptor.
	TTY Type = "tty"
	// TTYReady (den → child → init): den has sized the pty; the command may
	// start.
	TTYReady Type = "tty-ready"
	// Started (init → child → den) says the command runs; to den it also
	// names the container.
	Started Type = "started"
	// Failed (init → child, or init → den for exec) is the init's failure
	// to start the command, with docker's status for it (125, 126, 127).
	Failed Type = "failed"
	// Exited (child → den) is a foreground container's exit status, sent
	// before the child cleans up: den exits with it, and the child goes
	// on to remove or record the container; Done follows, unread.
	Exited Type = "exited"
	// Exec (den → init, on a connection to the init's listening socket)
	// starts a process in the container: ExecBody, and with it den's
	// stdin, stdout and stderr as descriptors (none with a terminal).
	Exec Type = "exec"
	// Exit (init → den) is an exec'd process's exit status, or, to an
	// attached den, the container's.
	Exit Type = "exit"
	// Attach (den → init, on a connection to the init's listening socket)
	// joins a detached container's stdio: AttachBody, with den's stdout
	// and stderr as descriptors.
	Attach Type = "attach"
	// Attached (init → den) answers Attach: AttachedBody, with the way
	// into the container's stdin (the pty master, or its stdin pipe) as a
	// descriptor when den asked for it and the container has one.
	Attached Type = "attached"
)

// AttachBody asks for the container's stdin too.
type AttachBody struct {
	Stdin bool `json:"stdin,omitempty"`
}

// AttachedBody says whether the container has a terminal.
type AttachedBody struct {
	Tty bool `json:"tty,omitempty"`
}

// Msg is one message. Body is the type's payload, decoded by the receiver
// into the type it expects.
type Msg struct {
	V    int             `json:"v"`
	Type Type            `json:"t"`
	Body json.RawMessage `json:"b,omitempty"`
}

// RequestBody opens a request.
type RequestBody struct {
	Op   string          `json:"op"`
	Args json.RawMessage `json:"args,omitempty"`
}

// DoneBody ends one: Code is the exit status den should exit with, Error
// what it prints (empty: nothing), Result the operation's typed result.
type DoneBody struct {
	Code   int             `json:"code"`
	Error  string          `json:"error,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	// Join names the container whose user namespace the request must be
	// made in (den start of a container made with --network
	// container:NAME): den asks again from there.
	Join string `json:"join,omitempty"`
}

// StatusBody is Started's (the container's id, or an exec'd process's
// pid), Failed's and Exit's payload.
type StatusBody struct {
	ID   string `json:"id,omitempty"`
	Pid  int    `json:"pid,omitempty"`
	Code int    `json:"code,omitempty"`
	Msg  string `json:"msg,omitempty"`
}

// ExecBody is a process to start in a running container. Env entries are
// KEY=VALUE, applied over the container's environment.
type ExecBody struct {
	Args        []string `json:"args"`
	Env         []string `json:"env,omitempty"`
	User        string   `json:"user,omitempty"`
	Workdir     string   `json:"workdir,omitempty"`
	Tty         bool     `json:"tty,omitempty"`
	Interactive bool     `json:"interactive,omitempty"`
	Privileged  bool     `json:"privileged,omitempty"`
	Detach      bool     `json:"detach,omitempty"`
}

// SignalBody is a signal's number.
type SignalBody struct {
	Signal int `json:"signal"`
}

// ExitFile, in the container's directory, is where an init that runs
// with no den beside it (den run -d) leaves its exit status.
const ExitFile = "exit.json"

// RestartFile, beside it, is where such an init that applies a restart
// policy notes each restart (RestartStatus).
const RestartFile = "restart.json"

// RestartStatus is that file's content: how often the command was started
// again, and when last.
type RestartStatus struct {
	Count     int       `json:"count"`
	StartedAt time.Time `json:"startedAt"`
}

// StoppedFile, in the container's directory, says that den stop or den
// kill ended the container: its restart policy must not start it again.
const StoppedFile = "stopped-by-user"

// ExitStatus is that file's content.
type ExitStatus struct {
	Code       int       `json:"code"`
	FinishedAt time.Time `json:"finishedAt"`
}
