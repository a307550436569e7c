package run

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/denproject/den/overlay"
	"github.com/denproject/den/run/pid1"
	"github.com/denproject/den/run/spec"
	"github.com/denproject/den/userns"
)

// --userns=keep-id: den's namespace maps its uid 0 to the user and 1..N
// to the subordinate range. The container gets a namespace of its own,
// nested in den's, where the user's uid U is den's 0 (the user on the
// host), 0..U-1 are den's 1..U and the rest map to themselves: the whole
// range stays mapped, and what the container creates as U in a bind
// mount is the user's on the host. podman's keep-id map, the same way.

// keepIDMap is the container's map for id (the user's uid or gid) in a
// namespace of den's with total ids.
func keepIDMap(id, total uint32) []syscall.SysProcIDMap {
	var m []syscall.SysProcIDMap
	if below := min(id, total-1); below > 0 {
		m = append(m, syscall.SysProcIDMap{ContainerID: 0, HostID: 1, Size: int(below)})
	}
	m = append(m, syscall.SysProcIDMap{ContainerID: int(id), HostID: 0, Size: 1})
	if total-1 > id {
		m = append(m, syscall.SysProcIDMap{ContainerID: int(id) + 1, HostID: int(id) + 1, Size: int(total - 1 - id)})
	}
	return m
}

// toKeepID is the id in den's namespace that shows as id k in the
// container (the inverse of the map); ok is false when k is not mapped.
func toKeepID(k uint32, m []syscall.SysProcIDMap) (uint32, bool) {
	for _, e := range m {
		if k >= uint32(e.ContainerID) && k < uint32(e.ContainerID+e.Size) {
			return uint32(e.HostID) + k - uint32(e.ContainerID), true
		}
	}
	return 0, false
}

// keepIDAttr starts the init in the nested namespace; den's namespace
// child, root in its own, writes the maps (Go writes them before the
// init's exec).
func keepIDAttr(a *syscall.SysProcAttr) {
	total := userns.MappedIDs()
	a.Cloneflags |= syscall.CLONE_NEWUSER
	a.UidMappings = keepIDMap(uint32(userns.HostUID()), total)
	a.GidMappings = keepIDMap(uint32(hostGID()), total)
	a.GidMappingsEnableSetgroups = true
	// Started as den's uid 0, the init would be the user inside, without
	// capabilities: it becomes the container's root before its exec.
	a.Credential = &syscall.Credential{Uid: 0, Gid: 0}
}

// keepID makes the rootfs show the image's owners through the nested map
// (once per container: a chown of every file, which copies it up), runs
// the command as the user unless -u says otherwise, and gives the user
// passwd and group entries.
func (c *child) keepID(rootfs, dir string, sp *spec.Spec, ic *pid1.Config) error {
	if userns.SingleID() {
		return fmt.Errorf("--userns=keep-id needs a subordinate id range (den maps only your own uid now): add one to /etc/subuid and /etc/subgid, e.g. usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $USER")
	}
	ic.KeepID = true
	total := userns.MappedIDs()
	uid, gid := uint32(userns.HostUID()), uint32(hostGID())
	umap, gmap := keepIDMap(uid, total), keepIDMap(gid, total)
	marker := filepath.Join(dir, keepIDMarker)
	if _, err := os.Stat(marker); errors.Is(err, os.ErrNotExist) && (c.rec == nil || !c.rec.Shifted) {
		// A container from before den made shifted images: its own copy.
		if err := shiftOwners(rootfs, umap, gmap); err != nil {
			return fmt.Errorf("--userns=keep-id: giving the image's files their owners: %w", err)
		}
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			return err
		}
	}
	name, home := "user", "/"
	if u, err := user.LookupId(fmt.Sprint(uid)); err == nil {
		name, home = u.Username, u.HomeDir
	}
	if sp.User == "" {
		ic.UID, ic.GID, ic.Groups = uid, gid, nil
		if !pid1.EnvHas(sp.Env, "HOME") {
			ic.Env = pid1.MergeEnv(ic.Env, []string{"HOME=" + home})
		}
	}
	root, _ := toKeepID(0, umap)
	for _, f := range []struct{ name, line string }{
		{"passwd", fmt.Sprintf("%s:x:%d:%d:%s:%s:/bin/sh\n", name, uid, gid, name, home)},
		{"group", fmt.Sprintf("%s:x:%d:\n", name, gid)},
	} {
		p, err := keepIDEntry(rootfs, dir, f.name, f.line)
		if err != nil {
			return err
		}
		_ = os.Lchown(p, int(root), int(root)) // root's inside, as the image's is
		ic.Files = append(ic.Files, pid1.Bind{Source: p, Dest: "/etc/" + f.name})
	}
	return nil
}

// keepIDMarker, in a container's directory, says its rootfs shows the
// image's owners through the nested map already.
const keepIDMarker = "keep-id"

// keepIDImage is the image's shifted copy for this user's map: the chown
// of every file (which copies each up) done once, into a layer over the
// image's that every keep-id container of the image shares (the store's
// derived images), instead of into each container's own layer.
func (c *child) keepIDImage(st *overlay.Store, imageID string) (string, error) {
	total := userns.MappedIDs()
	uid, gid := uint32(userns.HostUID()), uint32(hostGID())
	umap, gmap := keepIDMap(uid, total), keepIDMap(gid, total)
	key := fmt.Sprintf("keep-id/1:%d:%d:%d", uid, gid, total)
	id, err := st.Derive(imageID, key, func(root string) error { return shiftOwners(root, umap, gmap) })
	if err != nil {
		return "", fmt.Errorf("--userns=keep-id: %w", err)
	}
	return id, nil
}

// keepIDEntry writes the image's /etc/passwd (or group) with line added,
// unless the id is there already, into the container's directory.
func keepIDEntry(rootfs, dir, name, line string) (string, error) {
	src, err := inRootfs(rootfs, "/etc/"+name)
	if err != nil {
		return "", err
	}
	b, _ := os.ReadFile(src)
	content := string(b)
	id := strings.Split(line, ":")[2]
	exists := false
	for _, l := range strings.Split(content, "\n") {
		if f := strings.Split(l, ":"); len(f) > 2 && f[2] == id {
			exists = true
		}
	}
	if !exists {
		if content != "" && !strings.HasSuffix(content, "\n") {
			content += "\n"
		}
		content += line
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		return "", fmt.Errorf("writing the container's /etc/%s: %w", name, err)
	}
	return p, nil
}

// shiftOwners gives each file of the rootfs the owner that shows, through
// the nested map, as the owner it had. Owners are read first, then set:
// a hard link shares its inode, and must not be shifted twice.
func shiftOwners(rootfs string, umap, gmap []syscall.SysProcIDMap) error {
	type entry struct {
		path     string
		uid, gid uint32
		mode     fs.FileMode
	}
	var all []entry
	err := filepath.WalkDir(rootfs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		all = append(all, entry{p, st.Uid, st.Gid, fi.Mode()})
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range all {
		u, uok := toKeepID(e.uid, umap)
		g, gok := toKeepID(e.gid, gmap)
		if !uok || !gok || u == e.uid && g == e.gid {
			continue
		}
		if err := os.Lchown(e.path, int(u), int(g)); err != nil {
			return err
		}
		// chown clears set-id bits; the image's stay.
		if e.mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 && e.mode&fs.ModeSymlink == 0 {
			if err := os.Chmod(e.path, e.mode); err != nil {
				return err
			}
		}
	}
	return nil
}
