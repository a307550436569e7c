package spec

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/moby/sys/signal"

	"github.com/denproject/den/pull"
	"github.com/denproject/den/run/ctl"
	"github.com/denproject/den/run/pid1"
	"github.com/denproject/den/run/security"
)

// validName is docker's pattern for a container's name, as podman has
// it: one character is enough (docker wants two, for no reason its
// issues could find).
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// CheckName refuses a container name docker's pattern does not take.
func CheckName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("invalid container name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
	}
	return nil
}

// Build checks every flag and resolves what must be read on the host:
// env files, den's own environment for a bare -e KEY, bind sources, the
// network backend, a seccomp profile. Each error is one line naming the
// flag.
func Build(f *Flags) (*Spec, error) {
	s := &Spec{Image: f.Image, Args: f.Args, User: f.User, Workdir: f.Workdir,
		Hostname: f.Hostname, Tty: f.Tty, Interactive: f.Interactive, Rm: f.Rm, Detach: f.Detach,
		Platform: f.Platform, Insecure: f.Insecure}
	if f.Workdir != "" && !path.IsAbs(f.Workdir) {
		return nil, fmt.Errorf("the working directory %q is invalid, it needs to be an absolute path", f.Workdir)
	}
	f.Name = strings.TrimPrefix(f.Name, "/")
	if f.Name != "" {
		if err := CheckName(f.Name); err != nil {
			return nil, err
		}
	}
	s.Name = f.Name
	for _, a := range f.Attach {
		switch a = strings.ToLower(a); a {
		case "stdin", "stdout", "stderr":
			s.Attach = append(s.Attach, a)
			s.Interactive = s.Interactive || a == "stdin"
		default:
			return nil, fmt.Errorf("invalid -a %q: use stdin, stdout or stderr", a)
		}
	}
	if len(s.Attach) > 0 && s.Detach {
		return nil, fmt.Errorf("conflicting options: -a and -d (a detached container's output is read with den logs)")
	}
	if err := pull.CheckRef(f.Image); err != nil {
		if len(f.Image) < 3 || !isHexString(f.Image) {
			return nil, err
		}
	}
	if _, err := pull.ParsePlatform(f.Platform); err != nil {
		return nil, err
	}
	if f.EntrypointSet {
		ep := []string{}
		if f.Entrypoint != "" {
			ep = []string{f.Entrypoint}
		}
		s.Entrypoint = &ep
	}
	// With -d, -t and -i are kept for den attach: the init then holds the
	// pty, or the command's stdin.
	var err error
	if s.Pull, err = ParsePull(f.Pull); err != nil {
		return nil, err
	}
	if s.Env, err = BuildEnv(f.EnvFiles, f.Env); err != nil {
		return nil, err
	}
	if err := buildHost(f, s); err != nil { // host.go: takes the volumes out of f.Volumes
		return nil, err
	}
	var missing []string
	for _, v := range f.Volumes {
		b, err := ParseVolume(v)
		if err != nil {
			return nil, err
		}
		if b.Source, err = filepath.Abs(b.Source); err != nil {
			return nil, err
		}
		if _, err := os.Stat(b.Source); err != nil {
			missing = append(missing, b.Source) // made once every flag has passed
		}
		s.Mounts = append(s.Mounts, b)
	}
	if s.Network, err = buildNetwork(f); err != nil {
		return nil, err
	}
	if s.Sandbox, err = security.Resolve(f.Security); err != nil {
		return nil, err
	}
	s.Security = f.Security
	if err := buildLifecycle(f, s); err != nil {
		return nil, err
	}
	if err := checkMountPoints(s); err != nil {
		return nil, err
	}
	for _, m := range missing {
		// docker's -v makes a missing source directory (--mount does not)
		if err := os.MkdirAll(m, 0o755); err != nil {
			return nil, fmt.Errorf("volume source %s does not exist and cannot be made (%v): create it, or fix the path", m, errors.Unwrap(err))
		}
	}
	return s, nil
}

// checkMountPoints refuses two of the user's mounts at one place, as
// docker does ("duplicate mount point").
func checkMountPoints(s *Spec) error {
	seen := map[string]bool{}
	var dests []string
	for _, m := range s.Mounts {
		dests = append(dests, m.Dest)
	}
	for _, v := range s.Host.Volumes {
		dests = append(dests, v.Dest)
	}
	for _, t := range append(append([]pid1.Tmpfs(nil), s.Host.Tmpfs...), s.Sandbox.Tmpfs...) {
		if !t.Default {
			dests = append(dests, t.Dest)
		}
	}
	for _, d := range dests {
		d = filepath.Clean(d)
		if seen[d] {
			return fmt.Errorf("duplicate mount point: %s (two of -v, --mount and --tmpfs name it)", d)
		}
		seen[d] = true
	}
	return nil
}

// buildLifecycle reads what den logs, den stop and den ps use.
func buildLifecycle(f *Flags, s *Spec) error {
	log, err := ParseLog(f.LogDriver, f.LogOpts)
	if err != nil {
		return err
	}
	if !s.Rm || s.Detach {
		// A foreground --rm container's output has gone to the terminal
		// and the container goes with its end: no log to write. A
		// detached one's is read with den logs while it runs, as docker's.
		s.Log = log
	}
	if f.StopSignal != "" {
		if _, err := signal.ParseSignal(f.StopSignal); err != nil {
			return fmt.Errorf("invalid --stop-signal %q: use a name such as TERM or a number", f.StopSignal)
		}
		s.StopSignal = f.StopSignal
	}
	if f.StopTimeoutSet {
		if f.StopTimeout < -1 {
			return fmt.Errorf("invalid --stop-timeout %d: use seconds, or -1 to wait for ever", f.StopTimeout)
		}
		t := f.StopTimeout
		s.StopTimeout = &t
	}
	if err := checkPreserved(f.PreserveFDs); err != nil {
		return err
	}
	s.PreserveFDs = f.PreserveFDs
	if _, err := ParseDetachKeys(f.DetachKeys); err != nil {
		return err
	}
	s.DetachKeys = f.DetachKeys
	if s.Restart, err = ParseRestart(f.Restart); err != nil {
		return err
	}
	if s.Restart.Name != "" && s.Rm {
		return fmt.Errorf("--restart and --rm conflict: a container that restarts is never removed")
	}
	if s.Restart.Name != "" && !s.Detach {
		return fmt.Errorf("--restart needs -d: den restarts a container for as long as the den that runs it in the background lives (there is no daemon)")
	}
	if f.CIDFile != "" {
		if _, err := os.Stat(f.CIDFile); err == nil {
			return fmt.Errorf("--cidfile %s already exists: remove it, or name another file", f.CIDFile)
		}
		s.CIDFile = f.CIDFile
	}
	var lines []string
	for _, path := range f.LabelFiles {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("--label-file: %w", err)
		}
		lines = append(lines, ParseEnvFile(string(b))...)
	}
	for _, l := range append(lines, f.Labels...) {
		k, v, err := ParseLabel(l)
		if err != nil {
			return err
		}
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		s.Labels[k] = v
	}
	return nil
}

// BuildEnv reads --env-file files then -e entries, resolved as docker's client does.
func BuildEnv(files, env []string) ([]string, error) {
	var entries []string
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--env-file: %w", err)
		}
		for _, e := range ParseEnvFile(string(b)) {
			// docker's "poorly formatted environment" (export X=1 too)
			if k, _, _ := strings.Cut(e, "="); strings.ContainsAny(k, " \t") {
				return nil, fmt.Errorf("--env-file %s: variable %q contains blanks: use KEY=VALUE lines", path, k)
			}
			entries = append(entries, e)
		}
	}
	for _, e := range append(entries, env...) {
		if strings.HasPrefix(e, "=") || e == "" {
			return nil, fmt.Errorf("invalid environment variable %q: use KEY=VALUE, or KEY to copy den's", e)
		}
	}
	return ResolveEnv(append(entries, env...), os.LookupEnv), nil
}

// checkPreserved makes sure den holds the descriptors --preserve-fds
// passes on.
func checkPreserved(n int) error {
	if n < 0 || n > 64 {
		return fmt.Errorf("invalid --preserve-fds %d: use the number of descriptors after stderr to pass on", n)
	}
	for fd := 3; fd < 3+n; fd++ {
		if !ctl.FromCaller(fd) {
			return fmt.Errorf("--preserve-fds %d: descriptor %d was not given to den (only what the caller passes on goes to the container)", n, fd)
		}
	}
	return nil
}
