package run

import (
	"fmt"
	"os"
	"strconv"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/sys/user"

	"github.com/denproject/den/cgroups"
	"github.com/denproject/den/run/pid1"
	"github.com/denproject/den/run/spec"
	"github.com/denproject/den/userns"
)

// prepareHost fills the init's config with what sp.Host asks for:
// keep-id's identity, volumes (created and filled on first use), extra
// groups, devices, limits. The cleanup it returns runs once the
// container has exited.
func (c *child) prepareHost(rootfs, dir, id string, sp *spec.Spec, ic *pid1.Config) (func(), error) {
	h := sp.Host
	cleanup := func() {}
	if h.KeepID {
		if err := c.keepID(rootfs, dir, sp, ic); err != nil {
			return cleanup, err
		}
	}
	for _, v := range h.Volumes {
		data, err := c.useVolume(rootfs, v)
		if err != nil {
			return cleanup, err
		}
		ic.Mounts = append(ic.Mounts, pid1.Bind{Source: data, Dest: v.Dest, ReadOnly: v.ReadOnly})
	}
	if sp.Rm {
		// docker removes a --rm container's anonymous volumes with it.
		cleanup = func() { c.removeAnonymous(sp, id) }
	}
	if len(h.GroupAdd) > 0 {
		group, closeG := openDB(rootfs, "/etc/group")
		gids, err := user.GetAdditionalGroups(h.GroupAdd, group)
		closeG()
		if err != nil {
			return cleanup, fmt.Errorf("--group-add: %w in the image's /etc/group", err)
		}
		for _, g := range gids {
			ic.Groups = append(ic.Groups, uint32(g))
		}
	}
	ic.Tmpfs = append(ic.Tmpfs, h.Tmpfs...)
	ic.ShmSize, ic.Rlimits, ic.Sysctls, ic.Devices = h.ShmSize, h.Ulimits, h.Sysctls, h.Devices
	if h.Limits.Set() {
		parent, err := cgroups.System(userns.HostUID()).Parent(h.Limits)
		if err != nil {
			return cleanup, err
		}
		cg, err := cgroups.Create(parent, id, h.Limits)
		if err != nil {
			return cleanup, err
		}
		ic.Cgroup = cg
		prev := cleanup
		cleanup = func() { _ = cgroups.Remove(cg); prev() }
	}
	return cleanup, nil
}

// hostGID is the caller's gid on the host, also inside the namespace.
func hostGID() int {
	if gid, err := strconv.Atoi(os.Getenv("_CONTAINERS_ROOTLESS_GID")); err == nil {
		return gid
	}
	return os.Getgid()
}

// inRootfs resolves a container path inside the rootfs (no symlink of
// the image may lead out).
func inRootfs(rootfs, path string) (string, error) {
	p, err := securejoin.SecureJoin(rootfs, path)
	if err != nil {
		return "", fmt.Errorf("resolving %s in the container: %w", path, err)
	}
	return p, nil
}
