package overlay

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// EntryError names the layer entry that was refused and why.
type EntryError struct {
	Entry string
	Why   string
}

func (e *EntryError) Error() string { return fmt.Sprintf("entry %q: %s", e.Entry, e.Why) }

const whiteoutPrefix = ".wh."

// filter copies a layer tar from r to w, refusing entries that could reach
// outside the layer directory or that the namespace cannot own. The untar
// that follows runs chrooted as well; this check gives a clear message and
// never lets a half-trusted stream reach it.
type filter struct {
	ids      uint32 // uids 0..ids-1 exist; 0 means any (owners squashed)
	maxSize  int64
	warn     func(string)
	size     int64
	uids     map[uint32]struct{}
	gids     map[uint32]struct{}
	symlinks map[string]bool // paths made symlinks by this layer
	present  map[string]bool // non-directory entries of this layer
}

func newFilter(ids uint32, maxSize int64, warn func(string)) *filter {
	return &filter{ids: ids, maxSize: maxSize, warn: warn,
		uids: map[uint32]struct{}{}, gids: map[uint32]struct{}{}, symlinks: map[string]bool{}, present: map[string]bool{}}
}

func (f *filter) copy(w io.Writer, r io.Reader) error {
	tr := tar.NewReader(r)
	tw := tar.NewWriter(w)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading layer tar: %w", err)
		}
		keep, err := f.check(hdr)
		if err != nil {
			return err
		}
		if !keep {
			continue
		}
		hdr.Format = tar.FormatUnknown // let the writer pick one that fits
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
		var body io.Reader = tr
		if f.maxSize > 0 {
			// Stop at the limit, not after the entry: a sparse entry can
			// declare terabytes of holes in a few bytes of tar.
			body = io.LimitReader(tr, f.maxSize-f.size+1)
		}
		n, err := io.Copy(tw, body)
		f.size += n
		if f.maxSize > 0 && f.size > f.maxSize {
			return fmt.Errorf("layer is larger than the %d byte limit (--max-layer-size)", f.maxSize)
		}
		if err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	// Read the compressor's trailer too, so its checksum is verified.
	_, err := io.Copy(io.Discard, r)
	return err
}

// check returns whether to keep the entry, or why the layer is refused.
func (f *filter) check(hdr *tar.Header) (bool, error) {
	name, err := cleanName(hdr.Name)
	if err != nil {
		return false, &EntryError{hdr.Name, err.Error()}
	}
	hdr.Name = name
	if dir := f.through(name); dir != "" {
		return false, &EntryError{hdr.Name, fmt.Sprintf("is written through the symlink %q planted by this layer", dir)}
	}
	base := path.Base(name)
	if strings.HasPrefix(base, whiteoutPrefix) && base != whiteoutPrefix+whiteoutPrefix+".opq" {
		target := strings.TrimPrefix(base, whiteoutPrefix)
		if target == "" || target == "." || target == ".." {
			return false, &EntryError{hdr.Name, "whiteout names no file inside the layer"}
		}
	}
	switch hdr.Typeflag {
	case tar.TypeLink:
		target, err := cleanName(hdr.Linkname)
		if err != nil {
			return false, &EntryError{hdr.Name, "hard link " + err.Error()}
		}
		hdr.Linkname = target
		// The link's target may have been written before one of its
		// directories was replaced by a symlink.
		if dir := f.through(target); dir != "" {
			return false, &EntryError{hdr.Name, fmt.Sprintf("is a hard link through the symlink %q planted by this layer", dir)}
		}
		// Each layer unpacks into a directory of its own: a link to a
		// file of a lower layer has nothing to point at.
		if !f.present[target] {
			return false, &EntryError{hdr.Name, fmt.Sprintf("is a hard link to %q, which is not earlier in the same layer (hard links cannot cross layers)", target)}
		}
	case tar.TypeChar, tar.TypeBlock:
		// Device nodes cannot be created in a user namespace; podman skips
		// them too. The runtime /dev is a tmpfs with host devices bound in.
		f.warn(fmt.Sprintf("skipping device node %q: device nodes cannot be created rootless", name))
		return false, nil
	}
	delete(f.symlinks, name) // a later entry may replace the symlink
	f.present[name] = hdr.Typeflag != tar.TypeDir
	if hdr.Typeflag == tar.TypeSymlink {
		f.symlinks[name] = true
	}
	if f.ids > 0 {
		for _, id := range [...]struct {
			what string
			v    int
		}{{"uid", hdr.Uid}, {"gid", hdr.Gid}} {
			if id.v < 0 || uint64(id.v) >= uint64(f.ids) {
				return false, &EntryError{hdr.Name, fmt.Sprintf("is owned by %s %d, but your user namespace maps only %ss 0-%d; give your user a range of at least 65536 ids in /etc/subuid and /etc/subgid", id.what, id.v, id.what, f.ids-1)}
			}
		}
	}
	f.uids[uint32(hdr.Uid)] = struct{}{}
	f.gids[uint32(hdr.Gid)] = struct{}{}
	return true, nil
}

// through returns the symlink planted by this layer that a path's
// directories pass through, or "".
func (f *filter) through(name string) string {
	for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
		if f.symlinks[dir] {
			return dir
		}
	}
	return ""
}

// cleanName makes an entry name relative to the layer root, refusing names
// that are absolute or climb out of it with "..".
func cleanName(n string) (string, error) {
	if strings.HasPrefix(n, "/") {
		return "", fmt.Errorf("has an absolute path")
	}
	c := path.Clean(n)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("climbs out of the layer with '..'")
	}
	return c, nil
}

func keys(m map[uint32]struct{}) []uint32 {
	out := make([]uint32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
