package netns

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/cpu"
	"golang.org/x/sys/unix"
)

// startPasta drives pasta directly: rootlesskit's pasta driver leaves a
// daemonised pasta behind, so den runs it in the foreground as its child.
func startPasta(o Options) (*Network, error) {
	// pasta drops its capabilities before it opens the namespace, and
	// /proc/PID/ns/net of the (fully capable) init is then out of its
	// reach; a bind mount of the namespace is an ordinary file to open.
	nsPath, unbind, err := bindNetns(o)
	if err != nil {
		return nil, err
	}
	cmd, errb := command(Pasta, pastaArgs(o, nsPath)...)
	if avx2 := pastaAVX2(cmd.Path); avx2 != "" {
		cmd.Path = avx2 // argv[0] stays "pasta", which selects pasta's mode
	}
	if o.Outlive {
		// pasta watches the namespace file's directory and exits once the
		// file is removed (every build since 2022; its default without
		// --no-netns-quit); it ignores SIGPIPE, so the pipe its messages
		// go to may close with den.
		cmd.SysProcAttr.Pdeathsig = 0
	}
	n := &Network{cmd: cmd, stderr: errb}
	if err := cmd.Start(); err != nil {
		unbind()
		return nil, n.failed(Pasta, err)
	}

	exited := make(chan struct{})
	go func() { _, _ = cmd.Process.Wait(); close(exited) }()
	if err := waitRoute(o.Pid, exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		unbind()
		return nil, n.failed(Pasta, err)
	}
	// The reaping goroutine above owns the process now.
	n.cmd = nil
	n.stop = func() {
		_ = cmd.Process.Kill()
		if len(o.Ports) > 0 { // see Stop
			<-exited
		}
		unbind()
	}
	return n, nil
}

// pastaAVX2 is the AVX2 build beside pasta, when there is one and the
// CPU has AVX2. pasta starts it itself in that case (passt's
// arch_avx2_exec), one exec later: a millisecond of every run's start.
func pastaAVX2(path string) string {
	if !cpu.X86.HasAVX2 || !filepath.IsAbs(path) {
		return ""
	}
	if fi, err := os.Stat(path + ".avx2"); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return path + ".avx2"
	}
	return ""
}

// pastaArgs is pasta's command line for the namespace bound at nsPath.
func pastaArgs(o Options, nsPath string) []string {
	// Only --dns-forward: pasta sends queries for DNS to the first
	// nameserver in the host's /etc/resolv.conf (its documented default),
	// a loopback one too (127.0.0.53, 127.0.0.1). With --dns, pasta reads no nameserver from that file, and every
	// build from 2023_03 to 2025_01 (Debian 12's and Ubuntu 24.04's among
	// them, by their source) is left with no upstream: queries went to
	// 0.0.0.0:53. --dns-host would name it but older builds reject it.
	// The gateway stays mapped to the host's loopback, so that ping
	// 10.0.2.2 answers; without host-gateway, den closes it to TCP and UDP
	// inside the container (closeGateway).
	args := []string{"--config-net", "--foreground", "--quiet", "--runas", "0:0",
		"--netns", nsPath, "--netns-only",
		// pasta writes it itself (den may be killed while it starts
		// pasta): EndPasta reads it.
		"--pid", filepath.Join(filepath.Dir(nsPath), pastaPidFile),
		"--address", ContainerIP, "--netmask", strconv.Itoa(PrefixLen), "--gateway", Gateway,
		"--dns-forward", DNS, "--mtu", strconv.Itoa(MTU),
		"--tcp-ns", "none", "--udp-ns", "none"}
	if !o.HostLoopback && o.NetAdmin {
		args = append(args, "--no-map-gw")
	}
	tcp, udp := 0, 0
	for _, p := range o.Ports {
		spec := fmt.Sprintf("%d:%d", p.HostPort, p.ContainerPort)
		if p.HostIP != "" {
			spec = p.HostIP + "/" + spec
		}
		flag := "--tcp-ports"
		if p.Proto == "udp" {
			flag = "--udp-ports"
			udp++
		} else {
			tcp++
		}
		args = append(args, flag, spec)
	}
	if tcp == 0 {
		args = append(args, "--tcp-ports", "none")
	}
	if udp == 0 {
		args = append(args, "--udp-ports", "none")
	}
	return args
}

// pastaPidFile, beside NsFile, holds pasta's pid.
const pastaPidFile = "pasta.pid"

// EndPasta ends the pasta of the container whose directory is stateDir if
// it still runs: its init was killed before it removed NsFile, or removed
// it before pasta had begun to watch it (den killed early in the start).
// The pid is pasta's only if its command line names this container's
// namespace file.
func EndPasta(stateDir string) {
	ns := filepath.Join(stateDir, NsFile)
	_ = os.Remove(ns)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(ns), pastaPidFile))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return
	}
	if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && bytes.Contains(cmdline, []byte("\x00"+ns+"\x00")) {
		_ = unix.Kill(pid, unix.SIGKILL)
	}
}

// NsFile, in Options.StateDir, is the container's network namespace bound
// for pasta; removing it ends pasta. It has a directory of its own: pasta
// (2023_03) reads its inotify events a batch at a time and looks only at
// the first, so the file removed among others (den rm -f removes the
// container's directory) was missed and pasta lived on.
const NsFile = "netns/ns"

func bindNetns(o Options) (string, func(), error) {
	p := filepath.Join(o.StateDir, NsFile)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", nil, fmt.Errorf("preparing the network namespace file: %w", err)
	}
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		return "", nil, fmt.Errorf("preparing the network namespace file: %w", err)
	}
	if err := unix.Mount(fmt.Sprintf("/proc/%d/ns/net", o.Pid), p, "", unix.MS_BIND, ""); err != nil {
		return "", nil, fmt.Errorf("binding the container's network namespace: %w", err)
	}
	return p, func() { _ = unix.Unmount(p, unix.MNT_DETACH); _ = os.Remove(p) }, nil
}

// startSlirp drives slirp4netns: --ready-fd says when the tap is up,
// --exit-fd ties its life to den's. Its own port forwarding (through its
// TCP stack) is slower than rootlesskit's driver, which den uses instead.
func startSlirp(o Options) (*Network, error) {
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer readyR.Close()
	exitR, exitW := o.ExitFD, (*os.File)(nil)
	if exitR == nil {
		if exitR, exitW, err = os.Pipe(); err != nil {
			readyW.Close()
			return nil, err
		}
	}
	args := []string{"--configure", "--mtu=" + strconv.Itoa(MTU), "--ready-fd=3", "--exit-fd=4",
		fmt.Sprintf("--cidr=10.0.2.0/%d", PrefixLen)}
	if !o.HostLoopback {
		args = append(args, "--disable-host-loopback")
	}
	args = append(args, strconv.Itoa(o.Pid), "eth0")
	cmd, errb := command(Slirp4netns, args...)
	if o.ExitFD != nil {
		cmd.SysProcAttr.Pdeathsig = 0 // it goes with the exit pipe's writer
	}
	cmd.ExtraFiles = []*os.File{readyW, exitR}
	n := &Network{cmd: cmd, stderr: errb, exitW: exitW}
	err = cmd.Start()
	readyW.Close()
	if exitW != nil {
		exitR.Close()
	}
	if err != nil {
		if exitW != nil {
			exitW.Close()
		}
		return nil, n.failed(Slirp4netns, err)
	}
	ready := make(chan error, 1)
	go func() {
		var b [1]byte
		_, err := readyR.Read(b[:])
		ready <- err
	}()
	select {
	case err = <-ready:
	case <-time.After(10 * time.Second):
		err = fmt.Errorf("not ready after 10s")
	}
	if err != nil {
		n.Stop()
		return nil, n.failed(Slirp4netns, err)
	}
	return n, nil
}
