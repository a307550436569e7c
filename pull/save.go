package pull

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Named is an image to save with the names it goes by (full references
// as den stores them; none for an image known by id only).
type Named struct {
	Names []string
	Image v1.Image
}

// SaveDocker writes a `docker save` archive (manifest.json, config and
// layer blobs), which docker, podman and skopeo load.
func SaveDocker(w io.Writer, imgs []Named) error {
	m := map[name.Reference]v1.Image{}
	for _, n := range imgs {
		for _, s := range n.Names {
			t, err := name.NewTag(s)
			if err != nil {
				continue // a digest name: the archive lists tags only
			}
			m[t] = n.Image
		}
		if len(n.Names) == 0 {
			d, err := n.Image.Digest()
			if err != nil {
				return err
			}
			// No tag: the image goes in without RepoTags, as docker saves an id.
			ref, err := name.NewDigest("den.invalid/unnamed@" + d.String())
			if err != nil {
				return err
			}
			m[ref] = n.Image
		}
	}
	return tarball.MultiRefWrite(m, w)
}

// SaveOCI writes an OCI image layout as a tar (an oci-archive), each image
// annotated with its name.
func SaveOCI(w io.Writer, imgs []Named) error {
	dir, err := os.MkdirTemp("", "den-save-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	for _, n := range imgs {
		names := n.Names
		if len(names) == 0 {
			names = []string{""}
		}
		for _, s := range names {
			ann := map[string]string{}
			if s != "" {
				ann["io.containerd.image.name"] = s
				if r, err := name.NewTag(s); err == nil {
					ann["org.opencontainers.image.ref.name"] = r.TagStr()
				}
			}
			if err := p.AppendImage(n.Image, layout.WithAnnotations(ann)); err != nil {
				return err
			}
		}
	}
	return tarDir(w, dir)
}

// tarDir writes dir's regular files and directories as a tar.
func tarDir(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		h.Name, h.Uid, h.Gid, h.Uname, h.Gname = filepath.ToSlash(rel), 0, 0, "", ""
		if d.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return fmt.Errorf("writing the archive: %w", err)
	}
	return tw.Close()
}
