package run

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// execUser is who the command runs as.
type execUser struct {
	UID, GID uint32
	Groups   []uint32
	Home     string
}

// resolveUser follows docker's -u: "name", "uid", "name:group" or
// "uid:gid", looked up in the image's /etc/passwd and /etc/group, with the
// user's supplementary groups. A numeric uid absent from passwd is allowed.
func resolveUser(rootfs, spec string) (*execUser, error) {
	u := &execUser{Home: "/"}
	if spec == "" {
		spec = "0"
	}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	passwd := readDB(rootfs, "/etc/passwd")
	found := false
	for _, f := range passwd {
		if len(f) < 7 || (f[0] != userPart && f[2] != userPart) {
			continue
		}
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		u.UID, u.GID, u.Home, found = uint32(uid), uint32(gid), f[5], true
		userPart = f[0]
		break
	}
	if !found {
		n, err := strconv.ParseUint(userPart, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("unable to find user %s: no matching entries in the image's /etc/passwd", userPart)
		}
		u.UID, u.GID = uint32(n), uint32(n)
		if n != 0 {
			u.GID = 0
		}
	}
	groups := readDB(rootfs, "/etc/group")
	if hasGroup {
		gid, err := lookupGroup(groups, groupPart)
		if err != nil {
			return nil, err
		}
		u.GID = gid
	}
	if found {
		for _, g := range groups {
			if len(g) < 4 {
				continue
			}
			for _, m := range strings.Split(g[3], ",") {
				if m == userPart {
					if gid, err := strconv.ParseUint(g[2], 10, 32); err == nil && uint32(gid) != u.GID {
						u.Groups = append(u.Groups, uint32(gid))
					}
				}
			}
		}
	}
	return u, nil
}

func lookupGroup(groups [][]string, name string) (uint32, error) {
	for _, g := range groups {
		if len(g) >= 3 && (g[0] == name || g[2] == name) {
			if gid, err := strconv.ParseUint(g[2], 10, 32); err == nil {
				return uint32(gid), nil
			}
		}
	}
	gid, err := strconv.ParseUint(name, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("unable to find group %s: no matching entries in the image's /etc/group", name)
	}
	return uint32(gid), nil
}

// readDB reads a colon-separated file of the image, resolved inside the
// rootfs so an image's symlink cannot point den at a host file.
func readDB(rootfs, path string) [][]string {
	p, err := securejoin.SecureJoin(rootfs, path)
	if err != nil {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.Split(line, ":"))
	}
	return out
}
