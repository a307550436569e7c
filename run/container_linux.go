package run

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"

	"github.com/denproject/den/netns"
	"github.com/denproject/den/pull"
	"github.com/denproject/den/run/pid1"
	"github.com/denproject/den/userns"
)

// Meta is what den records about a container, beside its layer.
type Meta struct {
	Image    string    `json:"image"`
	Args     []string  `json:"args"`
	Created  time.Time `json:"created"`
	State    string    `json:"state"` // running, exited
	Pid      int       `json:"pid,omitempty"`
	ExitCode int       `json:"exitCode"`
	Hostname string    `json:"hostname"`
}

// ttyFD is where the namespace child finds the terminal socket.
const ttyFD = 3

// Run is `den run`. Outside the namespace it checks the flags, starts den
// again inside and, with -t, owns the terminal; inside it creates, runs
// and (with --rm) removes the container.
func Run(g *Global, o *RunOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	if err := g.fill(); err != nil {
		return err
	}
	takeDetached()
	if o.Detach && detached == nil && !userns.Inside() {
		return runDetached(g)
	}
	if o.Detach {
		// No terminal in the background, and nothing to read stdin from.
		o.Tty, o.Interactive = false, false
	}
	var err error
	if userns.Inside() {
		err = runInside(g, o)
	} else {
		err = runOuter(g, o)
	}
	var ee *ExitError
	if !errors.As(err, &ee) {
		reportDetached("", err)
	}
	return err
}

func runOuter(g *Global, o *RunOptions) error {
	plan := userns.NewPlan()
	if plan.Warning != "" {
		g.warnf("%s", plan.Warning)
	}
	uo := userns.Options{Plan: plan, Args: os.Args[1:], Stdout: os.Stdout, Stderr: os.Stderr, Setpgid: true}
	if o.Interactive {
		uo.Stdin = os.Stdin
	}
	if detached != nil {
		// The namespace child reports, on its fd 3.
		uo.ExtraFiles = []*os.File{detached}
		uo.Env = append(uo.Env, envDetach+"=3")
	}
	var term *terminal
	if o.Tty {
		var err error
		if term, err = newTerminal(); err != nil {
			return err
		}
		defer term.close()
		uo.ExtraFiles = []*os.File{term.remote}
	}
	g.debugf("entering the user namespace")
	child, err := userns.Start(uo)
	if err != nil {
		return err
	}
	if detached != nil { // the child has it now
		detached.Close()
		detached = nil
	}
	g.debugf("id maps written")
	stop := child.ForwardSignals()
	if term != nil {
		term.remote.Close()
		go term.serve(o.Interactive)
	}
	code := child.Wait()
	stop()
	if term != nil {
		term.drain()
	}
	return &ExitError{Code: code}
}

func runInside(g *Global, o *RunOptions) error {
	s, err := g.enter()
	if s == nil {
		return err
	}
	defer s.close()
	g.debugf("store open")
	im, err := s.imageForRun(o)
	if err != nil {
		return err
	}
	raw, err := s.store.ImageConfig(im.ID)
	if err != nil {
		return fmt.Errorf("reading the config of %s: %w", o.Image, err)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("parsing the config of %s: %w", o.Image, err)
	}
	args, err := command(cfg.Config, o)
	if err != nil {
		return err
	}
	meta := Meta{Image: o.Image, Args: args, Created: time.Now(), State: "running", Pid: os.Getpid()}
	c, err := s.store.CreateContainer(o.Name, im.ID, meta.encode(), o.Rm)
	if err != nil {
		return err
	}
	g.debugf("container %s created", c.ID[:12])
	code, err := s.start(c.ID, cfg.Config, args, o, &meta)
	g.debugf("container exited with %d", code)
	defer g.debugf("cleaned up")
	if o.Rm || err != nil {
		// A container den failed to start is not kept, --rm or not.
		if rmErr := s.removeContainer(c); rmErr != nil && err == nil {
			err = rmErr
		}
	} else {
		// The mount went with the namespace; the store's count must follow.
		_ = s.store.Unmount(c.ID)
		meta.State, meta.ExitCode, meta.Pid = "exited", code, 0
		_ = s.store.SetMetadata(c.ID, meta.encode())
	}
	if err != nil {
		return err
	}
	return &ExitError{Code: code}
}

// imageForRun finds the image, pulling it as --pull says.
func (s *session) imageForRun(o *RunOptions) (*imageRef, error) {
	if o.Pull != PullAlways {
		if im, err := s.findImage(o.Image); err == nil {
			return &imageRef{ID: im.ID}, nil
		} else if o.Pull == PullNever {
			return nil, fmt.Errorf("%s: no such image in the store and --pull=never (den pull %s first)", o.Image, o.Image)
		}
	}
	ref, err := pull.ParseRef(o.Image, o.PullOptions.Insecure)
	if err != nil {
		return nil, err
	}
	plat, err := pull.ParsePlatform(o.PullOptions.Platform)
	if err != nil {
		return nil, err
	}
	ctx, stop := interruptible()
	defer stop()
	img, err := s.pull(ctx, ref, plat, o.PullOptions)
	if err != nil {
		return nil, err
	}
	return &imageRef{ID: img.ID}, nil
}

type imageRef struct{ ID string }

// command joins entrypoint and cmd as docker does: arguments after the
// image replace Cmd; --entrypoint replaces Entrypoint and drops Cmd.
func command(cfg v1.Config, o *RunOptions) ([]string, error) {
	entry, cmd := cfg.Entrypoint, cfg.Cmd
	if o.Entrypoint != nil {
		entry, cmd = nil, nil
		if *o.Entrypoint != "" {
			entry = []string{*o.Entrypoint}
		}
	}
	if len(o.Args) > 0 {
		cmd = o.Args
	}
	args := append(append([]string{}, entry...), cmd...)
	if len(args) == 0 {
		return nil, fmt.Errorf("%s: no command given and the image has none (add one after the image name)", o.Image)
	}
	return args, nil
}

// start mounts the rootfs and runs init in new pid, mount, uts and ipc
// namespaces (and net, unless --network host), returning the command's
// exit status.
func (s *session) start(id string, cfg v1.Config, args []string, o *RunOptions, meta *Meta) (int, error) {
	rootfs, err := s.store.Mount(id)
	s.g.debugf("rootfs mounted")
	if err != nil {
		return 125, err
	}
	user := o.User
	if user == "" {
		user = cfg.User
	}
	u, err := resolveUser(rootfs, user)
	if err != nil {
		return 125, err
	}
	hostname := o.Hostname
	if hostname == "" {
		hostname = id[:12]
	}
	meta.Hostname = hostname
	dir, err := s.store.Dir(id)
	if err != nil {
		return 125, err
	}
	resolv, ownIP := hostResolv(), "127.0.1.1"
	switch o.Network {
	case "host":
		resolv = readFile("/etc/resolv.conf")
	case "none":
	default:
		resolv, ownIP = "nameserver "+netns.DNS+"\n", netns.ContainerIP
	}
	extraHosts, _, err := o.hosts()
	if err != nil {
		return 125, err
	}
	files, err := etcFiles(dir, hostname, ownIP, extraHosts, resolv)
	if err != nil {
		return 125, err
	}
	var mounts []pid1.Bind
	for _, v := range o.Volumes {
		b, err := parseVolume(v)
		if err != nil {
			return 125, err
		}
		mounts = append(mounts, b)
	}
	env, err := s.env(cfg, o, hostname, u)
	if err != nil {
		return 125, err
	}
	cwd := cfg.WorkingDir
	if o.Workdir != "" {
		cwd = o.Workdir
	}
	ic := pid1.Config{
		Rootfs: rootfs, Hostname: hostname, Args: args, Env: env, Cwd: cwd,
		UID: u.UID, GID: u.GID, Groups: u.Groups, Tty: o.Tty, NoSetGroups: userns.SingleID(),
		HostSys: o.Network == "host", NewNet: o.Network != "host",
		Files: files, Mounts: mounts, TTYGroup: userns.MappedIDs() > 5,
	}
	if err := o.security(&ic); err != nil {
		return 125, err
	}
	return s.init(&ic, o, id)
}

func (s *session) env(cfg v1.Config, o *RunOptions, hostname string, u *execUser) ([]string, error) {
	env := mergeEnv([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, cfg.Env)
	env = mergeEnv(env, []string{"HOSTNAME=" + hostname, "HOME=" + u.Home, "container=den"})
	if o.Tty {
		env = mergeEnv(env, []string{"TERM=xterm"})
	}
	for _, f := range o.EnvFiles {
		fe, err := readEnvFile(f)
		if err != nil {
			return nil, err
		}
		env = mergeEnv(env, fe)
	}
	return mergeEnv(env, o.Env), nil
}

// init starts den's pid1 and waits for it, relaying signals.
func (s *session) init(ic *pid1.Config, o *RunOptions, id string) (int, error) {
	cr, cw, err := os.Pipe()
	if err != nil {
		return 125, err
	}
	defer cr.Close()
	sr, sw, err := os.Pipe()
	if err != nil {
		return 125, err
	}
	defer sr.Close()
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{"den-init"}
	cmd.Env = []string{pid1.EnvInit + "=1"}
	if s.g.Debug {
		cmd.Env = append(cmd.Env, pid1.EnvStart+"="+os.Getenv(envStart))
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if detached != nil {
		logPath, err := s.logFile(id)
		if err != nil {
			return 125, err
		}
		log, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return 125, fmt.Errorf("opening the container's log: %w", err)
		}
		defer log.Close()
		cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, log, log
	}
	cmd.ExtraFiles = []*os.File{cr, sw}
	if o.Tty {
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(ttyFD, "tty-socket"))
	}
	flags := uintptr(syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC)
	if ic.NewNet {
		flags |= syscall.CLONE_NEWNET
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags, Pdeathsig: syscall.SIGKILL}
	// The parent-death signal follows the forking thread, not den: keep
	// that thread ours until the init is reaped (golang/go#27505).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	err = cmd.Start()
	s.g.debugf("init started")
	sw.Close()
	if err != nil {
		cw.Close()
		return 125, fmt.Errorf("starting the container init: %w", err)
	}
	// For den stop and den kill, from other shells.
	if dir, err := s.store.RunDir(id); err == nil {
		_ = os.WriteFile(filepath.Join(dir, initPidFile), []byte(strconv.Itoa(cmd.Process.Pid)), 0o600)
	}
	// The init sets the container up while the network comes up, and
	// waits for the end of the config pipe to start the command.
	network, err := s.network(o, id, cmd.Process.Pid)
	if err == nil {
		if network != nil {
			defer network.Stop()
		}
		ic.PortForwarder = network.ChildHalf()
		if ic.Seccomp != nil {
			ic.SeccompFilter, err = pid1.CompileSeccomp(ic.Seccomp)
		}
	}
	sent := false
	if err == nil {
		err = json.NewEncoder(cw).Encode(ic)
		sent = err == nil
	}
	if err == nil && network != nil {
		s.g.debugf("network backend %s", network.Backend())
		err = network.Start()
	}
	if err == nil && ic.PortForwarder != nil {
		err = network.Publish(exited(cmd.Process.Pid))
	}
	if err != nil {
		// Killed before its config pipe ends, the init has nothing to say
		// of its own unless it failed on a config it had.
		_ = cmd.Process.Kill()
		cw.Close()
		status, _ := io.ReadAll(sr)
		_ = cmd.Wait()
		if code, serr := setupStatus(status); sent && serr != nil {
			return code, serr
		}
		return 125, err
	}
	cw.Close()
	s.g.debugf("init configured")
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, userns.ForwardedSignals...)
	defer signal.Stop(sigs)
	go func() {
		for sig := range sigs {
			_ = cmd.Process.Signal(sig)
		}
	}()
	status, _ := io.ReadAll(sr)
	code, serr := setupStatus(status)
	// The status pipe ends when the command starts (or init fails).
	reportDetached(id, serr)
	err = cmd.Wait()
	if serr != nil {
		return code, serr
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 125, err
	}
	return 0, nil
}

// network starts user-mode networking for the init's namespace; nil for
// --network host and none.
func (s *session) network(o *RunOptions, id string, pid int) (*netns.Network, error) {
	if o.Network == "host" || o.Network == "none" {
		return nil, nil
	}
	backend, err := netns.Choose(o.Network)
	if err != nil {
		return nil, err
	}
	_, loopback, err := o.hosts()
	if err != nil {
		return nil, err
	}
	var ports []netns.Port
	for _, spec := range o.Publish {
		p, err := netns.ParsePublish(spec)
		if err != nil {
			return nil, err
		}
		ports = append(ports, p)
	}
	dir, err := s.store.RunDir(id)
	if err != nil {
		return nil, err
	}
	var log io.Writer
	if s.g.Debug {
		log = s.g.Stderr
	}
	n, err := netns.New(netns.Options{Backend: backend, Pid: pid, Ports: ports, HostLoopback: loopback,
		StateDir: dir, SocketDir: s.portsDir(id), Log: log})
	if err != nil {
		return nil, err
	}
	for i, spec := range o.Publish {
		if p, _ := netns.ParsePublish(spec); p.HostPort == 0 {
			fmt.Fprintf(s.g.Stderr, "den: published %s\n", ports[i])
		}
	}
	return n, nil
}

// setupError is den's failure to start the command, with docker's exit
// status for it (125, or 126/127 when the command cannot be executed).
type setupError struct {
	code int
	msg  string
}

func (e *setupError) Error() string { return e.msg }

// ExitCode is the status den exits with.
func (e *setupError) ExitCode() int { return e.code }

func (m *Meta) encode() string {
	b, _ := json.Marshal(m)
	return string(b)
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// exited closes when process pid ends, without reaping it.
func exited(pid int) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		var info unix.Siginfo
		for unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil) == unix.EINTR {
		}
		close(ch)
	}()
	return ch
}

// setupStatus reads what the init wrote on its status pipe: nothing when
// the command started, else "CODE message" about its own failure.
func setupStatus(status []byte) (int, error) {
	if len(status) == 0 {
		return 0, nil
	}
	var code int
	if _, err := fmt.Sscanf(string(status), "%d", &code); err != nil {
		code = 125
	}
	_, msg, _ := strings.Cut(string(status), " ")
	return code, &setupError{code: code, msg: msg}
}
