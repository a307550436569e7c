package run

import (
	"strings"
	"testing"

	"github.com/denproject/den/run/spec"
)

const hostResolv = "# written by a tool\nnameserver 127.0.0.53\nnameserver 192.0.2.1\nsearch corp.test\noptions edns0\n"

func TestResolvConf(t *testing.T) {
	cases := []struct {
		name string
		n    spec.Network
		want string
	}{
		{"own network asks the backend", spec.Network{Mode: "pasta"},
			"nameserver 10.0.2.3\nsearch corp.test\noptions edns0\n"},
		{"host network shares the host's", spec.Network{Mode: spec.ModeHost}, hostResolv},
		{"none drops loopback resolvers", spec.Network{Mode: spec.ModeNone},
			"nameserver 192.0.2.1\nsearch corp.test\noptions edns0\n"},
		{"--dns, --dns-search, --dns-option replace", spec.Network{Mode: "slirp4netns", DNS: []string{"192.0.2.53", "192.0.2.54"},
			DNSSearch: []string{"a.test", "b.test"}, DNSOptions: []string{"ndots:2"}},
			"nameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch a.test b.test\noptions ndots:2\n"},
		{"--dns-search . clears the search list", spec.Network{Mode: "builtin", DNSSearch: []string{"."}},
			"nameserver 10.0.2.3\noptions edns0\n"},
	}
	for _, c := range cases {
		if got := resolvConf(c.n, hostResolv); got != c.want {
			t.Errorf("%s:\n%s\nwant:\n%s", c.name, got, c.want)
		}
	}
}

func TestEtcFilesWritesHosts(t *testing.T) {
	dir := t.TempDir()
	n := spec.Network{Mode: "builtin", Hosts: []string{"10.1.2.3\tdb"}}
	binds, err := etcFiles(dir, "box", n)
	if err != nil || len(binds) != 3 || binds[1].Dest != "/etc/hosts" {
		t.Fatalf("%+v, %v", binds, err)
	}
	hosts := readFile(binds[1].Source)
	if !strings.Contains(hosts, "10.0.2.100\tbox\n") || !strings.Contains(hosts, "10.1.2.3\tdb\n") {
		t.Fatalf("hosts:\n%s", hosts)
	}
}
