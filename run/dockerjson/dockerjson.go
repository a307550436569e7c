// Package dockerjson shapes den's records and images as docker inspect
// prints them, so that scripts and jq filters written for docker work.
package dockerjson

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/denproject/den/netns"
	"github.com/denproject/den/run/pid1"
	"github.com/denproject/den/run/records"
	"github.com/denproject/den/run/spec"
)

// ContainerJSON is `den inspect` of a container, in docker's shape and
// with docker's field names, so that scripts' templates and jq filters
// carry over.
type ContainerJSON struct {
	ID              string          `json:"Id"`
	Created         time.Time       `json:"Created"`
	Path            string          `json:"Path"`
	Args            []string        `json:"Args"`
	State           ContainerState  `json:"State"`
	Image           string          `json:"Image"`
	ResolvConfPath  string          `json:"ResolvConfPath"`
	HostnamePath    string          `json:"HostnamePath"`
	HostsPath       string          `json:"HostsPath"`
	LogPath         string          `json:"LogPath"`
	Name            string          `json:"Name"`
	RestartCount    int             `json:"RestartCount"`
	Driver          string          `json:"Driver"`
	Platform        string          `json:"Platform"`
	HostConfig      HostConfig      `json:"HostConfig"`
	Mounts          []MountPoint    `json:"Mounts"`
	Config          ContainerConfig `json:"Config"`
	NetworkSettings NetworkSettings `json:"NetworkSettings"`
}

// ContainerState is docker's State.
type ContainerState struct {
	Status     string    `json:"Status"`
	Running    bool      `json:"Running"`
	Paused     bool      `json:"Paused"`
	Restarting bool      `json:"Restarting"`
	OOMKilled  bool      `json:"OOMKilled"`
	Dead       bool      `json:"Dead"`
	Pid        int       `json:"Pid"`
	ExitCode   int       `json:"ExitCode"`
	Error      string    `json:"Error"`
	StartedAt  time.Time `json:"StartedAt"`
	FinishedAt time.Time `json:"FinishedAt"`
	// Health is always null (den runs no health checks): docker's JSON
	// leaves it out then, but `{{if .State.Health}}` must read false, not
	// fail on a missing key.
	Health *struct{} `json:"Health"`
}

// HostConfig is the part of docker's HostConfig den has.
type HostConfig struct {
	Binds          []string                 `json:"Binds"`
	NetworkMode    string                   `json:"NetworkMode"`
	PortBindings   map[string][]PortBinding `json:"PortBindings"`
	RestartPolicy  RestartPolicy            `json:"RestartPolicy"`
	AutoRemove     bool                     `json:"AutoRemove"`
	DNS            []string                 `json:"Dns"`
	DNSOptions     []string                 `json:"DnsOptions"`
	DNSSearch      []string                 `json:"DnsSearch"`
	ReadonlyRootfs bool                     `json:"ReadonlyRootfs"`
	Tmpfs          map[string]string        `json:"Tmpfs,omitempty"`
}

// PortBinding is a host address and port; HostPort "" is one den picks.
type PortBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

// RestartPolicy is --restart's.
type RestartPolicy struct {
	Name              string `json:"Name"`
	MaximumRetryCount int    `json:"MaximumRetryCount"`
}

// MountPoint is one of docker's Mounts.
type MountPoint struct {
	Type        string `json:"Type"`
	Name        string `json:"Name,omitempty"` // a volume's
	Source      string `json:"Source"`
	Destination string `json:"Destination"`
	Mode        string `json:"Mode"`
	RW          bool   `json:"RW"`
	Propagation string `json:"Propagation"`
}

// ContainerConfig is docker's Config: the image's, with the container's
// own settings over it.
type ContainerConfig struct {
	Hostname     string              `json:"Hostname"`
	Domainname   string              `json:"Domainname"`
	User         string              `json:"User"`
	AttachStdin  bool                `json:"AttachStdin"`
	AttachStdout bool                `json:"AttachStdout"`
	AttachStderr bool                `json:"AttachStderr"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Tty          bool                `json:"Tty"`
	OpenStdin    bool                `json:"OpenStdin"`
	Env          []string            `json:"Env"`
	Cmd          []string            `json:"Cmd"`
	Image        string              `json:"Image"`
	WorkingDir   string              `json:"WorkingDir"`
	Entrypoint   []string            `json:"Entrypoint"`
	Labels       map[string]string   `json:"Labels"`
	StopSignal   string              `json:"StopSignal"`
	StopTimeout  *int                `json:"StopTimeout,omitempty"` // docker's: only when --stop-timeout set it
}

// NetworkSettings has the published ports (container port "80/tcp" to
// its host bindings) and the container's address, while it runs.
type NetworkSettings struct {
	Ports       map[string][]PortBinding `json:"Ports"`
	IPAddress   string                   `json:"IPAddress"`
	IPPrefixLen int                      `json:"IPPrefixLen"`
	Gateway     string                   `json:"Gateway"`
	MacAddress  string                   `json:"MacAddress"`
	// Networks has one entry, named for the network mode (pasta,
	// slirp4netns, builtin, host, none), with the address again: scripts
	// read it as {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}.
	Networks map[string]Endpoint `json:"Networks"`
}

// Endpoint is docker's EndpointSettings, the part den has.
type Endpoint struct {
	IPAddress   string `json:"IPAddress"`
	IPPrefixLen int    `json:"IPPrefixLen"`
	Gateway     string `json:"Gateway"`
	MacAddress  string `json:"MacAddress"`
}

// Facts is what a container's inspect is made of besides its record.
type Facts struct {
	ID, Name, ImageID, Dir string
	VolumesDir             string // where volumes keep their _data
	Created                time.Time
	InitPid                int // 0 unless it runs
	Image                  v1.Config
}

// Container shapes a container's record and image config as docker's
// inspect does.
func Container(f Facts, r records.Record) ContainerJSON {
	sp := r.Spec
	if sp == nil {
		sp = &spec.Spec{Image: r.Image}
	}
	running := r.State == records.Running
	j := ContainerJSON{ID: f.ID, Created: f.Created, Args: []string{}, Image: "sha256:" + f.ImageID,
		Name: "/" + f.Name, Driver: "overlay", Platform: "linux",
		ResolvConfPath: filepath.Join(f.Dir, "resolv.conf"), HostnamePath: filepath.Join(f.Dir, "hostname"),
		HostsPath: filepath.Join(f.Dir, "hosts"), LogPath: filepath.Join(f.Dir, "ctr.log"), RestartCount: r.RestartCount}
	if len(r.Args) > 0 {
		j.Path, j.Args = r.Args[0], append(j.Args, r.Args[1:]...)
	}
	j.State = ContainerState{Status: string(r.State), Running: running, ExitCode: r.ExitCode,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Pid: f.InitPid}
	j.HostConfig = hostConfig(sp)
	j.Mounts = []MountPoint{}
	for _, m := range sp.Mounts {
		mode := ""
		if m.ReadOnly {
			mode = "ro"
		}
		j.Mounts = append(j.Mounts, MountPoint{Type: "bind", Source: m.Source, Destination: m.Dest,
			Mode: mode, RW: !m.ReadOnly, Propagation: "rprivate"})
	}
	for _, v := range sp.Host.Volumes { // docker lists volumes here too
		j.Mounts = append(j.Mounts, MountPoint{Type: "volume", Name: v.Name, Source: filepath.Join(f.VolumesDir, v.Name, "_data"),
			Destination: v.Dest, Mode: "z", RW: !v.ReadOnly})
	}
	for _, t := range sp.Host.Tmpfs {
		j.Mounts = append(j.Mounts, MountPoint{Type: "tmpfs", Destination: t.Dest, RW: true})
	}
	j.Config = containerConfig(f, sp)
	j.NetworkSettings = NetworkSettings{Ports: map[string][]PortBinding{}}
	if running {
		for p := range f.Image.ExposedPorts {
			j.NetworkSettings.Ports[p] = nil
		}
		for k, v := range portBindings(r.Ports) {
			j.NetworkSettings.Ports[k] = v
		}
		if sp.Network.Own() {
			j.NetworkSettings.IPAddress, j.NetworkSettings.IPPrefixLen = netns.ContainerIP, netns.PrefixLen
			j.NetworkSettings.Gateway = netns.Gateway
		}
	}
	j.NetworkSettings.Networks = map[string]Endpoint{}
	if mode := sp.Network.Mode; mode != "" && mode != spec.ModeContainer {
		ns := j.NetworkSettings
		j.NetworkSettings.Networks[mode] = Endpoint{IPAddress: ns.IPAddress, IPPrefixLen: ns.IPPrefixLen, Gateway: ns.Gateway}
	}
	return j
}

func hostConfig(sp *spec.Spec) HostConfig {
	h := HostConfig{Binds: []string{}, NetworkMode: sp.Network.Mode, PortBindings: map[string][]PortBinding{},
		RestartPolicy: RestartPolicy{Name: "no"}, AutoRemove: sp.Rm, DNS: nonNil(sp.Network.DNS),
		DNSOptions: nonNil(sp.Network.DNSOptions), DNSSearch: nonNil(sp.Network.DNSSearch),
		ReadonlyRootfs: sp.Sandbox.ReadOnly}
	if sp.Restart.Name != "" {
		h.RestartPolicy = RestartPolicy{Name: sp.Restart.Name, MaximumRetryCount: sp.Restart.MaxRetries}
	}
	for _, m := range sp.Mounts {
		b := m.Source + ":" + m.Dest
		if m.ReadOnly {
			b += ":ro"
		}
		h.Binds = append(h.Binds, b)
	}
	for _, v := range sp.Host.Volumes {
		if !v.Anonymous { // docker's Binds hold named volumes, NAME:DEST
			b := v.Name + ":" + v.Dest
			if v.ReadOnly {
				b += ":ro"
			}
			h.Binds = append(h.Binds, b)
		}
	}
	for _, p := range sp.Network.Ports {
		k := portKey(p)
		b := PortBinding{HostIP: p.HostIP}
		if p.HostPort != 0 {
			b.HostPort = strconv.Itoa(p.HostPort)
		}
		h.PortBindings[k] = append(h.PortBindings[k], b)
	}
	for _, t := range sp.Sandbox.Tmpfs {
		if h.Tmpfs == nil {
			h.Tmpfs = map[string]string{}
		}
		h.Tmpfs[t.Dest] = t.Options
	}
	return h
}

func containerConfig(f Facts, sp *spec.Spec) ContainerConfig {
	img := f.Image
	c := ContainerConfig{Hostname: sp.Hostname, User: img.User, ExposedPorts: img.ExposedPorts,
		Tty: sp.Tty, OpenStdin: sp.Interactive, AttachStdin: sp.Interactive && !sp.Detach,
		AttachStdout: !sp.Detach, AttachStderr: !sp.Detach, Image: sp.Image, WorkingDir: img.WorkingDir,
		Entrypoint: img.Entrypoint, Cmd: img.Cmd, Labels: map[string]string{}, StopSignal: img.StopSignal}
	if c.Hostname == "" {
		c.Hostname = f.ID[:12]
	}
	if sp.User != "" {
		c.User = sp.User
	}
	if sp.Workdir != "" {
		c.WorkingDir = sp.Workdir
	}
	c.StopTimeout = sp.StopTimeout
	if sp.Entrypoint != nil {
		c.Entrypoint, c.Cmd = *sp.Entrypoint, nil
	}
	if len(sp.Args) > 0 {
		c.Cmd = sp.Args
	}
	env := img.Env
	if !pid1.EnvHas(env, "PATH") {
		env = pid1.MergeEnv([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, env)
	}
	c.Env = nonNil(pid1.MergeEnv(env, sp.Env))
	for k, v := range img.Labels {
		c.Labels[k] = v
	}
	for k, v := range sp.Labels {
		c.Labels[k] = v
	}
	if sp.StopSignal != "" {
		c.StopSignal = sp.StopSignal
	}
	if c.StopSignal == "" {
		c.StopSignal = "SIGTERM"
	}
	return c
}

// PortKey is docker's name for a container port: "80/tcp".
func portKey(p netns.Port) string { return fmt.Sprintf("%d/%s", p.ContainerPort, p.Proto) }

// portBindings are published ports as docker's NetworkSettings.Ports.
func portBindings(ports []netns.Port) map[string][]PortBinding {
	out := map[string][]PortBinding{}
	for _, p := range ports {
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		out[portKey(p)] = append(out[portKey(p)], PortBinding{HostIP: ip, HostPort: strconv.Itoa(p.HostPort)})
	}
	return out
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// ImageJSON is `den inspect` of an image, in docker's shape.
type ImageJSON struct {
	ID            string            `json:"Id"`
	RepoTags      []string          `json:"RepoTags"`
	RepoDigests   []string          `json:"RepoDigests"`
	Parent        string            `json:"Parent"`
	Comment       string            `json:"Comment"`
	Created       time.Time         `json:"Created"`
	DockerVersion string            `json:"DockerVersion"`
	Author        string            `json:"Author"`
	Config        v1.Config         `json:"Config"`
	Architecture  string            `json:"Architecture"`
	Variant       string            `json:"Variant,omitempty"`
	Os            string            `json:"Os"`
	Size          int64             `json:"Size"`
	GraphDriver   map[string]string `json:"GraphDriver"`
	RootFS        struct {
		Type   string   `json:"Type"`
		Layers []string `json:"Layers"`
	} `json:"RootFS"`
}

// Image shapes a stored image as docker's image inspect does: names
// with a tag are RepoTags, and each repository with the manifest digest
// is a RepoDigest.
func Image(id string, names []string, digest string, size int64, cfg *v1.ConfigFile) ImageJSON {
	j := ImageJSON{ID: "sha256:" + id, RepoTags: []string{}, RepoDigests: []string{}, Size: size,
		Created: cfg.Created.Time, DockerVersion: cfg.DockerVersion, Author: cfg.Author, Config: cfg.Config,
		Architecture: cfg.Architecture, Variant: cfg.Variant, Os: cfg.OS,
		GraphDriver: map[string]string{"Name": "overlay"}}
	seen := map[string]bool{}
	for _, n := range names {
		repo, tag := SplitName(n)
		if tag != "<none>" {
			j.RepoTags = append(j.RepoTags, n)
		}
		if strings.Contains(n, "@") {
			j.RepoDigests = append(j.RepoDigests, n)
			seen[repo] = true
		} else if digest != "" && !seen[repo] {
			j.RepoDigests = append(j.RepoDigests, repo+"@"+digest)
			seen[repo] = true
		}
	}
	sort.Strings(j.RepoDigests)
	j.RootFS.Type = "layers"
	j.RootFS.Layers = []string{}
	for _, d := range cfg.RootFS.DiffIDs {
		j.RootFS.Layers = append(j.RootFS.Layers, d.String())
	}
	return j
}

// SplitName splits a stored name into docker's REPOSITORY and TAG.
func SplitName(n string) (repo, tag string) {
	if i := strings.LastIndex(n, "@"); i >= 0 {
		return n[:i], "<none>"
	}
	if i := strings.LastIndex(n, ":"); i > strings.LastIndex(n, "/") {
		return n[:i], n[i+1:]
	}
	return n, "<none>"
}
