package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"go.podman.io/storage/pkg/archive"

	"github.com/denproject/den/run/records"
	"github.com/denproject/den/run/spec"
)

// Volumes live in the store, as docker's local driver keeps them:
// $ROOT/volumes/NAME/_data, with NAME/volume.json for den's record.

func init() {
	register("volume-create", (*child).volumeCreate)
	register("volume-ls", (*child).volumeList)
	register("volume-inspect", (*child).volumeInspect)
	register("volume-rm", (*child).volumeRemove)
	register("volume-prune", (*child).volumePrune)
	register("rm-volumes", (*child).rmWithVolumes)
}

// Volume is `den volume inspect`'s object, docker's fields.
type Volume struct {
	CreatedAt  string            `json:"CreatedAt"`
	Driver     string            `json:"Driver"`
	Labels     map[string]string `json:"Labels"`
	Mountpoint string            `json:"Mountpoint"`
	Name       string            `json:"Name"`
	Options    map[string]string `json:"Options"`
	Scope      string            `json:"Scope"`
	// Anonymous volumes are the ones den rm -v and --rm remove.
	Anonymous bool `json:"Anonymous,omitempty"`
}

type volumeArgs struct {
	Names  []string          `json:"names,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	Force  bool              `json:"force,omitempty"`
	All    bool              `json:"all,omitempty"`
}

// VolumeCreate is `den volume create [NAME]`; it returns the name.
func VolumeCreate(g *Global, name string, labels map[string]string) (string, error) {
	if name == "" {
		name = spec.AnonymousName()
	}
	if err := spec.CheckVolumeName(name); err != nil {
		return "", err
	}
	var v Volume
	err := g.call("volume-create", volumeArgs{Names: []string{name}, Labels: labels}, &v, hooks{})
	return v.Name, err
}

// VolumeList is `den volume ls`.
func VolumeList(g *Global) ([]Volume, error) {
	var vs []Volume
	return vs, g.call("volume-ls", nil, &vs, hooks{})
}

// VolumeInspect is `den volume inspect`.
func VolumeInspect(g *Global, names []string) ([]Volume, error) {
	var vs []Volume
	return vs, g.call("volume-inspect", volumeArgs{Names: names}, &vs, hooks{})
}

// VolumeRemove is `den volume rm`; a volume a container uses is refused.
func VolumeRemove(g *Global, names []string) error {
	return g.call("volume-rm", volumeArgs{Names: names}, nil, hooks{})
}

// VolumePrune is `den volume prune`: the anonymous volumes no container
// uses; with all, every unused volume. It returns the names removed.
func VolumePrune(g *Global, all bool) ([]string, error) {
	var names []string
	return names, g.call("volume-prune", volumeArgs{All: all}, &names, hooks{})
}

// RemoveWithVolumes is `den rm -v`: the containers, then their anonymous
// volumes.
func RemoveWithVolumes(g *Global, names []string, force bool) error {
	return g.call("rm-volumes", namesArgs{Names: names, Force: force}, nil, hooks{})
}

func (c *child) volumesDir() string { return filepath.Join(c.g.Root, "volumes") }

func (c *child) readVolume(name string) (Volume, error) {
	if spec.CheckVolumeName(name) != nil {
		return Volume{}, fmt.Errorf("no such volume: %s", name)
	}
	b, err := os.ReadFile(filepath.Join(c.volumesDir(), name, "volume.json"))
	if errors.Is(err, os.ErrNotExist) {
		return Volume{}, fmt.Errorf("no such volume: %s", name)
	}
	var v Volume
	if err != nil {
		return v, fmt.Errorf("reading volume %s: %w", name, err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		dir := filepath.Join(c.volumesDir(), name)
		return v, fmt.Errorf("volume %s: its record %s/volume.json is damaged (%v): fix the file, or remove %s to drop the volume and its data", name, dir, err, dir)
	}
	return v, nil
}

// createVolume makes the volume; fresh says it did not exist before.
func (c *child) createVolume(name string, labels map[string]string, anonymous bool) (Volume, bool, error) {
	if v, err := c.readVolume(name); err == nil {
		return v, false, nil
	}
	dir := filepath.Join(c.volumesDir(), name)
	data := filepath.Join(dir, "_data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return Volume{}, false, fmt.Errorf("creating volume %s: %w", name, err)
	}
	v := Volume{CreatedAt: time.Now().Format(time.RFC3339), Driver: "local", Labels: labels, Mountpoint: data,
		Name: name, Scope: "local", Anonymous: anonymous}
	b, _ := json.Marshal(v)
	if err := os.WriteFile(filepath.Join(dir, "volume.json"), b, 0o644); err != nil {
		return Volume{}, false, fmt.Errorf("creating volume %s: %w", name, err)
	}
	return v, true, nil
}

// useVolume creates the volume on first use and, as docker does, fills a
// new one with what the image has at its destination.
func (c *child) useVolume(rootfs string, vm spec.VolumeMount) (string, error) {
	v, fresh, err := c.createVolume(vm.Name, nil, vm.Anonymous)
	if err != nil || !fresh || vm.NoCopy {
		return v.Mountpoint, err
	}
	src, err := inRootfs(rootfs, vm.Dest)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(src)
	if err != nil || !fi.IsDir() {
		return v.Mountpoint, nil // nothing to copy
	}
	if err := archive.NewDefaultArchiver().CopyWithTar(src, v.Mountpoint); err != nil {
		return "", fmt.Errorf("filling volume %s from the image's %s: %w", vm.Name, vm.Dest, err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	_ = os.Lchown(v.Mountpoint, int(st.Uid), int(st.Gid))
	_ = os.Chmod(v.Mountpoint, fi.Mode())
	return v.Mountpoint, nil
}

// volumeUsers maps each volume a container names to those containers.
func (c *child) volumeUsers() (map[string][]string, error) {
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	cs, err := st.Containers()
	if err != nil {
		return nil, err
	}
	users := map[string][]string{}
	for _, ctr := range cs {
		if r := records.Decode(ctr.Metadata); r.Spec != nil {
			for _, v := range r.Spec.Host.Volumes {
				users[v.Name] = append(users[v.Name], ctr.ID[:12])
			}
		}
	}
	return users, nil
}

func (c *child) allVolumes() ([]Volume, error) {
	entries, err := os.ReadDir(c.volumesDir())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	vs := []Volume{}
	for _, e := range entries {
		if v, err := c.readVolume(e.Name()); err == nil {
			vs = append(vs, v)
		}
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].Name < vs[j].Name })
	return vs, nil
}

func (c *child) deleteVolume(name string) error {
	if err := os.RemoveAll(filepath.Join(c.volumesDir(), name)); err != nil {
		return fmt.Errorf("removing volume %s: %w", name, err)
	}
	return nil
}
