package pid1

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Main is the container init's whole life; it returns the exit status.
func Main() int {
	stamp("init running")
	lockThread()
	// Signals that arrive during setup are kept for the command. Notify
	// costs half a millisecond: it runs beside the setup.
	sigs := make(chan os.Signal, 32)
	notified := make(chan struct{})
	go func() { signal.Notify(sigs, forwarded...); close(notified) }()
	unix.CloseOnExec(StatusFD)
	var c Config
	f := os.NewFile(ConfigFD, "config")
	if err := json.NewDecoder(f).Decode(&c); err != nil {
		return fail(125, fmt.Errorf("reading the container config: %w", err))
	}
	if c.PortForwarder != nil {
		go servePorts(c.PortForwarder)
		// Its socket and pipe are paths on the host: it must reach them
		// before pivot_root. den ends the config pipe once it has.
		waitNetwork(f)
	}
	if err := unix.Sethostname([]byte(c.Hostname)); err != nil {
		return fail(125, fmt.Errorf("setting the hostname: %w", err))
	}
	if c.NewNet {
		if err := loopbackUp(); err != nil {
			return fail(125, err)
		}
	}
	stamp("config read")
	if err := setupRootfs(&c); err != nil {
		return fail(125, err)
	}
	stamp("rootfs ready")
	if err := workdir(c.Cwd); err != nil {
		return fail(125, err)
	}
	stdio := []*os.File{os.Stdin, os.Stdout, os.Stderr}
	if c.Tty {
		slave, err := openTTY(c.UID)
		if err != nil {
			return fail(125, err)
		}
		stdio = []*os.File{slave, slave, slave}
	}
	path, err := lookPath(c.Args[0], envPath(c.Env))
	if err != nil {
		return fail(exitCodeFor(err), err)
	}
	// The end of the config pipe says the network is up: the container
	// was set up meanwhile (with a forwarder, init waited above).
	if c.PortForwarder == nil {
		waitNetwork(f)
	}
	stamp("network ready")
	<-notified
	if err := restrict(&c); err != nil {
		return fail(125, err)
	}
	proc, err := os.StartProcess(path, c.Args, &os.ProcAttr{
		Dir:   c.Cwd,
		Env:   c.Env,
		Files: stdio,
		Sys: &syscall.SysProcAttr{
			Setsid:     true,
			Setctty:    c.Tty,
			Credential: &syscall.Credential{Uid: c.UID, Gid: c.GID, Groups: c.Groups, NoSetGroups: c.NoSetGroups},
		},
	})
	if err != nil {
		return fail(exitCodeFor(err), fmt.Errorf("starting %s: %w", c.Args[0], err))
	}
	stamp("command started")
	// The end of the status pipe tells den the command runs.
	unix.Close(StatusFD)
	if c.Tty {
		stdio[0].Close()
	}
	code := reap(proc.Pid, sigs)
	stamp("command exited")
	return code
}

// forwarded are the signals passed on to the command, plus SIGCHLD for
// reaping. Not every signal: the Go runtime uses SIGURG for itself.
var forwarded = []os.Signal{unix.SIGCHLD, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT,
	unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH, unix.SIGALRM, unix.SIGCONT, unix.SIGTSTP}

// reap forwards signals to the command and reaps every child, orphans
// included (init is their parent in the pid namespace), until the command
// itself exits; its status becomes init's.
func reap(pid int, sigs chan os.Signal) int {
	for s := range sigs {
		if s != unix.SIGCHLD {
			_ = unix.Kill(pid, s.(syscall.Signal))
			continue
		}
		for {
			var ws unix.WaitStatus
			got, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if err != nil || got <= 0 {
				break
			}
			if got == pid {
				if ws.Signaled() {
					return 128 + int(ws.Signal())
				}
				return ws.ExitStatus()
			}
		}
	}
	return 125
}

// workdir enters the working directory, creating it when the image lacks
// it, as docker does.
func workdir(dir string) error {
	if dir == "" {
		dir = "/"
	}
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
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
)

// lookPath finds the command in the container's PATH (not den's).
func lookPath(file, path string) (string, error) {
	if strings.Contains(file, "/") {
		return file, checkExec(file)
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
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
	case errors.Is(err, errNotFound), errors.Is(err, os.ErrNotExist):
		return 127
	case errors.Is(err, errNoExec), errors.Is(err, os.ErrPermission), errors.Is(err, unix.EISDIR), errors.Is(err, unix.ENOEXEC):
		return 126
	}
	return 125
}

// fail reports a setup failure to den, which prints it and exits with
// code; only when den cannot be told is it printed here.
func fail(code int, err error) int {
	if _, werr := fmt.Fprintf(os.NewFile(StatusFD, "status"), "%d %v", code, err); werr != nil {
		fmt.Fprintf(os.Stderr, "den: %v\n", err)
	}
	return code
}

// stamp prints a --debug timing line, in milliseconds since the outer den
// started, when den passed that start time.
func stamp(what string) {
	t0, err := strconv.ParseInt(os.Getenv(EnvStart), 10, 64)
	if err != nil {
		return
	}
	fmt.Fprintf(os.Stderr, "den: debug: %6.1fms %s\n", float64(time.Now().UnixNano()-t0)/1e6, what)
}

// waitNetwork reads the config pipe to its end: den closes it once the
// network (and its port forwarder) is up.
func waitNetwork(f *os.File) {
	_, _ = io.Copy(io.Discard, f)
	f.Close()
}
