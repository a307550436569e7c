package pid1

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/sys/user"
	"golang.org/x/sys/unix"

	"github.com/denproject/den/run/ctl"
)

// children are the processes den exec started, by pid: the reaper hands
// each one's status to the connection that waits for it. mu is held from
// before a fork until the pid is in the map, and by the reaper around
// each wait, so that no status can come before its waiter.
var children = struct {
	sync.Mutex
	exits map[int]chan int
}{exits: map[int]chan int{}}

// serveExec accepts den exec's and den attach's connections on the
// listening socket for as long as the container runs.
func serveExec(ln *os.File, c *Config) {
	for {
		conn, err := ctl.Accept(ln)
		if err != nil {
			return
		}
		go func() {
			defer shedLater() // what the exec faulted in, once execs pause
			defer conn.Close()
			m, files, err := conn.Recv()
			if err == nil {
				switch m.Type {
				case ctl.Exec:
					err = execOne(conn, c, m, files)
				case ctl.Attach:
					err = attachOne(conn, m, files)
				default:
					err = fmt.Errorf("unexpected %s on the container's socket", m.Type)
				}
			}
			if err != nil {
				_ = conn.Send(ctl.Failed, ctl.StatusBody{Code: exitCodeFor(err), Msg: err.Error()})
			}
		}()
	}
}

// execOne starts the process a connection asks for, reports its pid, then
// relays signals to it until it exits, and reports its status.
func execOne(conn *ctl.Conn, c *Config, m ctl.Msg, files []*os.File) error {
	defer ctl.CloseAll(files)
	var e ctl.ExecBody
	if err := m.Decode(&e); err != nil {
		return err
	}
	if len(e.Args) == 0 {
		return fmt.Errorf("den exec: no command")
	}
	pc, err := execConfig(c, &e)
	if err != nil {
		return err
	}
	stdio, closeStdio, drain, err := execStdio(conn, &e, files, pc.UID)
	if err != nil {
		return err
	}
	pid, exit, err := startRestricted(pc, &e, stdio)
	closeStdio()
	if err != nil {
		return err
	}
	if err := conn.Send(ctl.Started, ctl.StatusBody{Pid: pid}); err != nil || e.Detach {
		return nil
	}
	go relaySignals(conn, func() int { return pid })
	code := <-exit
	drain() // den exec exits when told: its output must be out by then
	return conn.Send(ctl.Exit, ctl.StatusBody{Code: code})
}

// execConfig is the container's config with what den exec overrides:
// the user, the working directory and the environment.
func execConfig(c *Config, e *ctl.ExecBody) (*Config, error) {
	pc := *c
	pc.Args, pc.Tty = e.Args, e.Tty
	if e.Workdir != "" {
		pc.Cwd = e.Workdir
	}
	if e.User != "" {
		u, err := user.GetExecUserPath(e.User, &user.ExecUser{Home: "/"}, "/etc/passwd", "/etc/group")
		if err != nil {
			return nil, fmt.Errorf("%w in the container's /etc/passwd and /etc/group", err)
		}
		pc.UID, pc.GID, pc.Groups = uint32(u.Uid), uint32(u.Gid), ExtraGroups(u)
		e.Env = append([]string{"HOME=" + u.Home}, e.Env...)
	}
	if e.Tty {
		e.Env = append([]string{"TERM=xterm"}, e.Env...)
	}
	pc.Env = MergeEnv(c.Env, e.Env)
	if e.Privileged {
		pc.Sandbox = Sandbox{}
	}
	return &pc, nil
}

// execStdio is the process's stdin, stdout and stderr: den's own
// (through a pipe unless passable), a pty whose master goes to den, or
// /dev/null for den exec -d. drain waits for the output's copies.
func execStdio(conn *ctl.Conn, e *ctl.ExecBody, files []*os.File, uid uint32) (stdio []*os.File, done, drain func(), err error) {
	switch {
	case e.Tty:
		slave, err := openPTY(conn, uid, func() error { _, err := conn.Expect(ctl.TTYReady, nil); return err })
		if err != nil {
			return nil, nil, nil, err
		}
		return []*os.File{slave, slave, slave}, func() { slave.Close() }, func() {}, nil
	case e.Detach || len(files) < 3:
		null, err := os.OpenFile("/dev/null", os.O_RDWR, 0)
		if err != nil {
			return nil, nil, nil, err
		}
		return []*os.File{null, null, null}, func() { null.Close() }, func() {}, nil
	}
	return guard(files[:3])
}

// startRestricted forks the process from a thread of its own, restricted
// as the container's command is (unless den exec --privileged); that
// thread is then thrown away, never returned to Go's pool.
func startRestricted(pc *Config, e *ctl.ExecBody, stdio []*os.File) (int, chan int, error) {
	path, err := lookPath(pc.Args[0], envPath(pc.Env), pc.Cwd)
	if err != nil {
		return 0, nil, err
	}
	if err := workdir(pc.Cwd, false); err != nil {
		return 0, nil, fmt.Errorf("%w: %w", errBadWorkdir, err)
	}
	type started struct {
		pid int
		err error
	}
	res := make(chan started, 1)
	exit := make(chan int, 1)
	go func() {
		runtime.LockOSThread() // and never unlocked: the thread ends with this goroutine
		if err := restrict(pc); err != nil {
			res <- started{err: err}
			return
		}
		children.Lock()
		defer children.Unlock()
		proc, err := os.StartProcess(path, pc.Args, &os.ProcAttr{
			Dir: pc.Cwd, Env: pc.Env, Files: stdio,
			Sys: &syscall.SysProcAttr{
				Setsid: true, Setctty: e.Tty,
				Credential: &syscall.Credential{Uid: pc.UID, Gid: pc.GID, Groups: pc.Groups, NoSetGroups: pc.NoSetGroups},
			},
		})
		if err != nil {
			if why := unmapped(pc); why != "" && errors.Is(err, syscall.EINVAL) {
				err = &unmappedError{why}
			}
			res <- started{err: fmt.Errorf("starting %s: %w", pc.Args[0], err)}
			return
		}
		children.exits[proc.Pid] = exit
		res <- started{pid: proc.Pid}
	}()
	r := <-res
	return r.pid, exit, r.err
}

// relaySignals passes den's signals to the exec'd process.
func relaySignals(conn *ctl.Conn, pid func() int) {
	for {
		m, files, err := conn.Recv()
		ctl.CloseAll(files)
		if err != nil {
			return
		}
		var s ctl.SignalBody
		if m.Type == ctl.Signal && m.Decode(&s) == nil {
			if p := pid(); p > 0 { // kill(0) would signal the init's own group
				_ = unix.Kill(p, syscall.Signal(s.Signal))
			}
		}
	}
}

// ExtraGroups are the user's supplementary groups, its primary group left
// out, as runc sets them.
func ExtraGroups(u *user.ExecUser) []uint32 {
	var gs []uint32
	for _, g := range u.Sgids {
		if g != u.Gid {
			gs = append(gs, uint32(g))
		}
	}
	return gs
}

// EnvHas says whether env (KEY=VALUE entries) sets key.
func EnvHas(env []string, key string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, key+"=") {
			return true
		}
	}
	return false
}

// MergeEnv applies KEY=VALUE entries over base, in order: a key already
// in base keeps its place. The init merges den exec's environment with it;
// den merges the image's, the spec's and docker's defaults.
func MergeEnv(base, overrides []string) []string {
	out := append([]string{}, base...)
	idx := map[string]int{}
	for i, e := range out {
		k, _, _ := strings.Cut(e, "=")
		idx[k] = i
	}
	for _, e := range overrides {
		k, _, _ := strings.Cut(e, "=")
		if i, ok := idx[k]; ok {
			out[i] = e
		} else {
			idx[k] = len(out)
			out = append(out, e)
		}
	}
	return out
}

// shedTimer gives back what the init faulted in (ctl.Shed) once it has
// been quiet for a second: not on the path of a short command's exit, nor
// between the execs of a script that runs many.
var (
	shedMu    sync.Mutex
	shedTimer *time.Timer
)

func shedLater() {
	shedMu.Lock()
	defer shedMu.Unlock()
	if shedTimer == nil {
		shedTimer = time.AfterFunc(time.Second, ctl.Shed)
		return
	}
	shedTimer.Reset(time.Second)
}
