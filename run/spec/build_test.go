package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/denproject/den/netns"
)

func flags(image string) *Flags {
	return &Flags{Image: image, Network: "none", Pull: "missing"}
}

func TestBuildResolvesOnTheHost(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "env")
	os.WriteFile(envFile, []byte("A=from-file\nB=b\n"), 0o644)
	t.Setenv("DEN_SPEC_TEST", "den's")
	f := flags("busybox")
	f.EnvFiles, f.Env = []string{envFile}, []string{"A=from-flag", "DEN_SPEC_TEST"}
	f.Volumes = []string{dir + ":/data:ro"}
	f.EntrypointSet = true
	f.Detach, f.Tty, f.Interactive = true, true, true
	s, err := Build(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Env, " "); got != "A=from-file B=b A=from-flag DEN_SPEC_TEST=den's" {
		t.Errorf("env %q", got)
	}
	if len(s.Mounts) != 1 || s.Mounts[0].Source != dir || !s.Mounts[0].ReadOnly {
		t.Errorf("mounts %+v", s.Mounts)
	}
	if s.Entrypoint == nil || len(*s.Entrypoint) != 0 {
		t.Errorf("--entrypoint \"\" must clear the image's: %v", s.Entrypoint)
	}
	if !s.Tty || !s.Interactive || !s.Detach {
		t.Error("-dit keeps the terminal and stdin, for den attach")
	}
	if s.Sandbox.SeccompKey == "" || !s.Sandbox.NoNewPrivs || len(s.Sandbox.MaskedPaths) == 0 {
		t.Errorf("default sandbox missing: %+v", s.Sandbox)
	}
}

func TestBuildNetwork(t *testing.T) {
	f := flags("busybox")
	f.Network = netns.Builtin
	f.Publish = []string{"8080:80", "8000-8001:9000-9001/udp"}
	f.AddHosts = []string{"db:10.1.2.3", "me:host-gateway"}
	f.DNS, f.DNSSearch, f.DNSOptions = []string{"192.0.2.53"}, []string{"example.test"}, []string{"ndots:2"}
	s, err := Build(f)
	if err != nil {
		t.Fatal(err)
	}
	n := s.Network
	if n.Mode != netns.Builtin || len(n.Ports) != 3 || !n.HostLoopback || !n.Own() {
		t.Fatalf("network %+v", n)
	}
	if want := "10.0.2.2\thost.containers.internal"; n.Hosts[len(n.Hosts)-1] != want {
		t.Errorf("hosts %q", n.Hosts)
	}
	if n.DNS[0] != "192.0.2.53" || n.DNSSearch[0] != "example.test" || n.DNSOptions[0] != "ndots:2" {
		t.Errorf("dns %+v", n)
	}
}

func TestBuildRefusals(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		mod  func(*Flags)
		want string
	}{
		{"bad reference", func(f *Flags) { f.Image = "UPPER/case:tag" }, ""},
		{"bad pull", func(f *Flags) { f.Pull = "sometimes" }, "--pull"},
		{"missing env file", func(f *Flags) { f.EnvFiles = []string{filepath.Join(dir, "nope")} }, "--env-file"},
		{"volume source out of reach", func(f *Flags) { f.Volumes = []string{"/proc/den-nope/x:/x"} }, "does not exist"},
		{"bad env", func(f *Flags) { f.Env = []string{"=bad"} }, "environment variable"},
		{"env file with blanks", func(f *Flags) {
			p := filepath.Join(dir, "blanks.env")
			os.WriteFile(p, []byte("A=1\nexport D=4\n"), 0o644)
			f.EnvFiles = []string{p}
		}, "contains blanks"},
		{"relative workdir", func(f *Flags) { f.Workdir = "rel" }, "absolute path"},
		{"duplicate mount point", func(f *Flags) { f.Volumes = []string{dir + ":/data"}; f.Security.Tmpfs = []string{"/data"} }, "duplicate mount point"},
		{"bad name", func(f *Flags) { f.Name = "a/b" }, "container name"},
		{"-p without a network", func(f *Flags) { f.Publish = []string{"80"} }, "-p needs"},
		{"port twice", func(f *Flags) { f.Network = netns.Builtin; f.Publish = []string{"8080:80", "8080:81"} }, "already published"},
		{"range lengths", func(f *Flags) { f.Network = netns.Builtin; f.Publish = []string{"8000-8001:80-82"} }, "invalid -p"},
		{"dns not an address", func(f *Flags) { f.DNS = []string{"dns.example"} }, "--dns"},
		{"unknown network", func(f *Flags) { f.Network = "bridge0" }, "--network"},
		{"bad add-host", func(f *Flags) { f.AddHosts = []string{"x"} }, "--add-host"},
		{"bad platform", func(f *Flags) { f.Platform = "linux/" }, ""},
		{"unknown capability", func(f *Flags) { f.Security.CapAdd = []string{"FLY"} }, "capability"},
		{"relative tmpfs", func(f *Flags) { f.Security.Tmpfs = []string{"tmp"} }, "--tmpfs"},
		{"unknown security-opt", func(f *Flags) { f.Security.SecurityOpt = []string{"magic"} }, "--security-opt"},
	}
	for _, c := range cases {
		f := flags("busybox")
		c.mod(f)
		_, err := Build(f)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q (want one line with %q)", c.name, err, c.want)
		}
	}
}
