package pid1

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/run/ctl"
)

// Main is the container init's whole life; it returns the exit status.
func Main() int {
	undumpable()
	// ps shows den-init, not exe (/proc/self/exe).
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&[]byte("den-init\x00")[0])), 0, 0, 0)
	stamp("init running")
	lockThread()
	// Signals that arrive during setup are kept for the command. Notify
	// costs half a millisecond: it runs beside the setup.
	// SIGCHLD has its own channel: one waiting there is enough for a pass
	// that reaps every child, and it never fills up behind the others.
	sigs, chld := make(chan os.Signal, 32), make(chan os.Signal, 1)
	notified := make(chan struct{})
	go func() {
		signal.Notify(chld, unix.SIGCHLD)
		signal.Notify(sigs, ctl.Signals...)
		// den's child ignores SIGTTOU (it writes to the terminal from a
		// background group); a handler here, unlike SIG_IGN, does not
		// pass on to the command, which gets the default as in docker.
		signal.Notify(make(chan os.Signal, 1), unix.SIGTTOU)
		close(notified)
	}()
	p := &initProc{conn: ctl.Inherited(), seen: map[ctl.Type]bool{}}
	var c Config
	files, err := p.conn.Expect(ctl.Config, &c)
	if err == nil {
		err = c.adopt(files)
	}
	if err != nil {
		return p.fail(125, fmt.Errorf("reading the container config: %w", err))
	}
	defer endNetwork(&c) // when setup fails
	stamp("config read")
	cmd, proc, code, err := p.start(&c, notified)
	if err != nil {
		return p.fail(code, err)
	}
	stamp("command started")
	commandPid.Store(int32(proc.Pid)) // before den attach can relay to it
	go serveExec(os.NewFile(ctl.ListenFD, "ctl-listen"), &c)
	_ = p.conn.Send(ctl.Started, nil)
	// Nothing more goes to den's child this way, and a container with
	// SYS_PTRACE could reach the socket through this process: its peer
	// (SO_PEERPIDFD) is the child, in den's mount namespace.
	p.conn.Close()
	if c.Detached {
		offThread(func() bool { ctl.Shed(); return true }) // this thread has the container's seccomp filter
	} else {
		shedLater() // a short command ends before it would pay off
	}
	code = reap(proc.Pid, sigs, chld)
	code = restarts(cmd, code, sigs, chld) // restart_linux.go
	cmd.done()
	cmd.drain()
	endNetwork(&c)
	tellAttached(code)
	if c.Detached {
		writeExit(code)
	}
	stamp("command exited")
	return code
}

// adopt puts the descriptors that came with the config where the init
// looks for them: the listening socket at ctl.ListenFD and the container's
// directory at ctl.LogFD (both held by the control socket until now); the
// root filesystem, for an init started before it was mounted; the seccomp
// filter.
func (c *Config) adopt(files []*os.File) error {
	defer ctl.CloseAll(files)
	if len(files) != len(c.Passed) {
		return fmt.Errorf("the config names %d descriptors and came with %d", len(c.Passed), len(files))
	}
	have := map[string]bool{}
	for i, what := range c.Passed {
		var err error
		switch what {
		case PassListen:
			err = unix.Dup3(int(files[i].Fd()), ctl.ListenFD, unix.O_CLOEXEC)
		case PassDir:
			err = unix.Dup3(int(files[i].Fd()), ctl.LogFD, unix.O_CLOEXEC)
		case PassRootfs:
			c.tree, files[i] = files[i], nil
		case PassSeccomp:
			c.SeccompFilter, err = io.ReadAll(files[i])
		default:
			err = fmt.Errorf("unknown descriptor %q", what)
		}
		if err != nil {
			return fmt.Errorf("taking the %s descriptor: %w", what, err)
		}
		have[what] = true
	}
	if !have[PassListen] || !have[PassDir] {
		return fmt.Errorf("the config came without its listening socket or directory")
	}
	return nil
}

// endNetwork removes the namespace file pasta watches, so that pasta
// ends with the container: no den may be left to stop it. It runs before
// the exit file is written, so that a den which sees the exit finds
// pasta's ports going or gone.
func endNetwork(c *Config) {
	if c.NetnsFile != "" {
		_ = unix.Unlinkat(ctl.LogFD, c.NetnsFile, 0)
	}
}

// initProc is the init's side of the control socket.
type initProc struct {
	conn *ctl.Conn
	seen map[ctl.Type]bool
}

// wait reads den's messages until one of type t has come; the others it
// notes (NetworkReady may come before or after TTYReady).
func (p *initProc) wait(t ctl.Type) error {
	for !p.seen[t] {
		m, files, err := p.conn.Recv()
		if err != nil {
			return fmt.Errorf("waiting for den (%s): %w", t, err)
		}
		ctl.CloseAll(files)
		p.seen[m.Type] = true
	}
	return nil
}

// command is the container's command as the init starts it: again, for
// a restart policy, with the same stdio, which the init keeps until the
// last start has ended.
type command struct {
	c     *Config
	path  string
	stdio []*os.File
	done  func() // closes the init's copies of the command's stdio
	drain func() // waits for the output's end
}

// start sets the container up and starts the command; on failure it
// returns docker's status for it.
func (p *initProc) start(c *Config, notified <-chan struct{}) (*command, *os.Process, int, error) {
	if c.PortForwarder != nil {
		go servePorts(c.PortForwarder)
		// Its socket and pipe are paths on the host: it must reach them
		// before pivot_root. den says NetworkReady once it has.
		if err := p.wait(ctl.NetworkReady); err != nil {
			return nil, nil, 125, err
		}
	}
	if err := unix.Sethostname([]byte(c.Hostname)); err != nil {
		return nil, nil, 125, fmt.Errorf("setting the hostname: %w", err)
	}
	if c.NewNet {
		if err := loopbackUp(); err != nil {
			return nil, nil, 125, err
		}
	}
	if err := setupRootfs(c); err != nil {
		return nil, nil, 125, err
	}
	stamp("rootfs ready")
	if err := workdir(c.Cwd, true); err != nil {
		return nil, nil, 125, err
	}
	stdio, closeStdio, drain, err := p.stdio(c)
	if err != nil {
		return nil, nil, 125, err
	}
	cmd := &command{c: c, stdio: stdio, done: func() {}, drain: drain}
	if c.Restart.Name == "" {
		defer closeStdio() // the command has them: EOF comes with its end
	} else {
		cmd.done = closeStdio
	}
	if cmd.path, err = lookPath(c.Args[0], envPath(c.Env), c.Cwd); err != nil {
		return nil, nil, exitCodeFor(err), err
	}
	// The container was set up while the network came up.
	if err := p.wait(ctl.NetworkReady); err != nil {
		return nil, nil, 125, err
	}
	stamp("network ready")
	<-notified
	if err := restrict(c); err != nil {
		return nil, nil, 125, err
	}
	proc, err := cmd.spawn()
	if err != nil {
		return nil, nil, exitCodeFor(err), err
	}
	return cmd, proc, 0, nil
}

// spawn starts the command, from the init's own thread, which restrict
// has sandboxed.
func (cmd *command) spawn() (*os.Process, error) {
	c := cmd.c
	children.Lock() // the reaper must know the command's pid first
	defer children.Unlock()
	exe, argv, env, files := withPreserved(c, cmd.path, cmd.stdio)
	proc, err := os.StartProcess(exe, argv, &os.ProcAttr{
		Dir:   c.Cwd,
		Env:   env,
		Files: files,
		Sys: &syscall.SysProcAttr{
			Setsid:     true,
			Setctty:    c.Tty,
			Credential: &syscall.Credential{Uid: c.UID, Gid: c.GID, Groups: c.Groups, NoSetGroups: c.NoSetGroups},
		},
	})
	if err != nil {
		if errors.Is(err, syscall.EINVAL) {
			if why := unmapped(c); why != "" {
				return nil, fmt.Errorf("starting %s: %w", c.Args[0], &unmappedError{why})
			}
		}
		return nil, fmt.Errorf("starting %s: %w", c.Args[0], err)
	}
	return proc, nil
}

// unmappedError: the command's user cannot be set up (126, as podman's
// "unable to setup user").
type unmappedError struct{ why string }

func (e *unmappedError) Error() string { return e.why }

// unmapped says which of the command's ids the container's user
// namespace does not map (setuid and setgroups then fail with EINVAL).
func unmapped(c *Config) string {
	ids := []struct {
		what, file string
		ids        []uint32
	}{{"uid", "/proc/self/uid_map", []uint32{c.UID}}, {"gid", "/proc/self/gid_map", append([]uint32{c.GID}, c.Groups...)}}
	for _, k := range ids {
		b, err := os.ReadFile(k.file)
		if err != nil {
			return ""
		}
		var top uint64
		for _, id := range k.ids {
			mapped := false
			for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				var in, out, n uint64
				if _, err := fmt.Sscan(l, &in, &out, &n); err == nil {
					top = max(top, in+n)
					mapped = mapped || uint64(id) >= in && uint64(id) < in+n
				}
			}
			if !mapped {
				return fmt.Sprintf("%s %d is not mapped in the container (den maps ids 0-%d: a larger /etc/subuid and /etc/subgid range maps more)", k.what, id, top-1)
			}
		}
	}
	return ""
}

// reap forwards signals to the command and reaps every child, orphans
// included (init is their parent in the pid namespace), until the command
// itself exits; its status becomes init's. den exec's processes get their
// own status through children. It sleeps between signals: an idle
// container's init never runs.
func reap(pid int, sigs, chld chan os.Signal) int {
	for {
		select {
		case s := <-sigs:
			_ = unix.Kill(pid, s.(syscall.Signal))
			continue
		case <-chld:
		}
		if code, done := reapAll(pid); done {
			return code
		}
	}
}

// reapAll reaps every child that has ended; done once the command has.
func reapAll(pid int) (code int, done bool) {
	children.Lock()
	defer children.Unlock()
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err != nil || got <= 0 {
			return 0, false
		}
		if ch, ok := children.exits[got]; ok {
			ch <- ctl.ExitCode(syscall.WaitStatus(ws))
			delete(children.exits, got)
		}
		if got == pid {
			return ctl.ExitCode(syscall.WaitStatus(ws)), true
		}
	}
}

// workdir checks the command's working directory; the container's own
// (create) is made when missing, as docker's run -w does, den exec's is
// not (docker exec fails).
func workdir(dir string, create bool) error {
	if dir == "" {
		dir = "/"
	}
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) && create {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating working directory %s: %w", dir, err)
		}
	} else if err != nil {
		return fmt.Errorf("working directory %s: %w", dir, err)
	} else if !fi.IsDir() {
		return fmt.Errorf("working directory %s is not a directory", dir)
	}
	return nil
}

func envPath(env []string) string {
	for _, e := range env {
		if p, ok := strings.CutPrefix(e, "PATH="); ok {
			return p
		}
	}
	return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

var (
	errNotFound = errors.New("executable file not found in $PATH")
	errNoExec   = errors.New("permission denied")
	// errBadWorkdir: den exec's working directory cannot be entered;
	// docker exec exits 126 for it, as for any process its runtime could
	// not start.
	errBadWorkdir = errors.New("exec")
)

// lookPath finds the command in the container's PATH (not den's).
func lookPath(file, path, cwd string) (string, error) {
	// Relative names are the command's, whose working directory is cwd;
	// the init's own is elsewhere.
	at := func(p string) string {
		if filepath.IsAbs(p) || cwd == "" {
			return p
		}
		return filepath.Join(cwd, p)
	}
	if strings.Contains(file, "/") {
		return file, checkExec(at(file))
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if fi, err := os.Stat(at(p)); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%q: %w", file, errNotFound)
}

func checkExec(p string) error {
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%q: no such file or directory: %w", p, errNotFound)
	case err != nil:
		return fmt.Errorf("%q: %w", p, err)
	case fi.IsDir():
		return fmt.Errorf("%q is a directory: %w", p, errNoExec)
	case fi.Mode()&0o111 == 0:
		return fmt.Errorf("%q: %w", p, errNoExec)
	}
	return nil
}

// exitCodeFor follows docker: 127 when the command does not exist, 126
// when it exists but cannot be executed.
func exitCodeFor(err error) int {
	switch {
	case errors.Is(err, errBadWorkdir): // before ENOENT, which it may wrap
		return 126
	case errors.As(err, new(*unmappedError)):
		return 126
	case errors.Is(err, errNotFound), errors.Is(err, os.ErrNotExist):
		return 127
	case errors.Is(err, errNoExec), errors.Is(err, os.ErrPermission), errors.Is(err, unix.EISDIR), errors.Is(err, unix.ENOEXEC):
		return 126
	}
	return 125
}

// fail reports a setup failure to den, which prints it and exits with
// code; only when den cannot be told is it printed here.
func (p *initProc) fail(code int, err error) int {
	if serr := p.conn.Send(ctl.Failed, ctl.StatusBody{Code: code, Msg: err.Error()}); serr != nil {
		fmt.Fprintf(os.Stderr, "den: %v\n", err)
	}
	return code
}

// stamp prints a --debug timing line when den passed its start time.
func stamp(what string) {
	if os.Getenv(ctl.EnvStart) != "" {
		ctl.Stamp(os.Stderr, "%s", what)
	}
}
