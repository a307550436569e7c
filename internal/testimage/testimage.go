// Package testimage builds small real images for tests and the demo, from
// the host's busybox-static binary: no network, no registry of the world.
package testimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// BusyboxPath is where Debian's busybox-static puts the binary.
var BusyboxPath = "/bin/busybox"

// Entry is one file of a layer.
type Entry struct {
	Name     string
	Type     byte // tar.TypeReg by default
	Body     string
	Mode     int64
	UID, GID int
	Link     string // symlink or hard link target
}

// Layer builds a gzip layer from entries, in order.
func Layer(entries []Entry) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Typeflag: e.Type, Mode: e.Mode, Uid: e.UID, Gid: e.GID, Linkname: e.Link, ModTime: time.Unix(1700000000, 0)}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if h.Typeflag == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.Body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.Body)); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (ioReadCloser, error) { return nopCloser(b), nil }, tarball.WithCompressedCaching)
}

// BusyboxEntries is a minimal root filesystem: busybox with its applets
// as symlinks, passwd and group with root and a uid-1000 user.
func BusyboxEntries() ([]Entry, error) {
	bin, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return nil, fmt.Errorf("reading %s (apt-get install busybox-static): %w", BusyboxPath, err)
	}
	out, err := exec.Command(BusyboxPath, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("listing busybox applets: %w", err)
	}
	es := []Entry{
		{Name: "bin/", Type: tar.TypeDir},
		{Name: "bin/busybox", Body: string(bin), Mode: 0o755},
	}
	for _, a := range strings.Fields(string(out)) {
		if a == "busybox" || strings.Contains(a, "/") {
			continue
		}
		es = append(es, Entry{Name: "bin/" + a, Type: tar.TypeSymlink, Link: "busybox", Mode: 0o777})
	}
	es = append(es,
		Entry{Name: "etc/", Type: tar.TypeDir},
		Entry{Name: "etc/passwd", Body: "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"},
		Entry{Name: "etc/group", Body: "root:x:0:\ntty:x:5:\nuser:x:1000:\nextra:x:2000:user\nnogroup:x:65534:\n"},
		Entry{Name: "root/", Type: tar.TypeDir, Mode: 0o700},
		Entry{Name: "home/", Type: tar.TypeDir},
		Entry{Name: "home/user/", Type: tar.TypeDir, UID: 1000, GID: 1000},
		Entry{Name: "tmp/", Type: tar.TypeDir, Mode: 0o1777},
		Entry{Name: "www/", Type: tar.TypeDir},
		Entry{Name: "www/index.html", Body: "hello from den\n"},
		Entry{Name: "usr/", Type: tar.TypeDir},
		Entry{Name: "usr/bin/", Type: tar.TypeDir},
		Entry{Name: "usr/bin/env", Type: tar.TypeSymlink, Link: "/bin/busybox", Mode: 0o777},
	)
	return es, nil
}

// Image stacks layers under a config with the given command.
func Image(cmd []string, layers ...v1.Layer) (v1.Image, error) {
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		return nil, err
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", goarch()
	cf.Config.Cmd = cmd
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cf.Created = v1.Time{Time: time.Unix(1700000000, 0)}
	return mutate.ConfigFile(img, cf)
}

// Busybox is the one-layer busybox image, running sh by default.
func Busybox() (v1.Image, error) {
	es, err := BusyboxEntries()
	if err != nil {
		return nil, err
	}
	l, err := Layer(es)
	if err != nil {
		return nil, err
	}
	return Image([]string{"sh"}, l)
}

// MultiLayer is busybox plus layers that exercise the overlay format: a
// file deleted by a whiteout, a directory replaced (opaque), a file owned
// by uid 1000 and a setuid file.
func MultiLayer() (v1.Image, error) {
	es, err := BusyboxEntries()
	if err != nil {
		return nil, err
	}
	base, err := Layer(es)
	if err != nil {
		return nil, err
	}
	l2, err := Layer([]Entry{
		{Name: "data/", Type: tar.TypeDir},
		{Name: "data/gone.txt", Body: "deleted later\n"},
		{Name: "data/kept.txt", Body: "kept\n"},
		{Name: "opaque/", Type: tar.TypeDir},
		{Name: "opaque/old.txt", Body: "old\n"},
		{Name: "owned/", Type: tar.TypeDir},
		{Name: "owned/by1000.txt", Body: "mine\n", UID: 1000, GID: 1000},
		{Name: "bin/setuid-file", Body: "#!/bin/sh\n", Mode: 0o4755},
	})
	if err != nil {
		return nil, err
	}
	l3, err := Layer([]Entry{
		{Name: "data/.wh.gone.txt"},
		{Name: "opaque/", Type: tar.TypeDir},
		{Name: "opaque/.wh..wh..opq"},
		{Name: "opaque/new.txt", Body: "new\n"},
	})
	if err != nil {
		return nil, err
	}
	return Image([]string{"sh"}, base, l2, l3)
}
