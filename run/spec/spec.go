// Package spec is a container's typed specification: docker's run flags,
// parsed and checked once, in the den the user runs, then handed whole to
// den in the user namespace, which trusts it.
package spec

import (
	"github.com/denproject/den/netns"
	"github.com/denproject/den/run/pid1"
	"github.com/denproject/den/run/security"
)

// Spec is everything den needs to create and start a container.
type Spec struct {
	Image string   `json:"image"`
	Args  []string `json:"args,omitempty"` // after the image: replace its Cmd
	// Entrypoint replaces the image's when set; an empty one removes it.
	Entrypoint *[]string `json:"entrypoint,omitempty"`
	Name       string    `json:"name,omitempty"`
	// Env is --env-file's then -e's entries, each KEY=VALUE: a bare KEY
	// was resolved from den's own environment.
	Env      []string    `json:"env,omitempty"`
	User     string      `json:"user,omitempty"`
	Workdir  string      `json:"workdir,omitempty"`
	Hostname string      `json:"hostname,omitempty"`
	Mounts   []pid1.Bind `json:"mounts,omitempty"`
	Network  Network     `json:"network"`

	Tty         bool `json:"tty,omitempty"`
	Interactive bool `json:"interactive,omitempty"`
	// Attach is -a: the streams den shows (stdin, stdout, stderr); none
	// named: stdout and stderr, and stdin with -i.
	Attach []string `json:"attach,omitempty"`
	Rm     bool     `json:"rm,omitempty"`
	Detach bool     `json:"detach,omitempty"`

	Pull     Pull   `json:"pull"`
	Platform string `json:"platform,omitempty"`
	Insecure bool   `json:"insecure,omitempty"`

	Sandbox pid1.Sandbox `json:"sandbox"`
	// Security are the sandbox's flags as given: den start resolves them
	// again (a record keeps no seccomp rules).
	Security security.Flags `json:"security"`

	// Log is the json-file log; nil with --log-driver none, and for --rm
	// containers, which keep no logs.
	Log *pid1.Log `json:"log,omitempty"`
	// StopSignal and StopTimeout are what den stop uses; empty and nil:
	// the image's StopSignal, else SIGTERM, and 10 seconds.
	StopSignal  string            `json:"stopSignal,omitempty"`
	StopTimeout *int              `json:"stopTimeout,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	// Restart is --restart: no, on-failure (MaxRetries 0: no limit),
	// always or unless-stopped.
	Restart Restart `json:"restart,omitzero"`
	// PreserveFDs passes den's descriptors 3..3+N-1 to the command, with
	// LISTEN_FDS=N (systemd's socket activation).
	PreserveFDs int `json:"preserveFDs,omitempty"`
	// DetachKeys are den attach's for this container ("": docker's).
	DetachKeys string `json:"detachKeys,omitempty"`
	// CIDFile gets the container's id once it exists.
	CIDFile string `json:"cidfile,omitempty"`
	// Host is --userns, volumes, --mount and the resource flags (host.go).
	Host Host `json:"host,omitzero"`
}

// Network is the container's network: the backend (or host, none), the
// published ports, /etc/hosts additions and DNS settings.
type Network struct {
	// Mode is netns.Pasta, netns.Slirp4netns, netns.Builtin, ModeHost or
	// ModeNone: "slirp" was resolved to what this host has.
	Mode  string       `json:"mode"`
	Ports []netns.Port `json:"ports,omitempty"`
	// Hosts are /etc/hosts lines from --add-host.
	Hosts []string `json:"hosts,omitempty"`
	// HostLoopback opens the host's loopback through the gateway, which
	// --add-host NAME:host-gateway asks for.
	HostLoopback bool     `json:"hostLoopback,omitempty"`
	DNS          []string `json:"dns,omitempty"`
	DNSSearch    []string `json:"dnsSearch,omitempty"`
	DNSOptions   []string `json:"dnsOptions,omitempty"`
	// Container is NAME of --network container:NAME (Mode ModeContainer):
	// the container joins that running container's network namespace.
	Container string `json:"container,omitempty"`
	// Expose are --expose's ports, for -P and den inspect.
	Expose []string `json:"expose,omitempty"`
	// PublishAll is -P: the image's exposed ports and --expose's each get
	// a free host port when the container starts.
	PublishAllSet bool `json:"publishAll,omitempty"`
}

// Network modes that need no backend.
const (
	ModeHost      = "host"
	ModeNone      = "none"
	ModeContainer = "container"
)

// Own says whether the container has a network namespace of its own with
// a backend serving it.
func (n Network) Own() bool {
	return n.Mode != ModeHost && n.Mode != ModeNone && n.Mode != ModeContainer
}

// Pull is --pull's policy.
type Pull string

// Pull policies, as docker spells them.
const (
	PullMissing Pull = "missing"
	PullAlways  Pull = "always"
	PullNever   Pull = "never"
)

// Restart is a restart policy; the init applies it when it runs alone.
type Restart = pid1.Restart
