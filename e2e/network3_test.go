package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A port published on the host's IPv6 loopback answers, on every backend.
func TestNetworkPublishOnIPv6(t *testing.T) {
	if l, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	} else {
		l.Close()
	}
	e, ref := pulled(t)
	www := filepath.Join(e.dir, "www6")
	os.Mkdir(www, 0o755)
	os.WriteFile(filepath.Join(www, "index.html"), []byte("over v6\n"), 0o644)
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			l, _ := net.Listen("tcp", "[::1]:0")
			port := l.Addr().(*net.TCPAddr).Port
			l.Close()
			name := "v6-" + b
			e.ok("run", "-d", "--name", name, "--network", b, "-p", fmt.Sprintf("[::1]:%d:8080", port),
				"-v", www+":/www:ro", ref, "httpd", "-f", "-p", "8080", "-h", "/www")
			t.Cleanup(func() { e.den("rm", "-f", name) })
			if out := e.ok("port", name, "8080").stdout; !strings.Contains(out, fmt.Sprintf("[::1]:%d", port)) {
				t.Fatalf("den port: %q", out)
			}
			url := fmt.Sprintf("http://[::1]:%d/index.html", port)
			deadline := time.Now().Add(10 * time.Second)
			for {
				resp, err := http.Get(url)
				if err == nil {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if string(body) == "over v6\n" {
						return
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s did not answer: %v", url, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}
