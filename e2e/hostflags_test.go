package e2e

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// --userns=keep-id: the user's ids inside, with a passwd entry; a file
// made in a bind mount is the user's on the host; root and the image's
// owners still show as themselves, and the subordinate range stays mapped.
func TestKeepID(t *testing.T) {
	base := subuidBase(t)
	e, ref := pulled(t)
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	vol := filepath.Join(e.dir, "vol")
	if err := os.Mkdir(vol, 0o755); err != nil {
		t.Fatal(err)
	}
	r := e.ok("run", "--rm", "--userns=keep-id", "-v", vol+":/vol", ref, "sh", "-c",
		"id -u; id -g; id -un; touch /vol/mine; stat -c %U:%u /etc/passwd /bin/busybox; ls -ln / | grep ' root$' | awk '{print $3}'; cat /proc/self/uid_map; grep CapBnd /proc/self/status")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) < 8 {
		t.Fatalf("output: %s", r)
	}
	if lines[0] != me.Uid || lines[1] != me.Gid || lines[2] != me.Username {
		t.Errorf("id inside: %q, want %s %s %s", lines[:3], me.Uid, me.Gid, me.Username)
	}
	if lines[3] != "root:0" || lines[4] != "root:0" {
		t.Errorf("image files show owners %q, want root:0", lines[3:5])
	}
	if lines[5] != "0" {
		t.Errorf("/root is owned by %q inside, want 0", lines[5])
	}
	if st := stat(t, filepath.Join(vol, "mine")); int(st.Uid) != os.Getuid() || int(st.Gid) != os.Getgid() {
		t.Errorf("file made in the bind mount is %d:%d on the host, want %d:%d", st.Uid, st.Gid, os.Getuid(), os.Getgid())
	}
	total := 0
	for _, l := range lines[6:] {
		if f := strings.Fields(l); len(f) == 3 {
			n, _ := strconv.Atoi(f[2])
			total += n
		}
	}
	if total != 65537 {
		t.Errorf("uid_map maps %d ids, want the user and the whole range (65537): %q", total, r.stdout)
	}
	// Root inside keeps docker's capabilities; uid 1000 is a subordinate
	// uid.
	r = e.ok("run", "--rm", "--userns=keep-id", "-u", "0", "-v", vol+":/vol", ref, "sh", "-c",
		"grep CapEff /proc/self/status; chown 1000:1000 /vol/mine && stat -c %u /vol/mine")
	if !strings.Contains(r.stdout, "CapEff:\t"+defaultCapEff) {
		t.Errorf("root under keep-id lacks docker's capabilities: %q", r.stdout)
	}
	// Inside, uids below yours sit one further into the range, as podman's.
	if st := stat(t, filepath.Join(vol, "mine")); int(st.Uid) != base+1000 {
		t.Errorf("chown 1000 inside gave host uid %d, want %d", st.Uid, base+1000)
	}
}

func TestKeepIDBadInput(t *testing.T) {
	e, ref := pulled(t)
	oneLineError(t, e.den("run", "--rm", "--userns=nope", ref, "true"), "--userns", "keep-id")
}
