package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

const (
	// envDNS is "CASE RESOLVER": set by the root harness for a run inside
	// a network namespace whose /etc/resolv.conf names RESOLVER.
	envDNS  = "DEN_E2E_DNS"
	dnsTest = "TestDNSResolvesOnEveryBackend"
	// A name no real resolver knows: an answer can only come from the
	// test's own server.
	dnsName = "den-e2e-only.test."
	dnsAddr = "192.0.2.77"
	// lanAddr is the test namespace's "external" address (TEST-NET-1).
	lanAddr = "192.0.2.1"
	lanGW   = "192.0.2.254"
)

type dnsCase struct{ name, resolver string }

// dnsCases are the places a host's resolver is found in practice.
var dnsCases = []dnsCase{
	{"lan", lanAddr},       // an address on the network, as on the CI hosts
	{"stub", "127.0.0.53"}, // systemd-resolved (Ubuntu, Fedora desktops)
	{"local", "127.0.0.1"}, // dnsmasq
}

func TestDNSResolvesOnEveryBackend(t *testing.T) {
	spec := os.Getenv(envDNS)
	if spec == "" {
		t.Skip("needs a resolver of its own in a network namespace that the e2e harness makes when `make test` runs as root")
	}
	name, resolver, _ := strings.Cut(spec, " ")
	t.Logf("case %s: the host's resolver is %s", name, resolver)
	if b, err := os.ReadFile("/etc/resolv.conf"); err != nil || !strings.HasPrefix(string(b), "nameserver "+resolver+"\n") {
		t.Fatalf("/etc/resolv.conf is not the test namespace's (ip netns exec binds it): %q %v", b, err)
	}
	queries := serveDNS(t, resolver)
	e, ref := pulled(t)
	for _, b := range append([]string{"default"}, backends(t)...) {
		t.Run(b, func(t *testing.T) {
			args := []string{"run", "--rm"}
			if b != "default" {
				args = append(args, "--network", b)
			}
			before := queries.Load()
			r := e.den(append(args, ref, "nslookup", strings.TrimSuffix(dnsName, "."))...)
			if r.code != 0 || !strings.Contains(r.stdout, dnsAddr) {
				t.Fatalf("%s did not resolve through the host's resolver %s: %s", dnsName, resolver, r)
			}
			if queries.Load() == before {
				t.Fatalf("answered without a query reaching %s: %s", resolver, r)
			}
		})
	}
}

// serveDNS answers dnsName on addr:53 (UDP and TCP) and counts queries.
// It never forwards: nothing leaves the test's namespace.
func serveDNS(t *testing.T, addr string) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		n.Add(1)
		m := new(dns.Msg)
		m.SetReply(q)
		if len(q.Question) != 1 || !strings.EqualFold(q.Question[0].Name, dnsName) {
			m.Rcode = dns.RcodeNameError
		} else if q.Question[0].Qtype == dns.TypeA {
			m.Answer = []dns.RR{&dns.A{
				Hdr: dns.RR_Header{Name: dnsName, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5},
				A:   net.ParseIP(dnsAddr),
			}}
		}
		_ = w.WriteMsg(m)
	})
	hostPort := net.JoinHostPort(addr, "53")
	pc, err := net.ListenPacket("udp", hostPort)
	if err != nil {
		t.Fatalf("serving DNS on %s (the harness allows port 53 in its namespace): %v", hostPort, err)
	}
	l, err := net.Listen("tcp", hostPort)
	if err != nil {
		pc.Close()
		t.Fatal(err)
	}
	udp := &dns.Server{PacketConn: pc, Handler: h}
	tcp := &dns.Server{Listener: l, Handler: h}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	t.Cleanup(func() { _ = udp.Shutdown(); _ = tcp.Shutdown() })
	return &n
}

// withRun replaces the -test.run of args by pat.
func withRun(args []string, pat string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		switch {
		case strings.HasPrefix(args[i], "-test.run="):
		case args[i] == "-test.run":
			i++
		default:
			out = append(out, args[i])
		}
	}
	return append(out, "-test.run="+pat)
}

// runDNSCase runs the DNS test as the test user inside a network
// namespace whose resolv.conf names c.resolver (root only).
func runDNSCase(c dnsCase, uid, gid int, bin, dir string, env []string) (int, error) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		return 0, fmt.Errorf("setpriv is not installed (apt-get install util-linux)")
	}
	ns := fmt.Sprintf("den-e2e-%s-%d", c.name, os.Getpid())
	cleanup, err := makeDNSNetns(ns, c.resolver)
	defer cleanup()
	if err != nil {
		return 0, err
	}
	args := append([]string{"netns", "exec", ns, setpriv, "--reuid=" + strconv.Itoa(uid),
		"--regid=" + strconv.Itoa(gid), "--clear-groups", "--", bin}, withRun(os.Args[1:], "^"+dnsTest+"$")...)
	cmd := exec.Command("ip", args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Dir = dir
	cmd.Env = append(append([]string{}, env...), envDNS+"="+c.name+" "+c.resolver)
	return exitCode(cmd.Run())
}

// makeDNSNetns makes a namespace that looks like a host to the backends:
// an "external" interface with an address and a default route (pasta
// takes its outbound interface from the default route), port 53 open to
// users, and /etc/netns/NAME/resolv.conf, which `ip netns exec` binds over
// /etc/resolv.conf. The route leads nowhere: nothing reaches the internet.
func makeDNSNetns(ns, resolver string) (func(), error) {
	etc := filepath.Join("/etc/netns", ns)
	_, statErr := os.Stat("/etc/netns")
	cleanup := func() {
		_ = exec.Command("ip", "netns", "del", ns).Run()
		_ = os.RemoveAll(etc)
		if os.IsNotExist(statErr) {
			_ = os.Remove("/etc/netns")
		}
	}
	ip := func(args ...string) error {
		if b, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(b)))
		}
		return nil
	}
	if err := ip("netns", "add", ns); err != nil {
		return cleanup, err
	}
	// A veth pair, both ends inside, rather than a dummy interface: some
	// kernels (this CI's) have no dummy driver; the peer gives the carrier.
	steps := [][]string{
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "link", "add", "ext0", "type", "veth", "peer", "name", "ext1"},
		{"-n", ns, "link", "set", "ext1", "up"},
		{"-n", ns, "addr", "add", lanAddr + "/24", "dev", "ext0"},
		{"-n", ns, "link", "set", "ext0", "up"},
		{"-n", ns, "route", "add", "default", "via", lanGW, "dev", "ext0"},
		// Per namespace: the user's DNS server may bind port 53 here only.
		{"netns", "exec", ns, "sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start"},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			return cleanup, err
		}
	}
	if err := os.MkdirAll(etc, 0o755); err != nil {
		return cleanup, err
	}
	return cleanup, os.WriteFile(filepath.Join(etc, "resolv.conf"), []byte("nameserver "+resolver+"\n"), 0o644)
}
