package netns

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckTunExplainsTheFix(t *testing.T) {
	if os.Getuid() == 0 {
		t.Skip("root opens any file")
	}
	old := tunPath
	defer func() { tunPath = old }()
	tunPath = filepath.Join(t.TempDir(), "tun")
	os.WriteFile(tunPath, nil, 0o000)
	if err := CheckTun(); err == nil || !strings.Contains(err.Error(), "chmod 0666 /dev/net/tun") {
		t.Fatalf("unusable tun: %v", err)
	}
	tunPath = filepath.Join(t.TempDir(), "missing")
	if err := CheckTun(); err == nil || !strings.Contains(err.Error(), "modprobe tun") {
		t.Fatalf("missing tun: %v", err)
	}
}

func TestChooseNamesThePackage(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if b, err := Choose("slirp"); err != nil || b != Builtin {
		t.Fatalf("with no program slirp is the built-in stack: %v %v", b, err)
	}
	for prog, pkg := range map[string]string{"pasta": "apt-get install passt", "slirp4netns": "apt-get install slirp4netns"} {
		if _, err := Choose(prog); err == nil || !strings.Contains(err.Error(), pkg) {
			t.Errorf("missing %s: %v", prog, err)
		}
	}
	if b, err := Choose("bridge"); err != nil || b != Builtin {
		t.Errorf("docker's default network's name is den's default: %v %v", b, err)
	}
	if _, err := Choose("mynet"); err == nil {
		t.Error("unknown network accepted")
	}
}

func TestParsePublish(t *testing.T) {
	ok := map[string]Port{
		"8080:80":           {HostPort: 8080, ContainerPort: 80, Proto: "tcp"},
		"127.0.0.1:8080:80": {HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Proto: "tcp"},
		"53:53/udp":         {HostPort: 53, ContainerPort: 53, Proto: "udp"},
		"80":                {ContainerPort: 80, Proto: "tcp"},
		"[::1]:8080:80":     {HostIP: "::1", HostPort: 8080, ContainerPort: 80, Proto: "tcp"},
		"127.0.0.1::80":     {HostIP: "127.0.0.1", ContainerPort: 80, Proto: "tcp"},
	}
	for in, want := range ok {
		got, err := ParsePublish(in)
		if err != nil || got != want {
			t.Errorf("ParsePublish(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x:80", "80:0", "99999:80", "1:2:3:4", "80/sctp", "notanip:80:80", "[::1:80:80"} {
		if _, err := ParsePublish(bad); err == nil || !strings.Contains(err.Error(), "invalid -p") {
			t.Errorf("ParsePublish(%q) = %v, want an error", bad, err)
		}
	}
}

// pasta's --dns replaces the upstream it reads from /etc/resolv.conf, and
// Debian 12's and Ubuntu 24.04's builds are then left with none (issue 11).
func TestPastaForwardsDNSToTheHostsResolver(t *testing.T) {
	for _, loop := range []bool{false, true} {
		args := strings.Join(pastaArgs(Options{HostLoopback: loop}, "/ns"), " ")
		if !strings.Contains(args, "--dns-forward "+DNS) {
			t.Fatalf("no --dns-forward %s: %s", DNS, args)
		}
		for _, bad := range []string{"--dns ", "-D ", "--dns-host"} {
			if strings.Contains(args+" ", bad) {
				t.Fatalf("%q stops pasta forwarding to the host's resolver: %s", bad, args)
			}
		}
	}
}
