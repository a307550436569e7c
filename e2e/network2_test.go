package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// failed125 checks den's one-line error and docker's exit status 125.
func failed125(t *testing.T, r result, fragments ...string) {
	t.Helper()
	oneLineError(t, r, fragments...)
	if r.code != 125 {
		t.Fatalf("exit %d, want 125: %s", r.code, r)
	}
}

// freePorts returns n consecutive free TCP and UDP ports on the host.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	for base := 20000 + os.Getpid()%20000; base < 65000; base += n + 7 {
		ok := true
		for p := base; p < base+n && ok; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf(":%d", p))
			if err != nil {
				ok = false
				continue
			}
			l.Close()
			u, err := net.ListenPacket("udp", fmt.Sprintf(":%d", p))
			if err != nil {
				ok = false
				continue
			}
			u.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free ports")
	return 0
}

func waitHTTP(t *testing.T, url, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) == want {
				return
			}
			err = fmt.Errorf("got %q", body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered %q: %v", url, want, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// udpAsk sends msg from local (nil: any) to addr and returns the reply.
func udpAsk(t *testing.T, local *net.UDPAddr, addr, msg string) string {
	t.Helper()
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialUDP("udp", local, raddr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 512)
		n := 0
		if _, err = c.Write([]byte(msg)); err == nil {
			n, err = c.Read(buf)
		}
		c.Close()
		if err == nil {
			return string(buf[:n])
		}
		if time.Now().After(deadline) {
			t.Fatalf("no UDP answer from %s: %v", addr, err)
		}
	}
}

// hostAddr is a non-loopback IPv4 address of the host, if it has one.
func hostAddr() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String()
		}
	}
	return ""
}

func TestNetworkJoinContainer(t *testing.T) {
	e, ref := pulled(t)
	port := freePorts(t, 1)
	e.ok("run", "-d", "--name", "web", "--hostname", "webhost", "-p", fmt.Sprintf("127.0.0.1:%d:80", port), ref, "httpd", "-f", "-p", "80", "-h", "/www")
	t.Cleanup(func() { e.den("rm", "-f", "web", "side") })
	url := fmt.Sprintf("http://127.0.0.1:%d/index.html", port)
	waitHTTP(t, url, "hello from den\n")
	// The joiner sees web's server on its own loopback, web's hostname
	// and hosts, and the same eth0.
	r := e.ok("run", "--rm", "--network", "container:web", ref, "sh", "-c",
		"hostname; wget -qO- http://127.0.0.1:80/index.html; grep -c webhost /etc/hosts; ip -4 addr show eth0 | grep -o 'inet [0-9./]*'")
	if r.stdout != "webhost\nhello from den\n1\ninet 10.0.2.100/24\n" {
		t.Fatalf("--network container:web does not share web's network: %q", r.stdout)
	}
	// A sidecar's server answers inside web; web's published port still
	// answers after the sidecar is gone.
	e.ok("run", "-d", "--name", "side", "--network", "container:web", ref, "sh", "-c",
		"mkdir /s && echo sidecar > /s/i && httpd -f -p 8081 -h /s")
	deadline := time.Now().Add(15 * time.Second)
	for {
		r = e.den("exec", "web", "wget", "-qO-", "http://127.0.0.1:8081/i")
		if r.stdout == "sidecar\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("web does not reach its sidecar on its loopback: %s", r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.ok("rm", "-f", "side")
	waitHTTP(t, url, "hello from den\n")
	// Created, then started (attached, and again detached): den asks again
	// from inside web's user namespace.
	e.ok("create", "--name", "later", "--network", "container:web", ref, "sh", "-c", "hostname; wget -qO- http://127.0.0.1:80/index.html")
	t.Cleanup(func() { e.den("rm", "-f", "later") })
	for i := 0; i < 2; i++ {
		if r := e.ok("start", "-a", "later"); r.stdout != "webhost\nhello from den\n" {
			t.Fatalf("den start -a of a container made with --network container:web: %q", r.stdout)
		}
	}
	e.ok("start", "later")
	e.ok("wait", "later")
	if r := e.ok("logs", "later"); strings.Count(r.stdout, "hello from den\n") != 3 {
		t.Fatalf("logs of three starts joined to web: %q", r.stdout)
	}
	// Bad input: one line, 125.
	failed125(t, e.den("run", "--rm", "--network", "container:nope", ref, "true"), "container:nope", "no such container")
	e.ok("create", "--name", "idle", ref, "true")
	t.Cleanup(func() { e.den("rm", "-f", "idle") })
	failed125(t, e.den("run", "--rm", "--network", "container:idle", ref, "true"), "container:idle", "not running")
	failed125(t, e.den("run", "--rm", "--network", "container:web", "-p", "8080:80", ref, "true"), "conflicts", "-p")
	failed125(t, e.den("run", "--rm", "--network", "container:web", "-h", "x", ref, "true"), "conflicts", "--hostname")
	failed125(t, e.den("run", "--rm", "--network", "container:", ref, "true"), "container:NAME")
}

// probeMount bind-mounts the e2e probe at /probe.
func probeMount(t *testing.T) []string {
	t.Helper()
	if probeBin == "" {
		t.Skip("no probe binary")
	}
	return []string{"-v", probeBin + ":/probe:ro"}
}

// pingAllowed says whether the host lets this user's group ping without
// privileges (pasta answers ping 10.0.2.2 with an ICMP socket of its own).
func pingAllowed() bool {
	b, _ := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return false
	}
	lo, _ := strconv.Atoi(f[0])
	hi, _ := strconv.Atoi(f[1])
	return lo <= os.Getgid() && os.Getgid() <= hi
}

func TestNetworkPingGateway(t *testing.T) {
	e, ref := pulled(t)
	probe := probeMount(t)
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			if b == "pasta" && !pingAllowed() {
				t.Skipf("the host's net.ipv4.ping_group_range does not include gid %d, so pasta cannot ping for the container", os.Getgid())
			}
			// A user without CAP_NET_RAW pings through an ICMP socket.
			args := append([]string{"run", "--rm", "--network", b, "-u", "1000:1000"}, probe...)
			r := e.ok(append(args, ref, "/probe", "ping", "10.0.2.2")...)
			if r.stdout != "ping 10.0.2.2 ok\n" {
				t.Fatalf("ping 10.0.2.2 as an unprivileged user: %s", r)
			}
		})
	}
}

func TestNetworkPublishRangesAndUDP(t *testing.T) {
	e, ref := pulled(t)
	probe := probeMount(t)
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			base := freePorts(t, 2)
			name := "ranges-" + b
			args := append([]string{"run", "-d", "--name", name, "--network", b,
				"-p", fmt.Sprintf("%d-%d:8000-8001", base, base+1),
				"-p", fmt.Sprintf("%d-%d:5353-5354/udp", base, base+1)}, probe...)
			e.ok(append(args, ref, "sh", "-c",
				"mkdir /a /b; echo a > /a/i; echo b > /b/i; httpd -p 8000 -h /a; httpd -p 8001 -h /b; /probe udpecho 5353 & exec /probe udpecho 5354")...)
			t.Cleanup(func() { e.den("rm", "-f", name) })
			waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/i", base), "a\n")
			waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/i", base+1), "b\n")
			// Debian 12's pasta drops UDP from a loopback client: ask from
			// the host's own address, which pasta also keeps as the source.
			var local *net.UDPAddr
			to := "127.0.0.1"
			if b == "pasta" {
				if to = hostAddr(); to == "" {
					t.Skip("pasta's UDP needs a client on a non-loopback address, and this host has none")
				}
				local = &net.UDPAddr{IP: net.ParseIP(to)}
			}
			for i := 0; i < 2; i++ {
				got := udpAsk(t, local, net.JoinHostPort(to, strconv.Itoa(base+i)), "hi")
				if !strings.HasPrefix(got, "hi from ") {
					t.Fatalf("UDP port %d: %q", base+i, got)
				}
				from := strings.TrimPrefix(got, "hi from ")
				if b == "pasta" && !strings.HasPrefix(from, to+":") {
					t.Fatalf("pasta did not keep the client's address %s: the container saw %s", to, from)
				}
			}
			// den port shows the ranges as docker does, one line per port.
			r := e.ok("port", name)
			for _, want := range []string{fmt.Sprintf("8001/tcp -> 0.0.0.0:%d", base+1), fmt.Sprintf("5354/udp -> 0.0.0.0:%d", base+1)} {
				if !strings.Contains(r.stdout, want) {
					t.Fatalf("den port lacks %q: %s", want, r.stdout)
				}
			}
		})
	}
}

func TestNetworkPublishAll(t *testing.T) {
	e, ref := pulled(t)
	for _, b := range backends(t) {
		// With slirp4netns -P once hung den run -d: den took the
		// container for one whose init runs alone before -P's ports were
		// known, and for one it must serve after.
		e.ok("run", "-d", "--name", "all", "--network", b, "-P", "--expose", "80", "--expose", "7000-7001/udp", ref, "httpd", "-f", "-p", "80", "-h", "/www")
		r := e.ok("port", "all")
		var hostPort string
		for _, line := range strings.Split(r.stdout, "\n") {
			if p, ok := strings.CutPrefix(line, "80/tcp -> 0.0.0.0:"); ok {
				hostPort = p
			}
		}
		if hostPort == "" || !strings.Contains(r.stdout, "7000/udp -> 0.0.0.0:") || !strings.Contains(r.stdout, "7001/udp -> 0.0.0.0:") {
			e.den("rm", "-f", "all")
			t.Fatalf("%s: -P did not publish --expose's ports: %s", b, r.stdout)
		}
		waitHTTP(t, "http://127.0.0.1:"+hostPort+"/index.html", "hello from den\n")
		e.ok("rm", "-f", "all")
	}
	failed125(t, e.den("run", "--rm", "--expose", "80/sctp", ref, "true"), "--expose")
	if r := e.ok("run", "--rm", "--network", "none", "-P", ref, "true"); !strings.Contains(r.stderr, "published ports are discarded") {
		t.Fatalf("-P with --network none: %s", r)
	}
}

// A detached container whose den stays (slirp4netns with -P: the port
// forwarder) goes with that den: its init was started with the
// parent-death signal, not as one that runs alone.
func TestPublishAllSlirpGoesWithItsDen(t *testing.T) {
	if !strings.Contains(strings.Join(backends(t), " "), "slirp4netns") {
		t.Skip("slirp4netns is not installed")
	}
	e, ref := pulled(t)
	before := helpers()
	e.ok("run", "-d", "--name", "pall", "--network", "slirp4netns", "-P", "--expose", "80", ref, "sleep", "4244")
	t.Cleanup(func() { e.den("rm", "-f", "pall") })
	cmd := 0
	for _, p := range allPids() {
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p)); string(b) == "sleep\x004244\x00" {
			cmd = p
		}
	}
	init := ppid(cmd)
	child := ppid(init)
	if cmd == 0 || comm(init) != "den-init" || child <= 1 || comm(child) == "den-init" {
		t.Fatalf("command %d, its init %d (%s), the init's parent %d (%s): want a den beside the init", cmd, init, comm(init), child, comm(child))
	}
	syscall.Kill(child, syscall.SIGKILL)
	for deadline := time.Now().Add(5 * time.Second); processRunning("sleep", "4244") || helpers() > before; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after its den was killed: command running %v, %d network programs (before %d)", processRunning("sleep", "4244"), helpers(), before)
		}
	}
}

func TestNetworkBadInput(t *testing.T) {
	e, ref := pulled(t)
	cases := []struct {
		args  []string
		frags []string
	}{
		{[]string{"-p", "8000-80x1:80"}, []string{"-p"}},
		{[]string{"-p", "8000-8002:80-81"}, []string{"-p", "8000-8002:80-81"}},
		{[]string{"--dns", "not-an-address"}, []string{"--dns"}},
		{[]string{"-p", "18080:80", "-p", "18080:81"}, []string{"already published"}},
		{[]string{"--network", "container:nope"}, []string{"no such container"}},
	}
	for _, c := range cases {
		args := append(append([]string{"run", "--rm"}, c.args...), ref, "true")
		failed125(t, e.den(args...), c.frags...)
	}
}

// With CAP_NET_ADMIN a container could undo the rules that close the
// gateway inside it: the host's loopback must stay closed all the same.
func TestGatewayStaysClosedWithNetAdmin(t *testing.T) {
	e, ref := pulled(t)
	port, _ := hostServer(t, 1000)
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			// The container removes every rule and route den made.
			script := fmt.Sprintf(`for p in 100 101; do while ip rule del pref $p 2>/dev/null; do :; done; done
ip route del 10.0.2.2 table 100 2>/dev/null; ip rule | grep -q "lookup 100" || echo removed
wget -q -T 3 -O /dev/null http://10.0.2.2:%d/ && echo reached || echo closed`, port)
			r := e.ok("run", "--rm", "--network", b, "--cap-add", "NET_ADMIN", ref, "sh", "-c", script)
			if strings.TrimSpace(r.stdout) != "removed\nclosed" {
				t.Fatalf("with NET_ADMIN the container reached the host's loopback through %s: %s", b, r)
			}
		})
	}
}

// Ctrl-C while den start asks its first child, which finds that the
// container joins web's network, ends den: the container does not start
// once den has gone (the second ask is not made). Later, it reaches the
// container's command, as for any container.
func TestStartJoinedInterrupted(t *testing.T) {
	e, ref := pulled(t)
	e.ok("run", "-d", "--name", "web", "--network", "none", ref, "sleep", "600")
	e.ok("create", "--name", "joiner", "--network", "container:web", ref, "sleep", "4245")
	t.Cleanup(func() { e.den("rm", "-f", "web", "joiner") })
	for _, delay := range []time.Duration{2, 5, 10, 20, 40, 80} {
		cmd := e.command(t.Context(), "start", "-a", "joiner")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay * time.Millisecond)
		cmd.Process.Signal(syscall.SIGINT)
		ended := make(chan struct{})
		go func() { cmd.Wait(); close(ended) }()
		select {
		case <-ended:
		case <-time.After(3 * time.Second):
			cmd.Process.Kill()
			<-ended
			e.den("stop", "-t", "0", "joiner")
			t.Fatalf("SIGINT %v into den start: den still ran 3 s later", delay*time.Millisecond)
		}
		code := cmd.ProcessState.ExitCode()
		if st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && st.Signaled() && st.Signal() == syscall.SIGINT {
			code = 130 // before den took signals over
		}
		if code != 130 {
			t.Fatalf("SIGINT %v into den start: exit %d, want 130", delay*time.Millisecond, code)
		}
		for deadline := time.Now().Add(5 * time.Second); processRunning("sleep", "4245"); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("SIGINT %v into den start: the container runs on without den", delay*time.Millisecond)
			}
		}
	}
	// den restart takes one container after the other, as docker does:
	// the joiner named first restarts while web still runs.
	e.ok("start", "joiner")
	e.ok("restart", "joiner", "web")
	if r := e.ok("ps", "--format", "{{.Names}}"); !strings.Contains(r.stdout, "joiner") || !strings.Contains(r.stdout, "web") {
		t.Fatalf("den restart joiner web: running %q, want both", r.stdout)
	}
}

// One container port published on two host ports, as docker allows: on
// every backend both answer (pasta and slirp4netns once refused it).
func TestPublishOnePortTwice(t *testing.T) {
	e, ref := pulled(t)
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			port := freePorts(t, 2)
			id := strings.TrimSpace(e.ok("run", "-d", "--network", b, "-p", fmt.Sprintf("127.0.0.1:%d:80", port),
				"-p", fmt.Sprintf("127.0.0.1:%d:80", port+1), ref, "sh", "-c", "mkdir /w && echo one > /w/i && httpd -f -p 80 -h /w").stdout)
			defer e.ok("rm", "-f", id)
			waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/i", port), "one\n")
			waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/i", port+1), "one\n")
		})
	}
}
