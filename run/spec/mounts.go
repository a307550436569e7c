package spec

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	units "github.com/docker/go-units"

	"github.com/denproject/den/run/pid1"
)

// volumeName is docker's pattern for a local volume's name.
var volumeName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// CheckVolumeName refuses what docker refuses as a volume name.
func CheckVolumeName(name string) error {
	if !volumeName.MatchString(name) {
		return fmt.Errorf("invalid volume name %q: use 2 or more of a-z A-Z 0-9 _ . - (a host path must be absolute)", name)
	}
	return nil
}

// ParseVolumeMount reads a -v that names a volume (NAME:/path[:opts]) or
// none (/path: an anonymous volume). isVolume is false for a host path
// (absolute, or relative starting with "."), which ParseVolume reads.
func ParseVolumeMount(v string) (vm VolumeMount, isVolume bool, err error) {
	parts := strings.Split(v, ":")
	if len(parts) == 1 && strings.HasPrefix(v, "/") {
		return VolumeMount{Dest: filepath.Clean(v), Anonymous: true}, true, nil
	}
	if len(parts) < 2 || parts[0] == "" || strings.HasPrefix(parts[0], "/") || strings.HasPrefix(parts[0], ".") {
		return VolumeMount{}, false, nil
	}
	if err := CheckVolumeName(parts[0]); err != nil {
		return VolumeMount{}, false, fmt.Errorf("invalid -v %q: %w", v, err)
	}
	if len(parts) == 3 {
		var opts []string
		for _, o := range strings.Split(parts[2], ",") {
			if o == "nocopy" {
				vm.NoCopy = true
				continue
			}
			opts = append(opts, o)
		}
		parts[2] = strings.Join(append(opts, "rw"), ",")
	}
	// The options and the destination read as a bind's do.
	b, err := ParseVolume("/" + strings.Join(parts, ":"))
	if err != nil {
		return VolumeMount{}, false, err
	}
	return VolumeMount{Name: parts[0], Dest: filepath.Clean(b.Dest), ReadOnly: b.ReadOnly, NoCopy: vm.NoCopy}, true, nil
}

// mountSpec is one --mount, as docker spells its fields.
type mountSpec struct {
	typ, source, target string
	readOnly, noCopy    bool
	tmpfs               []string
}

// ParseMount reads --mount type=bind|volume|tmpfs,source=,target=,...
func parseMount(s string) (mountSpec, error) {
	bad := func(why string) (mountSpec, error) {
		return mountSpec{}, fmt.Errorf("invalid --mount %q: %s", s, why)
	}
	fields, err := csv.NewReader(strings.NewReader(s)).Read()
	if err != nil {
		return bad(err.Error())
	}
	m := mountSpec{typ: "volume"}
	for _, f := range fields {
		k, v, hasValue := strings.Cut(f, "=")
		switch strings.ToLower(k) {
		case "type":
			m.typ = v
		case "source", "src":
			m.source = v
		case "target", "dst", "destination":
			m.target = v
		case "readonly", "ro":
			if m.readOnly, err = boolValue(v, hasValue); err != nil {
				return bad(k + " takes true or false")
			}
		case "volume-nocopy":
			if m.noCopy, err = boolValue(v, hasValue); err != nil {
				return bad(k + " takes true or false")
			}
		case "tmpfs-size":
			n, err := units.RAMInBytes(v)
			if err != nil || n <= 0 {
				return bad("tmpfs-size takes a size such as 64m")
			}
			m.tmpfs = append(m.tmpfs, "size="+strconv.FormatInt(n, 10))
		case "tmpfs-mode":
			mode, err := strconv.ParseUint(v, 8, 32)
			if err != nil || mode > 0o7777 {
				return bad("tmpfs-mode takes octal permissions such as 1777")
			}
			m.tmpfs = append(m.tmpfs, fmt.Sprintf("mode=%o", mode))
		case "bind-propagation", "consistency", "bind-nonrecursive", "volume-driver":
			// Accepted as docker does where they change nothing here.
		default:
			return bad("unknown field " + k + " (use type, source, target, readonly, tmpfs-size, tmpfs-mode)")
		}
	}
	if m.target == "" {
		return bad("a target is required (target=/path/in/container)")
	}
	if !filepath.IsAbs(m.target) {
		return bad("the target must be an absolute path")
	}
	m.target = filepath.Clean(m.target)
	return m, nil
}

func boolValue(v string, given bool) (bool, error) {
	if !given {
		return true, nil
	}
	return strconv.ParseBool(v)
}

// addMount reads one --mount into s.
func addMount(raw string, s *Spec) error {
	m, err := parseMount(raw)
	if err != nil {
		return err
	}
	switch m.typ {
	case "bind":
		if !filepath.IsAbs(m.source) {
			return fmt.Errorf("invalid --mount %q: a bind needs an absolute source=/host/path", raw)
		}
		if _, err := os.Stat(m.source); err != nil {
			return fmt.Errorf("--mount bind source %s does not exist: create it first, or fix the path", m.source)
		}
		s.Mounts = append(s.Mounts, pid1.Bind{Source: filepath.Clean(m.source), Dest: m.target, ReadOnly: m.readOnly})
	case "volume":
		vm := VolumeMount{Name: m.source, Dest: m.target, ReadOnly: m.readOnly, NoCopy: m.noCopy, Anonymous: m.source == ""}
		if !vm.Anonymous {
			if err := CheckVolumeName(m.source); err != nil {
				return fmt.Errorf("invalid --mount %q: %w", raw, err)
			}
		}
		s.Host.Volumes = append(s.Host.Volumes, vm)
	case "tmpfs":
		if m.source != "" {
			return fmt.Errorf("invalid --mount %q: a tmpfs takes no source", raw)
		}
		if m.readOnly {
			m.tmpfs = append(m.tmpfs, "ro")
		}
		s.Host.Tmpfs = append(s.Host.Tmpfs, pid1.Tmpfs{Dest: m.target, Options: strings.Join(m.tmpfs, ",")})
	default:
		return fmt.Errorf("invalid --mount %q: type must be bind, volume or tmpfs", raw)
	}
	return nil
}
