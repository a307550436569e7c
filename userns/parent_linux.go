package userns

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Environment variables that carry the handshake across the re-exec.
const (
	envStage  = "_DEN_USERNS"
	envSyncFD = "_DEN_USERNS_SYNC"
	envSingle = "_DEN_USERNS_SINGLE"
	envParent = "_DEN_USERNS_PARENT"
	envAlone  = "_DEN_USERNS_DETACHED"
)

// Options start den again inside a new user and mount namespace.
type Options struct {
	Plan       *Plan
	Args       []string // arguments after argv[0]
	Env        []string // added to the current environment
	Stdin      io.Reader
	Stdout     io.Writer
	Stderr     io.Writer
	ExtraFiles []*os.File // fds 3, 4, ... in the child, in order
	// Setpgid puts the child in its own process group so that keys typed at
	// the terminal signal only the outer den, which forwards them once.
	Setpgid bool
	// Detach starts the child in a session of its own, to outlive the
	// caller: no parent-death signal.
	Detach bool
}

// Child is den running inside the namespace.
type Child struct {
	cmd *exec.Cmd
}

// Start re-executes den with CLONE_NEWUSER|CLONE_NEWNS, writes its id maps
// (newuidmap/newgidmap, or the one-uid map directly) and then releases it.
// The child blocks on a pipe until then. Its execve happens while it is
// still unmapped, which would drop every capability: it keeps them as
// ambient capabilities, raised between the clone and the exec, so that it
// needs no second exec once mapped (that cost 3-4 ms per run).
func Start(o Options) (*Child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding den's own binary: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	defer w.Close()

	cmd := exec.Command(exe, o.Args...)
	cmd.Args[0] = os.Args[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdin, o.Stdout, o.Stderr
	cmd.ExtraFiles = append(append([]*os.File{}, o.ExtraFiles...), r)
	syncFD := 3 + len(o.ExtraFiles)
	cmd.Env = o.childEnv(envStage+"=wait", envSyncFD+"="+strconv.Itoa(syncFD))
	cmd.SysProcAttr = o.procAttr()
	cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS
	cmd.SysProcAttr.AmbientCaps = allCaps()
	if err := cmd.Start(); err != nil {
		return nil, cloneError(err)
	}
	if err := writeMaps(o.Plan, cmd.Process.Pid); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, err
	}
	if _, err := w.Write([]byte{1}); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("releasing the namespace child: %w", err)
	}
	return &Child{cmd: cmd}, nil
}

// childEnv is the environment of den's re-exec in the namespace: the
// caller's, o.Env, the stage's own (stage), and what tells the storage
// library that the namespace is already made.
func (o Options) childEnv(stage ...string) []string {
	env := append(os.Environ(), o.Env...)
	env = append(env, stage...)
	env = append(env,
		envParent+"="+strconv.Itoa(os.Getpid()),
		"_CONTAINERS_USERNS_CONFIGURED=done",
		"_CONTAINERS_ROOTLESS_UID="+strconv.Itoa(o.Plan.UID),
		"_CONTAINERS_ROOTLESS_GID="+strconv.Itoa(o.Plan.GID),
	)
	if o.Plan.Fallback() {
		env = append(env, envSingle+"=1")
	}
	if o.Detach {
		env = append(env, envAlone+"=1")
	}
	return env
}

// procAttr is how the re-exec stands to den: in den's process group, or
// with Detach in a session of its own that outlives den.
func (o Options) procAttr() *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: o.Setpgid && !o.Detach, Setsid: o.Detach, Pdeathsig: syscall.SIGKILL}
	if o.Detach {
		a.Pdeathsig = 0
	}
	return a
}

// Pid is the child's process id on the host.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// Wait waits for the child and returns what exec.Cmd.Wait does.
func (c *Child) Wait() error { return c.cmd.Wait() }

func writeMaps(p *Plan, pid int) error {
	if p.Fallback() {
		proc := fmt.Sprintf("/proc/%d/", pid)
		if err := os.WriteFile(proc+"setgroups", []byte("deny"), 0); err != nil {
			return fmt.Errorf("writing %ssetgroups: %w", proc, err)
		}
		if err := os.WriteFile(proc+"uid_map", []byte(formatMaps(p.UIDs)), 0); err != nil {
			return fmt.Errorf("writing %suid_map: %w", proc, err)
		}
		if err := os.WriteFile(proc+"gid_map", []byte(formatMaps(p.GIDs)), 0); err != nil {
			return fmt.Errorf("writing %sgid_map: %w", proc, err)
		}
		return nil
	}
	// The two helpers are independent: run them side by side.
	gid := make(chan error, 1)
	go func() { gid <- runMapper(p.NewGIDMap, mapArgs(pid, p.GIDs)) }()
	uerr := runMapper(p.NewUIDMap, mapArgs(pid, p.UIDs))
	if gerr := <-gid; uerr == nil {
		return gerr
	}
	return uerr
}

func runMapper(prog string, args []string) error {
	var out bytes.Buffer
	cmd := exec.Command(prog, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		fix := "check that your /etc/subuid and /etc/subgid lines are right"
		if strings.Contains(msg, "Operation not permitted") || strings.Contains(msg, "write to") {
			fix = mapperFix(prog, fix)
		}
		return fmt.Errorf("%s %s failed: %s (%v); %s", prog, strings.Join(args, " "), msg, err, fix)
	}
	return nil
}

func cloneError(err error) error {
	if read("/proc/sys/user/max_user_namespaces") == "0" {
		return fmt.Errorf("creating a user namespace: %w: user namespaces are disabled (user.max_user_namespaces=0); as root: sysctl -w user.max_user_namespaces=28633", err)
	}
	if read("/proc/sys/kernel/unprivileged_userns_clone") == "0" {
		return fmt.Errorf("creating a user namespace: %w: unprivileged user namespaces are disabled; as root: sysctl -w kernel.unprivileged_userns_clone=1", err)
	}
	return fmt.Errorf("creating a user namespace: %w", err)
}

func read(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// allCaps lists every capability the kernel knows.
func allCaps() []uintptr {
	last, err := strconv.Atoi(read("/proc/sys/kernel/cap_last_cap"))
	if err != nil {
		last = unix.CAP_LAST_CAP
	}
	caps := make([]uintptr, last+1)
	for i := range caps {
		caps[i] = uintptr(i)
	}
	return caps
}

// mapperFix names what keeps the mapper from writing the maps: a copy
// ahead of the system's in PATH, setuid but not root's, on a nosuid
// mount, or neither setuid nor with file capabilities.
func mapperFix(prog, otherwise string) string {
	fi, err := os.Stat(prog)
	if err != nil {
		return otherwise
	}
	sys := "/usr/bin/" + filepath.Base(prog)
	if good, _ := setuidRoot(sys); prog != sys && good {
		return fmt.Sprintf("%s comes first in PATH but is neither setuid root nor has file capabilities; use the system's: export PATH=/usr/bin:$PATH", prog)
	}
	var fs unix.Statfs_t
	setuid := fi.Mode()&os.ModeSetuid != 0
	switch _, root := setuidRoot(prog); {
	case setuid && !root:
		return fmt.Sprintf("%s is setuid but not owned by root (as root: chown root %s && chmod u+s %s, or reinstall the uidmap package)", prog, prog, prog)
	case setuid && unix.Statfs(prog, &fs) == nil && fs.Flags&unix.ST_NOSUID != 0:
		return fmt.Sprintf("%s is on a nosuid mount, where setuid does nothing: use a copy elsewhere (export PATH=/usr/bin:$PATH)", prog)
	case setuid:
		return otherwise
	}
	return fmt.Sprintf("%s needs its setuid bit or file capabilities (as root: chmod u+s %s, or reinstall the uidmap package)", prog, prog)
}

// setuidRoot says whether path is setuid (good) and owned by root (root).
func setuidRoot(path string) (good, root bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return false, false
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	root = st != nil && st.Uid == 0
	return fi.Mode()&os.ModeSetuid != 0 && root, root
}
