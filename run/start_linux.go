package run

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"

	"github.com/denproject/den/netns"
	"github.com/denproject/den/overlay"
	"github.com/denproject/den/run/ctl"
	"github.com/denproject/den/run/pid1"
	"github.com/denproject/den/run/records"
	"github.com/denproject/den/run/security"
	"github.com/denproject/den/run/spec"
	"github.com/denproject/den/userns"
)

// start mounts the rootfs, fills the init's config from the image and the
// spec, and runs the container; it returns the command's exit status.
func (c *child) start(st *overlay.Store, id string, cfg v1.Config, argv []string, sp *spec.Spec, rec *records.Record) (int, error) {
	if sp.Network.PublishAllSet { // -P: the image's exposed ports too
		withAll := *sp
		withAll.Network.Ports = sp.Network.PublishAll(cfg.ExposedPorts)
		sp = &withAll
	}
	dir, err := st.Dir(id)
	if err != nil {
		return 125, err
	}
	c.startNetworkEarly(sp, id, dir)
	defer c.dropNetwork()
	rootfs, err := st.Mount(id)
	c.g.debugf("rootfs mounted")
	if err != nil {
		return 125, err
	}
	user := sp.User
	if user == "" {
		user = cfg.User
	}
	u, err := resolveUser(rootfs, user)
	if err != nil {
		return 125, err
	}
	hostname := sp.Hostname
	if hostname == "" {
		hostname = id[:12]
		if sp.Network.Mode == spec.ModeHost {
			if h, err := os.Hostname(); err == nil {
				hostname = h // the host's, as docker's --network host gives
			}
		}
	}
	rec.Hostname = hostname
	files, err := etcFiles(dir, hostname, sp.Network)
	if err != nil {
		return 125, err
	}
	var joined *os.File // --network container:NAME
	if sp.Network.Mode == spec.ModeContainer {
		if joined, hostname, files, err = c.joinedNetwork(sp.Network); err != nil {
			return 125, err
		}
		rec.Hostname = hostname
	}
	cwd := cfg.WorkingDir
	if sp.Workdir != "" {
		cwd = sp.Workdir
	}
	ic := &pid1.Config{
		Rootfs: rootfs, Hostname: hostname, Args: argv, Env: containerEnv(cfg, sp, hostname, u.Home), Cwd: cwd,
		UID: u.UID, GID: u.GID, Groups: u.Groups, Tty: sp.Tty, NoSetGroups: userns.SingleID(),
		HostSys: sp.Network.Mode == spec.ModeHost, NewNet: sp.Network.Mode != spec.ModeHost && joined == nil,
		Files: files, Mounts: sp.Mounts, TTYGroup: userns.MappedIDs() > 5, Sandbox: sp.Sandbox,
		Detached: sp.Detach, Interactive: sp.Interactive,
	}
	if leavesAlone(sp) {
		ic.Restart = sp.Restart // no den stays to apply it
	}
	cleanup, err := c.prepareHost(rootfs, dir, id, sp, ic) // host_linux.go (issue 12)
	defer cleanup()
	if err != nil {
		return 125, err
	}
	return c.launch(st, ic, sp, id, joined)
}

// containerEnv is docker's: a PATH, the image's, HOSTNAME and HOME, TERM
// with -t, then --env-file's and -e's.
func containerEnv(cfg v1.Config, sp *spec.Spec, hostname, home string) []string {
	env := pid1.MergeEnv([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, cfg.Env)
	env = pid1.MergeEnv(env, []string{"HOSTNAME=" + hostname, "HOME=" + home, "container=den"})
	if sp.Tty {
		env = pid1.MergeEnv(env, []string{"TERM=xterm"})
	}
	return pid1.MergeEnv(env, sp.Env)
}

// configure starts the network while the init sets the container up:
// the init has its config at once, and NetworkReady once the network
// (and the port forwarder) is up.
func (c *child) configure(conn *ctl.Conn, ic *pid1.Config, sp *spec.Spec, id string, pid int, files *[]*os.File) (*netns.Network, error) {
	network, start, settle, err := c.takeNetwork(sp, id, pid)
	defer settle()
	if err != nil {
		return network, err
	}
	if network != nil {
		ic.PortForwarder = network.ChildHalf()
		if network.Backend() == netns.Pasta {
			ic.NetnsFile = netns.NsFile
		}
	}
	if ic.Seccomp != nil || ic.SeccompKey != "" {
		if ic.SeccompFilter, err = c.compileSeccomp(&ic.Sandbox, sp.Security); err != nil {
			return network, err
		}
		ic.Seccomp, ic.SeccompKey = nil, "" // the init loads the compiled filter
		f, err := memFile("seccomp", ic.SeccompFilter)
		if err != nil {
			return network, err
		}
		*files = append(*files, f)
		ic.Passed = append(ic.Passed, pid1.PassSeccomp)
	}
	if err := conn.Send(ctl.Config, ic, *files...); err != nil {
		return network, err
	}
	if network != nil {
		c.g.debugf("network backend %s", network.Backend())
		err := start()
		if c.exitR != nil {
			c.exitR.Close() // slirp4netns has it; the init holds the other end
			c.exitR = nil
		}
		if err != nil {
			return network, err
		}
		if ic.PortForwarder != nil {
			if err := network.Publish(exited(pid)); err != nil {
				return network, err
			}
		}
	}
	return network, conn.Send(ctl.NetworkReady, nil)
}

// memFile is data in a sealed memfd, read from its start.
func memFile(name string, data []byte) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd for the %s: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), name)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing the %s: %w", name, err)
	}
	_, _ = unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SEAL|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE)
	if _, err := f.Seek(0, 0); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// network prepares user-mode networking for the init's namespace; nil for
// --network host and none.
// stateDir holds pasta's namespace and pid files; id is empty for a
// network started before the container existed (startPastaEarly), which
// has neither a port forwarder nor ports for den to pick.
func (c *child) network(sp *spec.Spec, id, stateDir string, pid int) (*netns.Network, error) {
	if !sp.Network.Own() {
		return nil, nil
	}
	socketDir := ""
	if id != "" {
		socketDir = c.portsDir(id)
	}
	var log io.Writer
	if c.g.Debug {
		log = c.g.Stderr
	}
	ports := append([]netns.Port{}, sp.Network.Ports...)
	n, err := netns.New(netns.Options{Backend: sp.Network.Mode, Pid: pid, Ports: ports,
		HostLoopback: sp.Network.HostLoopback, StateDir: stateDir, SocketDir: socketDir, Log: log,
		NetAdmin: slices.Contains(sp.Sandbox.Caps, uint(unix.CAP_NET_ADMIN)), ExitFD: c.exitR, Outlive: leavesAlone(sp)})
	if err != nil {
		return nil, err
	}
	picked := false
	for i, p := range sp.Network.Ports {
		if p.HostPort == 0 {
			picked = true
			_ = c.den.Send(ctl.Published, ports[i].String())
		}
	}
	if picked && c.rec != nil && id != "" {
		// den port and den inspect show the ports den picked; the record
		// this den keeps holds them too, so its later writes keep them.
		c.rec.Ports = ports
		_ = c.store.SetMetadata(id, c.rec.Encode())
	}
	return n, nil
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

// compileSeccomp compiles the filter once per set of rules: docker's
// profile makes a program of some 2,900 instructions, which took 2-7 ms
// and most of a run's memory at every start. The compiled program is kept
// in the runtime directory (the user's own, 0700), keyed by the rules.
// When den found it there, the spec carries only the key.
func (c *child) compileSeccomp(sb *pid1.Sandbox, flags security.Flags) ([]byte, error) {
	if sb.Seccomp == nil && sb.SeccompKey != "" {
		if prog, err := os.ReadFile(seccompPath(c.g.RunRoot, sb.SeccompKey)); err == nil && validProgram(prog) {
			return prog, nil
		}
		// Not compiled yet (or gone since den looked): the rules.
		rules, err := security.Rules(flags)
		if err != nil {
			return nil, err
		}
		sb.Seccomp = rules
	}
	key := sb.SeccompKey
	if key == "" {
		var err error
		if key, err = seccompKey(sb.Seccomp); err != nil {
			return nil, err
		}
	}
	prog, err := pid1.CompileSeccomp(sb.Seccomp)
	if err != nil {
		return nil, err
	}
	path := seccompPath(c.g.RunRoot, key)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err == nil {
		tmp := fmt.Sprintf("%s.%d", path, os.Getpid())
		if os.WriteFile(tmp, prog, 0o600) == nil {
			_ = os.Rename(tmp, path)
		}
	}
	return prog, nil
}

// useCompiledSeccomp replaces the spec's seccomp rules by their key when
// their program is already compiled: the child then reads it.
func (g *Global) useCompiledSeccomp(sb *pid1.Sandbox) {
	if sb.Seccomp == nil {
		return
	}
	key, err := seccompKey(sb.Seccomp)
	if err != nil {
		return
	}
	if fi, err := os.Stat(seccompPath(g.RunRoot, key)); err == nil && fi.Size() > 0 {
		sb.Seccomp, sb.SeccompKey = nil, key
	}
}

func seccompKey(s *pid1.Seccomp) (string, error) {
	rules, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(append(rules, runtime.GOARCH...))
	return hex.EncodeToString(sum[:16]), nil
}

func seccompPath(runRoot, key string) string { return filepath.Join(runRoot, "seccomp", key) }

func validProgram(b []byte) bool { return len(b) > 0 && len(b)%8 == 0 }
