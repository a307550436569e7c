package run

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/doctor"
	"github.com/denproject/den/netns"
	"github.com/denproject/den/run/records"
)

func init() {
	register("info", (*child).info)
}

// Info is den info: the facts docker info and podman info give, for den.
type Info struct {
	Version string            `json:"version"`
	Host    HostInfo          `json:"host"`
	User    UserInfo          `json:"user"`
	Store   StoreInfo         `json:"store"`
	Network NetworkInfo       `json:"network"`
	Cgroup  doctor.CgroupInfo `json:"cgroup"`
	// Error says why den's namespace could not be entered (den doctor
	// tells more); the store's figures are then missing.
	Error string `json:"error,omitempty"`
}

// HostInfo describes the machine.
type HostInfo struct {
	OS           string   `json:"os"`
	Arch         string   `json:"arch"`
	Kernel       string   `json:"kernel"`
	Distribution string   `json:"distribution"`
	Hostname     string   `json:"hostname"`
	CPUs         int      `json:"cpus"`
	MemTotal     uint64   `json:"memTotal"`
	Container    []string `json:"container,omitempty"` // signs of an outer container
}

// UserInfo is who den runs as and the ids its namespace maps.
type UserInfo struct {
	Name   string    `json:"name"`
	UID    int       `json:"uid"`
	GID    int       `json:"gid"`
	UIDMap []IDRange `json:"uidMap"` // den's namespace's /proc/self/uid_map
	GIDMap []IDRange `json:"gidMap"`
}

// IDRange is one line of an id map: Size ids from Host seen as Container.
type IDRange struct {
	Container uint32 `json:"container"`
	Host      uint32 `json:"host"`
	Size      uint32 `json:"size"`
}

func parseIDMap(m string) []IDRange {
	out := []IDRange{}
	for _, line := range strings.Split(strings.TrimSpace(m), "\n") {
		var r IDRange
		if _, err := fmt.Sscan(line, &r.Container, &r.Host, &r.Size); err == nil {
			out = append(out, r)
		}
	}
	return out
}

// StoreInfo is the store: where it is, its driver and what it holds.
type StoreInfo struct {
	Root       string `json:"root"`
	RunRoot    string `json:"runRoot"`
	RuntimeDir string `json:"runtimeDir"`
	Driver     string `json:"driver"`
	Images     int    `json:"images"`
	Containers int    `json:"containers"`
	Running    int    `json:"running"`
	Stopped    int    `json:"stopped"`
}

// NetworkInfo is the default network and the programs found.
type NetworkInfo struct {
	Default     string `json:"default"`
	Pasta       string `json:"pasta,omitempty"`
	Slirp4netns string `json:"slirp4netns,omitempty"`
}

// infoResult is what the namespace child counts.
type infoResult struct {
	probe
	Images, Containers, Running int
}

// GetInfo gathers den info: host facts here, the store's from den's
// namespace. An unusable namespace is reported in Error, not as a failure.
func GetInfo(g *Global) Info {
	me := doctor.CurrentUser()
	in := Info{Host: hostInfo(), User: UserInfo{Name: me.Name, UID: me.UID, GID: me.GID}, Cgroup: doctor.Cgroups(me)}
	in.Host.Container = doctor.InContainer()
	in.Network.Default, _ = netns.Choose("slirp")
	in.Network.Pasta, _ = exec.LookPath("pasta")
	in.Network.Slirp4netns, _ = exec.LookPath("slirp4netns")
	var r infoResult
	if err := g.quietCall("info", &r); err != nil {
		in.Error = err.Error()
	}
	in.Store.Root, in.Store.RunRoot = g.Root, g.RunRoot
	in.Store.RuntimeDir, _ = RuntimeRoot()
	in.User.UIDMap, in.User.GIDMap = parseIDMap(r.UIDMap), parseIDMap(r.GIDMap)
	in.Store.Images, in.Store.Containers, in.Store.Running = r.Images, r.Containers, r.Running
	in.Store.Stopped = r.Containers - r.Running
	if in.Error == "" {
		in.Store.Driver = "overlay"
		if r.OverlayErr != "" {
			in.Store.Driver = "overlay (fuse-overlayfs)"
		}
	}
	return in
}

func hostInfo() HostInfo {
	h := HostInfo{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU()}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		h.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	h.Hostname, _ = os.Hostname()
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		h.MemTotal = uint64(si.Totalram) * uint64(si.Unit)
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				h.Distribution = strings.Trim(v, `"`)
			}
		}
	}
	return h
}

func (c *child) info(json.RawMessage) (any, error) {
	pr, err := c.probeNamespace()
	if err != nil {
		return nil, err
	}
	r := infoResult{probe: pr}
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	ids, err := st.ImageIDs()
	if err != nil {
		return nil, err
	}
	cs, err := st.Containers()
	if err != nil {
		return nil, err
	}
	r.Images, r.Containers = len(ids), len(cs)
	for i := range cs {
		if records.Decode(cs[i].Metadata).State == records.Running {
			r.Running++
		}
	}
	return r, nil
}
