package spec

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	units "github.com/docker/go-units"

	"github.com/denproject/den/cgroups"
	"github.com/denproject/den/run/pid1"
)

// Host is what --userns, volumes, --mount and the resource flags ask of
// den when it starts the container.
type Host struct {
	// KeepID runs the container in a user namespace of its own where
	// the user's uid and gid are their own (--userns=keep-id).
	KeepID  bool          `json:"keepID,omitempty"`
	Volumes []VolumeMount `json:"volumes,omitempty"`
	// Tmpfs are --mount type=tmpfs mounts.
	Tmpfs    []pid1.Tmpfs      `json:"tmpfs,omitempty"`
	ShmSize  int64             `json:"shmSize,omitempty"`
	Ulimits  []pid1.Rlimit     `json:"ulimits,omitempty"`
	GroupAdd []string          `json:"groupAdd,omitempty"`
	Devices  []pid1.Bind       `json:"devices,omitempty"`
	Sysctls  map[string]string `json:"sysctls,omitempty"`
	Limits   cgroups.Limits    `json:"limits,omitzero"`
}

// VolumeMount is a named or anonymous volume mounted at Dest; den
// creates it on first use, filled from the image (unless NoCopy).
type VolumeMount struct {
	Name      string `json:"name"`
	Dest      string `json:"dest"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
	Anonymous bool   `json:"anonymous,omitempty"`
	NoCopy    bool   `json:"noCopy,omitempty"`
}

// buildHost reads issue 12's flags into s.Host. It runs before Build
// reads -v: the -v entries that name a volume (or none) are taken out of
// f.Volumes here, leaving Build the host paths.
func buildHost(f *Flags, s *Spec) error {
	h := &s.Host
	switch f.UserNS {
	case "", "host":
	case "keep-id":
		h.KeepID = true
	default:
		return fmt.Errorf("invalid --userns %q: den knows keep-id (your uid and gid inside)", f.UserNS)
	}
	binds := f.Volumes[:0:0]
	for _, v := range f.Volumes {
		vm, isVolume, err := ParseVolumeMount(v)
		if err != nil {
			return err
		}
		if !isVolume {
			binds = append(binds, v)
			continue
		}
		h.Volumes = append(h.Volumes, vm)
	}
	f.Volumes = binds
	for _, m := range f.Mount {
		if err := addMount(m, s); err != nil {
			return err
		}
	}
	for i := range h.Volumes {
		if h.Volumes[i].Anonymous {
			h.Volumes[i].Name = AnonymousName()
		}
	}
	if f.ShmSize != "" {
		n, err := units.RAMInBytes(f.ShmSize)
		if err != nil || n <= 0 {
			return fmt.Errorf("invalid --shm-size %q: use a size such as 64m or 1g", f.ShmSize)
		}
		h.ShmSize = n
	}
	return buildResources(f, s)
}

// AnonymousName is a new anonymous volume's name: 64 hex digits, as
// docker's.
func AnonymousName() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
