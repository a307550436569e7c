package run

import (
	"errors"
	"fmt"
	"io"
	"os"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/sys/user"

	"github.com/denproject/den/run/pid1"
)

// execUser is who the command runs as.
type execUser struct {
	UID, GID uint32
	Groups   []uint32
	Home     string
}

// resolveUser follows docker's -u ("name", "uid", "name:group",
// "uid:gid") against the image's /etc/passwd and /etc/group, with the
// user's supplementary groups; runc's resolver, as docker uses it. A
// numeric uid absent from passwd is allowed.
func resolveUser(rootfs, spec string) (*execUser, error) {
	passwd, closeP := openDB(rootfs, "/etc/passwd")
	defer closeP()
	group, closeG := openDB(rootfs, "/etc/group")
	defer closeG()
	eu, err := user.GetExecUser(spec, &user.ExecUser{Home: "/"}, passwd, group)
	if err != nil {
		return nil, fmt.Errorf("%w in the image's /etc/passwd and /etc/group", err)
	}
	return &execUser{UID: uint32(eu.Uid), GID: uint32(eu.Gid), Groups: pid1.ExtraGroups(eu), Home: eu.Home}, nil
}

// openDB opens a file of the image, resolved inside the rootfs so that an
// image's symlink cannot point den at a host file; nil when it is absent.
func openDB(rootfs, path string) (io.Reader, func()) {
	p, err := securejoin.SecureJoin(rootfs, path)
	if err != nil {
		return nil, func() {}
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) || err != nil {
		return nil, func() {}
	}
	return f, func() { f.Close() }
}
