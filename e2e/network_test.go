package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func statusLine(status, key string) string {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			return v
		}
	}
	return ""
}

// backends are the user-mode stacks available here; pasta and slirp4netns
// come from .ci/run's packages, the built-in one is always there.
func backends(t *testing.T) []string {
	out := []string{"builtin"}
	for _, b := range []string{"pasta", "slirp4netns"} {
		if _, err := exec.LookPath(b); err == nil {
			out = append(out, b)
		} else {
			t.Logf("%s is not installed; its tests are skipped", b)
		}
	}
	return out
}

// hostServer serves one file of random bytes on the host's loopback.
func hostServer(t *testing.T, size int) (port int, sum string) {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	h := sha256.Sum256(data)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Write(data)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().(*net.TCPAddr).Port, hex.EncodeToString(h[:])
}

func TestNetworkOutboundThroughHostGateway(t *testing.T) {
	e, ref := pulled(t)
	port, sum := hostServer(t, 3<<20)
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			url := fmt.Sprintf("http://host.docker.internal:%d/file", port)
			r := e.ok("run", "--rm", "--network", b, "--add-host", "host.docker.internal:host-gateway", ref,
				"sh", "-c", "wget -q -O /tmp/f "+url+" && wc -c < /tmp/f && sha256sum /tmp/f && cat /etc/resolv.conf && grep host.containers.internal /etc/hosts")
			f := strings.Fields(r.stdout)
			if len(f) < 3 || f[0] != strconv.Itoa(3<<20) || f[1] != sum {
				t.Fatalf("fetched file differs: %s", r)
			}
			if !strings.Contains(r.stdout, "nameserver 10.0.2.3") || !strings.Contains(r.stdout, "10.0.2.2\thost.containers.internal") {
				t.Fatalf("resolv.conf or hosts: %s", r.stdout)
			}
			// Without host-gateway the host's loopback stays closed.
			r = e.den("run", "--rm", "--network", b, ref, "sh", "-c", fmt.Sprintf("timeout 5 wget -q -O /tmp/f http://10.0.2.2:%d/file", port))
			if r.code == 0 || !strings.Contains(r.stderr, "No route to host") {
				t.Fatalf("the host's loopback is reachable by default: %s", r)
			}
		})
	}
}

func TestNetworkDefaultsAndNames(t *testing.T) {
	e, ref := pulled(t)
	if len(backends(t)) == 0 {
		t.Skip("no user-mode network program")
	}
	r := e.ok("run", "--rm", "--add-host", "db.example:192.0.2.77", "--hostname", "web", ref,
		"sh", "-c", "ip -4 addr show eth0 | grep -o 'inet [0-9./]*'; ip route | grep default; grep -E 'db.example|web' /etc/hosts")
	for _, want := range []string{"inet 10.0.2.100/24", "default via 10.0.2.2", "192.0.2.77\tdb.example", "10.0.2.100\tweb"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("default network lacks %q: %s", want, r.stdout)
		}
	}
	oneLineError(t, e.den("run", "--rm", "--add-host", "bad", ref, "true"), "--add-host")
	oneLineError(t, e.den("run", "--rm", "--network", "carrier-pigeon", ref, "true"), "--network")
}

// publishedServer starts a container serving on container port 80 (and
// an echo server on 7) published on the host; it returns the host ports.
func publishedServer(t *testing.T, e *env, ref, backend string) (int, int, *exec.Cmd) {
	t.Helper()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	port, echo := l.Addr().(*net.TCPAddr).Port, l2.Addr().(*net.TCPAddr).Port
	l.Close()
	l2.Close()
	cmd := e.command(t.Context(), "run", "--rm", "--network", backend,
		"-p", fmt.Sprintf("127.0.0.1:%d:80", port), "-p", fmt.Sprintf("127.0.0.1:%d:7", echo), ref,
		"sh", "-c", "httpd -p 80 -h /www && nc -ll -p 7 -e cat")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/index.html", port))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) == "hello from den\n" {
				return port, echo, cmd
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the published port never answered: %v; den said %s", err, errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// echoConn connects to the echo server once it answers: nc starts after
// httpd, and pasta accepts on the host before the container listens.
func echoConn(t *testing.T, port int) net.Conn {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			buf := make([]byte, 5)
			if _, err = c.Write([]byte("ping\n")); err == nil {
				_, err = io.ReadFull(c, buf)
			}
			if err == nil && string(buf) == "ping\n" {
				c.SetDeadline(time.Time{})
				return c
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("the echo server never answered: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestNetworkPublishedPorts(t *testing.T) {
	e, ref := pulled(t)
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			port, echo, _ := publishedServer(t, e, ref, b)
			// A 10 MB echo round trip through the published port is intact.
			c := echoConn(t, echo)
			defer c.Close()
			data := make([]byte, 10<<20)
			rand.Read(data)
			// No half-close: Debian 12's pasta sometimes drops the tail of
			// a reply sent after the client's FIN.
			go c.Write(data)
			c.SetDeadline(time.Now().Add(60 * time.Second))
			got := make([]byte, len(data))
			n, err := io.ReadFull(c, got)
			got = got[:n]
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("echo round trip: %d of %d bytes back, equal=%v, err=%v", len(got), len(data), bytes.Equal(got, data), err)
			}
			// The same host port for a second container is a clear error.
			r := e.den("run", "--rm", "--network", b, "-p", fmt.Sprintf("127.0.0.1:%d:80", port), ref, "true")
			oneLineError(t, r, strconv.Itoa(port), "already in use")
		})
	}
}

func TestNetworkRandomHostPortIsPrinted(t *testing.T) {
	e, ref := pulled(t)
	if len(backends(t)) == 0 {
		t.Skip("no user-mode network program")
	}
	r := e.ok("run", "--rm", "-p", "80", ref, "true")
	if !strings.Contains(r.stderr, "published 0.0.0.0:") || !strings.Contains(r.stderr, "->80/tcp") {
		t.Fatalf("-p CONTAINERPORT did not print its host port: %s", r)
	}
	oneLineError(t, e.den("run", "--rm", "-p", "99999:80", ref, "true"), "-p")
	// docker's answer to -p with a network of no ports: dropped, warned.
	if r := e.ok("run", "--rm", "--network", "none", "-p", "8080:80", ref, "echo", "ran"); r.stdout != "ran\n" || !strings.Contains(r.stderr, "published ports are discarded") {
		t.Fatalf("-p with --network none: %s", r)
	}
}

func TestNetworkNoneAndHost(t *testing.T) {
	e, ref := pulled(t)
	r := e.ok("run", "--rm", "--network", "none", ref, "sh", "-c", "ip route | wc -l; ls /sys/class/net")
	if r.stdout != "0\nlo\n" {
		t.Fatalf("--network none has more than lo or a route: %q", r.stdout)
	}
	ifaces, _ := net.Interfaces()
	var names []string
	for _, i := range ifaces {
		names = append(names, i.Name)
	}
	r = e.ok("run", "--rm", "--network", "host", ref, "ls", "/sys/class/net")
	for _, n := range names {
		if !strings.Contains(r.stdout, n) {
			t.Fatalf("--network host does not see the host's %s: %s", n, r.stdout)
		}
	}
	// The host's name and /etc/hosts, as docker's --network host gives.
	me, _ := os.Hostname()
	hosts, _ := os.ReadFile("/etc/hosts")
	r = e.ok("run", "--rm", "--network", "host", ref, "sh", "-c", "hostname; cat /etc/hosts")
	if !strings.HasPrefix(r.stdout, me+"\n") || !strings.Contains(r.stdout, strings.TrimSpace(string(hosts))) {
		t.Fatalf("--network host: hostname and /etc/hosts are not the host's: %s", r.stdout)
	}
}

// helpers counts our running pasta and slirp4netns processes.
func helpers() int {
	n := 0
	procs, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// Debian's pasta re-executes itself as pasta.avx2 where it can.
		c := strings.TrimSpace(string(b))
		if !processAlive(pidOf(p)) {
			continue // a zombie holds nothing; no reaper here may collect it
		}
		if strings.HasPrefix(c, "pasta") || strings.HasPrefix(c, "passt") || c == "slirp4netns" {
			// pasta makes itself non-dumpable, so /proc/PID is root's;
			// its real uid says whose it is.
			status, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "status"))
			if f := strings.Fields(statusLine(string(status), "Uid:")); len(f) > 0 && f[0] == strconv.Itoa(os.Getuid()) {
				n++
			}
		}
	}
	return n
}

// pidOf is the pid in a /proc/PID/... path.
func pidOf(p string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
	return n
}

func waitNoHelpers(t *testing.T, how string) {
	t.Helper()
	waitHelpers(t, 0, "a network program outlived den: "+how)
}

// waitHelpers waits up to 5 s for this user's network programs to number
// want.
func waitHelpers(t *testing.T, want int, how string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); helpers() != want; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d network programs, want %d (%s)", helpers(), want, how)
		}
	}
}

// portDirs are the port forwarders' socket directories of this user:
// where den puts them when the runtime directory's path is long, as in
// these tests.
func portDirs() []string {
	d, _ := filepath.Glob(fmt.Sprintf("/tmp/den-%d-sockets/ports-*", os.Getuid()))
	return d
}

func TestNetworkProgramsDoNotLeak(t *testing.T) {
	e, ref := pulled(t)
	// Earlier tests' containers may still be going down.
	for deadline := time.Now().Add(5 * time.Second); helpers() != 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Skip("network programs of this user are already running")
		}
	}
	for _, b := range backends(t)[1:] { // the built-in stack runs in den itself
		t.Run(b, func(t *testing.T) {
			before := map[string]bool{} // other envs' (a store removed whole leaves them)
			for _, d := range portDirs() {
				before[d] = true
			}
			e.ok("run", "--rm", "--network", b, "-p", "80", ref, "true")
			waitNoHelpers(t, "normal exit")
			for _, sig := range []os.Signal{syscall.SIGTERM, syscall.SIGKILL} {
				_, _, cmd := publishedServer(t, e, ref, b)
				if helpers() == 0 {
					t.Fatalf("no %s running while the container runs", b)
				}
				cmd.Process.Signal(sig)
				cmd.Wait()
				waitNoHelpers(t, sig.String())
			}
			// What a killed den left (its --rm container, the port
			// forwarder's socket directory) goes when the next den looks.
			if out := e.ok("ps", "-a", "-q").stdout; out != "" {
				t.Fatalf("den ps -a after the killed dens still lists %q", out)
			}
			for _, d := range portDirs() {
				if !before[d] {
					t.Fatalf("the port forwarder's directory %s outlived its container", d)
				}
			}
		})
	}
}

// pasta gives the container the host's IPv6 gateway too, mapped to the
// host's loopback: without host-gateway it is closed as 10.0.2.2 is
// (its route comes after the IPv4 one den waits for).
func TestNetworkHostLoopbackV6Closed(t *testing.T) {
	b, _ := os.ReadFile("/proc/net/ipv6_route")
	if !strings.Contains(string(b), strings.Repeat("0", 32)+" 00 "+strings.Repeat("0", 32)+" 00 ") || !slices.Contains(backends(t), "pasta") {
		t.Skip("no IPv6 default route on the host, or no pasta")
	}
	e, ref := pulled(t)
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no ::1 here")
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("host\n")) })}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	port := l.Addr().(*net.TCPAddr).Port
	probe := fmt.Sprintf("for i in $(seq 50); do gw=$(ip -6 route | awk '/^default/{print $3}'); [ -n \"$gw\" ] && break; sleep 0.1; done; echo gw=$gw; timeout 5 wget -q -O- \"http://[$gw]:%d/\"", port)
	r := e.den("run", "--rm", "--network", "pasta", ref, "sh", "-c", probe)
	if strings.Contains(r.stdout, "gw=\n") {
		t.Skipf("the container got no IPv6 default route: %s", r)
	}
	if r.code == 0 || strings.Contains(r.stdout, "host\n") {
		t.Fatalf("the host's IPv6 loopback is reachable by default: %s", r)
	}
	// Asked for, it is there.
	r = e.den("run", "--rm", "--network", "pasta", "--add-host", "h:host-gateway", ref, "sh", "-c", probe)
	if !strings.Contains(r.stdout, "host\n") {
		t.Fatalf("host-gateway does not open the host's IPv6 loopback: %s", r)
	}
}
