package spec

import "github.com/denproject/den/run/security"

// Flags are `den run`'s flags as the user typed them; Build turns them
// into a Spec.
type Flags struct {
	Image          string
	Args           []string
	Entrypoint     string
	EntrypointSet  bool // --entrypoint given, perhaps as ""
	Interactive    bool
	Tty            bool
	Attach         []string // -a: stdin, stdout, stderr
	Rm             bool
	Detach         bool
	Name           string
	Env            []string
	EnvFiles       []string
	Workdir        string
	User           string
	Hostname       string
	Volumes        []string
	Network        string
	Publish        []string
	PublishAll     bool     // -P
	Expose         []string // --expose PORT[/PROTO] or a range
	AddHosts       []string
	DNS            []string
	DNSSearch      []string
	DNSOptions     []string
	Pull           string
	Platform       string
	Insecure       bool
	Security       security.Flags
	LogDriver      string
	LogOpts        []string
	StopSignal     string
	StopTimeout    int
	StopTimeoutSet bool
	Labels         []string
	LabelFiles     []string
	CIDFile        string
	Restart        string
	DetachKeys     string
	PreserveFDs    int
	// Issue 12's flags (runhost.go); see host.go.
	UserNS     string
	Mount      []string
	ShmSize    string
	Ulimits    []string
	GroupAdd   []string
	Devices    []string
	Sysctls    []string
	Memory     string
	MemorySwap string
	CPUs       float64
	CPUShares  int64
	PidsLimit  int64
}
