package spec

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParsers feeds one string to every pure flag parser: none may panic,
// and what each accepts must be usable as it stands.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{"80", "8080:80/udp", "[::1]:8000-8001:80-81", "/a:/b:ro,z", "db:host-gateway",
		"1.1.1.1", "missing", "A=B\n#x\nC", "0:0", "65535:65535", ":::", "[", "1-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ports, err := ParsePublish(s); err == nil {
			if len(ports) == 0 {
				t.Fatalf("ParsePublish(%q) accepted no port", s)
			}
			for _, p := range ports {
				if p.ContainerPort < 1 || p.ContainerPort > 65535 || p.HostPort < 0 || p.HostPort > 65535 ||
					(p.Proto != "tcp" && p.Proto != "udp") {
					t.Fatalf("ParsePublish(%q) accepted %+v", s, p)
				}
			}
		}
		if b, err := ParseVolume(s); err == nil && (!filepath.IsAbs(b.Dest) || b.Source == "") {
			t.Fatalf("ParseVolume(%q) accepted %+v", s, b)
		}
		if line, _, err := ParseAddHost(s, "10.0.2.2"); err == nil && (strings.Contains(line, "\n") || !strings.Contains(line, "\t")) {
			t.Fatalf("ParseAddHost(%q) gave hosts line %q", s, line)
		}
		if ip, err := ParseDNS(s); err == nil && strings.ContainsAny(ip, " \n") {
			t.Fatalf("ParseDNS(%q) gave %q", s, ip)
		}
		for _, e := range ParseEnvFile(s) {
			if e == "" || strings.Contains(e, "\n") {
				t.Fatalf("ParseEnvFile(%q) gave %q", s, e)
			}
		}
	})
}
