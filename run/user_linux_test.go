package run

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestResolveUser(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nalice:x:1000:alice\nwheel:x:10:alice\nstaff:x:50:\n"), 0o644)
	cases := []struct {
		spec string
		want execUser
	}{
		{"", execUser{UID: 0, GID: 0, Home: "/root"}},
		{"alice", execUser{UID: 1000, GID: 1000, Groups: []uint32{10}, Home: "/home/alice"}},
		{"1000", execUser{UID: 1000, GID: 1000, Groups: []uint32{10}, Home: "/home/alice"}},
		{"alice:staff", execUser{UID: 1000, GID: 50, Home: "/home/alice"}},
		{"4242", execUser{UID: 4242, GID: 0, Home: "/"}},
		{"4242:77", execUser{UID: 4242, GID: 77, Home: "/"}},
	}
	for _, c := range cases {
		got, err := resolveUser(root, c.spec)
		if err != nil || !reflect.DeepEqual(*got, c.want) {
			t.Errorf("-u %q: %+v, %v; want %+v", c.spec, got, err, c.want)
		}
	}
	for _, bad := range []string{"bob", "alice:nogroup"} {
		if _, err := resolveUser(root, bad); err == nil || !strings.Contains(err.Error(), "unable to find") {
			t.Errorf("-u %q: %v", bad, err)
		}
	}
	// An image's /etc/passwd that is a symlink to the host's is read in
	// the rootfs: the host's users stay unknown.
	os.Remove(filepath.Join(root, "etc/passwd"))
	os.Symlink("/etc/passwd", filepath.Join(root, "etc/passwd"))
	if u, err := resolveUser(root, "root"); err == nil {
		t.Errorf("-u root resolved through a symlink out of the rootfs: %+v", u)
	}
}
