package pull

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// CheckImportTar refuses a filesystem tar with an entry that climbs out
// of the root ("../x", "a/../../x") or a hard link that does.
func CheckImportTar(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := decompress(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(r)
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if n == 0 {
				return fmt.Errorf("the archive is empty or not a tar")
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("not a tar archive: %v", err)
		}
		if climbs(h.Name) || h.Typeflag == tar.TypeLink && climbs(h.Linkname) {
			return fmt.Errorf("entry %q reaches outside the root (..); refusing the archive", h.Name)
		}
	}
}

func climbs(n string) bool {
	c := path.Clean(strings.TrimLeft(n, "/"))
	return c == ".." || strings.HasPrefix(c, "../")
}

// decompress lets import take a gzipped tar as docker does.
func decompress(f *os.File) (io.Reader, error) {
	var magic [2]byte
	if n, _ := f.Read(magic[:]); n == 2 && magic == [2]byte{0x1f, 0x8b} {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		l, err := tarball.LayerFromFile(f.Name())
		if err != nil {
			return nil, err
		}
		return l.Uncompressed()
	}
	_, err := f.Seek(0, io.SeekStart)
	return f, err
}

// ImportArchive makes a one-layer image from a filesystem tar (plain or
// gzipped) with the --change instructions applied, and writes it as a
// docker archive at out, ready for Load.
func ImportArchive(src, out, ref string, changes []string) error {
	cfg := v1.Config{}
	for _, ch := range changes {
		if err := applyChange(&cfg, ch); err != nil {
			return err
		}
	}
	if !slices.ContainsFunc(cfg.Env, func(e string) bool { return strings.HasPrefix(e, "PATH=") }) {
		cfg.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, cfg.Env...)
	}
	layer, err := tarball.LayerFromFile(src, tarball.WithMediaType(types.DockerLayer))
	if err != nil {
		return err
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: time.Now().UTC()}, CreatedBy: "den import", Comment: "Imported from " + src}})
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.Config, cf.Created = cfg, v1.Time{Time: time.Now().UTC()}
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	var r name.Reference
	if ref != "" {
		if r, err = name.NewTag(ref); err != nil {
			return fmt.Errorf("invalid reference %q: %v", ref, err)
		}
	} else {
		d, err := img.Digest()
		if err != nil {
			return err
		}
		r, _ = name.NewDigest("den.invalid/imported@" + d.String())
	}
	return tarball.MultiRefWriteToFile(out, map[name.Reference]v1.Image{r: img})
}

// applyChange is one Dockerfile instruction of --change, those docker's
// import takes that den can: CMD, ENTRYPOINT (JSON or shell form), ENV
// and LABEL (KEY=VALUE pairs, or the old KEY VALUE), EXPOSE, VOLUME,
// WORKDIR, USER.
func applyChange(c *v1.Config, ch string) error {
	instr, arg, _ := strings.Cut(strings.TrimSpace(ch), " ")
	arg = strings.TrimSpace(arg)
	switch strings.ToUpper(instr) {
	case "CMD":
		c.Cmd = command(arg)
	case "ENTRYPOINT":
		c.Entrypoint = command(arg)
	case "ENV", "LABEL":
		pairs, err := keyValues(arg)
		if err != nil {
			return fmt.Errorf("--change %q: %w", ch, err)
		}
		for _, kv := range pairs {
			if strings.ToUpper(instr) == "ENV" {
				c.Env = setEnv(c.Env, kv[0], kv[1])
				continue
			}
			if c.Labels == nil {
				c.Labels = map[string]string{}
			}
			c.Labels[kv[0]] = kv[1]
		}
	case "EXPOSE":
		for _, p := range strings.Fields(arg) {
			port, proto, _ := strings.Cut(p, "/")
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || proto != "" && proto != "tcp" && proto != "udp" && proto != "sctp" {
				return fmt.Errorf("--change %q: EXPOSE takes PORT or PORT/PROTO (tcp, udp, sctp)", ch)
			}
			if proto == "" {
				proto = "tcp"
			}
			if c.ExposedPorts == nil {
				c.ExposedPorts = map[string]struct{}{}
			}
			c.ExposedPorts[port+"/"+proto] = struct{}{}
		}
	case "VOLUME":
		var dirs []string
		if strings.HasPrefix(arg, "[") {
			if err := json.Unmarshal([]byte(arg), &dirs); err != nil {
				return fmt.Errorf("--change %q: VOLUME's JSON form: %w", ch, err)
			}
		} else {
			dirs = strings.Fields(arg)
		}
		for _, d := range dirs {
			if !path.IsAbs(d) {
				return fmt.Errorf("--change %q: VOLUME needs absolute paths", ch)
			}
			if c.Volumes == nil {
				c.Volumes = map[string]struct{}{}
			}
			c.Volumes[d] = struct{}{}
		}
	case "WORKDIR":
		if !path.IsAbs(arg) {
			return fmt.Errorf("--change %q: WORKDIR needs an absolute path", ch)
		}
		c.WorkingDir = arg
	case "USER":
		c.User = arg
	default:
		return fmt.Errorf("--change %q: den import takes CMD, ENTRYPOINT, ENV, LABEL, EXPOSE, VOLUME, WORKDIR and USER", ch)
	}
	return nil
}

// keyValues reads ENV's and LABEL's argument: KEY=VALUE pairs, a value
// in double quotes when it holds spaces; or, with no = in the first
// word, the old form KEY VALUE, the rest of the line the value.
func keyValues(arg string) ([][2]string, error) {
	first, rest, _ := strings.Cut(arg, " ")
	if first != "" && !strings.Contains(first, "=") {
		return [][2]string{{first, unquote(strings.TrimSpace(rest))}}, nil
	}
	var out [][2]string
	for _, w := range words(arg) {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q: use KEY=VALUE", w)
		}
		out = append(out, [2]string{k, v})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("use KEY=VALUE")
	}
	return out, nil
}

// words splits at blanks outside double quotes, which it removes; a
// backslash keeps the next character.
func words(s string) []string {
	var out []string
	var b strings.Builder
	in, quoted, escaped := false, false, false
	for _, r := range s {
		switch {
		case escaped:
			b.WriteRune(r)
			escaped, in = false, true
		case r == '\\':
			escaped = true
		case r == '"':
			quoted, in = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if in {
				out = append(out, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, b.String())
	}
	return out
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// setEnv sets k in env, in place when it is there.
func setEnv(env []string, k, v string) []string {
	for i, e := range env {
		if strings.HasPrefix(e, k+"=") {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}

// command reads the JSON form ["a","b"], else the shell form.
func command(arg string) []string {
	var v []string
	if strings.HasPrefix(arg, "[") && json.Unmarshal([]byte(arg), &v) == nil {
		return v
	}
	return []string{"/bin/sh", "-c", arg}
}
