package run

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.podman.io/storage/pkg/archive"
	"golang.org/x/term"

	"github.com/denproject/den/pull"
)

func init() { register("export", (*child).export) }

// Import is `den import FILE|- [REF]`: a one-layer image from a
// filesystem tar. Owners in the tar are the container's own uids; the
// store maps them through the user namespace like any layer's.
func Import(g *Global, src, ref string, changes []string) error {
	if src == "-" {
		tmp, err := stdinToFile()
		if err != nil {
			return err
		}
		defer os.Remove(tmp)
		src = tmp
	}
	if ref != "" {
		r, err := pull.ParseRef(ref, false)
		if err != nil {
			return err
		}
		if r.Digest() != "" {
			return fmt.Errorf("%s: an imported image is named by a tag, not a digest", ref)
		}
		ref = r.String()
	}
	if err := pull.CheckImportTar(src); err != nil {
		return fmt.Errorf("den import %s: %w", src, err)
	}
	dir, err := os.MkdirTemp("", "den-import-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "image.tar")
	if err := pull.ImportArchive(src, out, ref, changes); err != nil {
		return fmt.Errorf("den import %s: %w", src, err)
	}
	return Load(g, out, PullOptions{Quiet: true, IDOnly: true})
}

type exportArgs struct {
	Container string `json:"container"`
	Output    string `json:"output,omitempty"`
}

// Export is `den export CONTAINER`: its filesystem as a tar, owners as
// the container sees them.
func Export(g *Global, container, output string) error {
	if output == "" && term.IsTerminal(int(os.Stdout.Fd())) {
		return fmt.Errorf("den export: refusing to write an archive to a terminal; use -o FILE or redirect stdout")
	}
	if output != "" {
		abs, err := filepath.Abs(output)
		if err != nil {
			return err
		}
		output = abs
	}
	return g.call("export", exportArgs{container, output}, nil, hooks{})
}

func (c *child) export(args json.RawMessage) (any, error) {
	a, err := decode[exportArgs](args)
	if err != nil {
		return nil, err
	}
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	ct, err := st.FindContainer(a.Container)
	if err != nil {
		return nil, fmt.Errorf("%s: no such container (den ps -a lists them)", a.Container)
	}
	root, err := st.Mount(ct.ID)
	if err != nil {
		return nil, err
	}
	defer st.Unmount(ct.ID)
	var w io.Writer = os.Stdout
	if a.Output != "" {
		f, err := os.OpenFile(a.Output, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, fmt.Errorf("den export: %w", err)
		}
		defer f.Close()
		w = f
	}
	rc, err := archive.TarWithOptions(root, &archive.TarOptions{Compression: archive.Uncompressed})
	if err != nil {
		return nil, fmt.Errorf("den export %s: %w", a.Container, err)
	}
	defer rc.Close()
	if _, err := io.Copy(w, rc); err != nil {
		return nil, fmt.Errorf("den export %s: %w", a.Container, err)
	}
	return nil, nil
}
