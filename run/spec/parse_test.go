package spec

import (
	"reflect"
	"strings"
	"testing"

	"github.com/denproject/den/netns"
	"github.com/denproject/den/run/pid1"
)

func TestParsePublish(t *testing.T) {
	tcp := func(ip string, host, ctr int) netns.Port {
		return netns.Port{HostIP: ip, HostPort: host, ContainerPort: ctr, Proto: "tcp"}
	}
	ok := map[string][]netns.Port{
		"80":                      {tcp("", 0, 80)},
		"8080:80":                 {tcp("", 8080, 80)},
		"127.0.0.1:8080:80":       {tcp("127.0.0.1", 8080, 80)},
		"127.0.0.1::80":           {tcp("127.0.0.1", 0, 80)},
		"[::1]:8080:80":           {tcp("::1", 8080, 80)},
		"5353:5353/udp":           {{HostPort: 5353, ContainerPort: 5353, Proto: "udp"}},
		"8080:80/TCP":             {tcp("", 8080, 80)},
		"8000-8001:9000-9001":     {tcp("", 8000, 9000), tcp("", 8001, 9001)},
		"8000-8001":               {tcp("", 0, 8000), tcp("", 0, 8001)},
		"0.0.0.0:8000-8001:80-81": {tcp("0.0.0.0", 8000, 80), tcp("0.0.0.0", 8001, 81)},
	}
	for in, want := range ok {
		got, err := ParsePublish(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParsePublish(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	bad := []string{"", "abc", "8080:", "8000-8001:80-82", "80/sctp", "80/xyz", "0", "70000",
		"8080:0", "1.2.3:80:80", "99999:80", "8000-7000:80", "8000-8002:80", "-1"}
	for _, in := range bad {
		if got, err := ParsePublish(in); err == nil {
			t.Errorf("ParsePublish(%q) accepted: %+v", in, got)
		} else if !strings.HasPrefix(err.Error(), "invalid -p") || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParsePublish(%q): error %q is not one line naming -p", in, err)
		}
	}
}

func TestParseVolume(t *testing.T) {
	ok := map[string]pid1.Bind{
		"/src:/data":      {Source: "/src", Dest: "/data"},
		"/src:/data:ro":   {Source: "/src", Dest: "/data", ReadOnly: true},
		"/src:/data:rw":   {Source: "/src", Dest: "/data"},
		"/src:/data:ro,z": {Source: "/src", Dest: "/data", ReadOnly: true},
		"rel/dir:/data:Z": {Source: "rel/dir", Dest: "/data"},
	}
	for in, want := range ok {
		if got, err := ParseVolume(in); err != nil || got != want {
			t.Errorf("ParseVolume(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "/src", "/src:data", "/src:/data:zz", "a:b:c:d", ":/data", "/src:"} {
		if got, err := ParseVolume(in); err == nil {
			t.Errorf("ParseVolume(%q) accepted: %+v", in, got)
		}
	}
}

func TestParseAddHost(t *testing.T) {
	cases := []struct {
		in, line string
		gateway  bool
		bad      bool
	}{
		{"db:10.1.2.3", "10.1.2.3\tdb", false, false},
		{"v6:::1", "::1\tv6", false, false},
		{"host:host-gateway", "10.0.2.2\thost", true, false},
		{"db=10.1.2.3", "10.1.2.3\tdb", false, false},
		{"v6b=[2001:db8::33]", "2001:db8::33\tv6b", false, false},
		{"v6c:[::1]", "::1\tv6c", false, false},
		{"gw=host-gateway", "10.0.2.2\tgw", true, false},
		{"nocolon", "", false, true},
		{":1.2.3.4", "", false, true},
		{"db:notanip", "", false, true},
	}
	for _, c := range cases {
		line, gw, err := ParseAddHost(c.in, "10.0.2.2")
		if c.bad != (err != nil) || line != c.line || gw != c.gateway {
			t.Errorf("ParseAddHost(%q) = %q, %v, %v", c.in, line, gw, err)
		}
	}
}

func TestParseDNSAndPull(t *testing.T) {
	if ip, err := ParseDNS("1.1.1.1"); err != nil || ip != "1.1.1.1" {
		t.Errorf("ParseDNS(1.1.1.1) = %q, %v", ip, err)
	}
	if ip, err := ParseDNS("2001:db8::1"); err != nil || ip != "2001:db8::1" {
		t.Errorf("ParseDNS(v6) = %q, %v", ip, err)
	}
	for _, bad := range []string{"", "dns.example", "1.2.3", "1.1.1.1:53"} {
		if _, err := ParseDNS(bad); err == nil || !strings.Contains(err.Error(), "--dns") {
			t.Errorf("ParseDNS(%q) = %v", bad, err)
		}
	}
	for in, want := range map[string]Pull{"": PullMissing, "missing": PullMissing, "always": PullAlways, "never": PullNever} {
		if got, err := ParsePull(in); err != nil || got != want {
			t.Errorf("ParsePull(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParsePull("sometimes"); err == nil {
		t.Error("ParsePull(sometimes) accepted")
	}
}

func TestEnvFilesAndMerge(t *testing.T) {
	got := ParseEnvFile("# comment\nA=1\n\n  B=two words  \nBARE\n")
	if want := []string{"A=1", "B=two words", "BARE"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseEnvFile = %q, want %q", got, want)
	}
	host := map[string]string{"FROM_HOST": "host"}
	lookup := func(k string) (string, bool) { v, ok := host[k]; return v, ok }
	resolved := ResolveEnv([]string{"A=2", "B=3", "FROM_HOST", "ABSENT"}, lookup)
	if want := []string{"A=2", "B=3", "FROM_HOST=host"}; !reflect.DeepEqual(resolved, want) {
		t.Fatalf("ResolveEnv = %q, want %q", resolved, want)
	}
	merged := pid1.MergeEnv([]string{"PATH=/bin", "A=1"}, resolved)
	if want := []string{"PATH=/bin", "A=2", "B=3", "FROM_HOST=host"}; !reflect.DeepEqual(merged, want) {
		t.Fatalf("MergeEnv = %q, want %q", merged, want)
	}
}

func TestParseRestartAndAgain(t *testing.T) {
	ok := map[string]Restart{"": {}, "no": {}, "always": {Name: "always"}, "unless-stopped": {Name: "unless-stopped"},
		"on-failure": {Name: "on-failure"}, "on-failure:3": {Name: "on-failure", MaxRetries: 3}}
	for in, want := range ok {
		if got, err := ParseRestart(in); err != nil || got != want {
			t.Errorf("ParseRestart(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"sometimes", "on-failure:x", "on-failure:-1", "always:2", "no:1"} {
		if _, err := ParseRestart(bad); err == nil {
			t.Errorf("ParseRestart(%q) accepted", bad)
		}
	}
	of := Restart{Name: "on-failure", MaxRetries: 2}
	if !of.Again(1, 0) || !of.Again(1, 1) || of.Again(1, 2) || of.Again(0, 0) {
		t.Error("on-failure:2 restarts a failure twice, never a success")
	}
	if !(Restart{Name: "always"}).Again(0, 100) || (Restart{}).Again(1, 0) {
		t.Error("always restarts; no never does")
	}
}

func TestParseLogAndLabel(t *testing.T) {
	l, err := ParseLog("json-file", []string{"max-size=10k", "max-file=3"})
	if err != nil || l.MaxSize != 10000 || l.MaxFile != 3 {
		t.Fatalf("ParseLog: %+v, %v", l, err)
	}
	if l, err := ParseLog("none", nil); err != nil || l != nil {
		t.Fatalf("none: %+v, %v", l, err)
	}
	for _, c := range [][]string{{"syslog"}, {"", "max-size=big"}, {"", "max-file=0"}, {"", "color=red"}, {"", "max-file=2"}, {"none", "max-size=1m"}} {
		if _, err := ParseLog(c[0], c[1:]); err == nil {
			t.Errorf("ParseLog(%q) accepted", c)
		}
	}
	if k, v, err := ParseLabel("a=b=c"); err != nil || k != "a" || v != "b=c" {
		t.Errorf("ParseLabel: %q %q %v", k, v, err)
	}
	if _, _, err := ParseLabel("=x"); err == nil {
		t.Error("ParseLabel(=x) accepted")
	}
}
