// Package cptar streams files as tar for den cp: what docker cp writes, and
// reading it back into a directory without leaving it.
package cptar

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

// WriteTree writes p as a tar stream whose first entry is top and whose
// other entries are under top/. Symbolic links are stored as links
// (follow: p itself is followed, as cp -L does); nothing is read through
// a link.
func WriteTree(w io.Writer, p, top string, follow bool) error {
	tw := tar.NewWriter(w)
	fi, err := os.Lstat(p)
	if err == nil && follow && fi.Mode()&os.ModeSymlink != 0 {
		// What is read is the link's target, under the link's name: the
		// file is opened without following links.
		if p, err = filepath.EvalSymlinks(p); err == nil {
			fi, err = os.Lstat(p)
		}
	}
	if err != nil {
		return err
	}
	links := map[uint64]string{}
	if err := writeEntry(tw, p, top, fi, links); err != nil {
		return err
	}
	return tw.Close()
}

func writeEntry(tw *tar.Writer, p, name string, fi os.FileInfo, links map[uint64]string) error {
	target := ""
	if fi.Mode()&os.ModeSymlink != 0 {
		var err error
		if target, err = os.Readlink(p); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(fi, target)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	hdr.Name, hdr.Uname, hdr.Gname = name, "", ""
	if fi.IsDir() {
		hdr.Name += "/"
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	if st != nil && fi.Mode().IsRegular() && st.Nlink > 1 {
		if first, ok := links[st.Ino]; ok {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			return tw.WriteHeader(hdr)
		}
		links[st.Ino] = name
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	switch {
	case fi.Mode().IsRegular():
		return copyFileInto(tw, p, hdr.Size)
	case fi.IsDir() && !kernelFS(p):
		ents, err := os.ReadDir(p)
		if err != nil {
			return err
		}
		for _, e := range ents {
			cfi, err := os.Lstat(filepath.Join(p, e.Name()))
			if err != nil {
				return err
			}
			if err := writeEntry(tw, filepath.Join(p, e.Name()), name+"/"+e.Name(), cfi, links); err != nil {
				return err
			}
		}
	}
	return nil
}

// kernelFS reports a running container's /proc, /sys and the like: their
// directory is copied, not what the kernel shows in it.
func kernelFS(p string) bool {
	var st unix.Statfs_t
	if unix.Statfs(p, &st) != nil {
		return false
	}
	switch st.Type {
	case unix.PROC_SUPER_MAGIC, unix.SYSFS_MAGIC, unix.DEVPTS_SUPER_MAGIC, unix.CGROUP_SUPER_MAGIC,
		unix.CGROUP2_SUPER_MAGIC, unix.SECURITYFS_MAGIC, unix.DEBUGFS_MAGIC:
		return true
	}
	return false
}

// copyFileInto writes size bytes of the file: a file that shrank meanwhile
// is padded, one that grew is cut, so the stream stays whole.
func copyFileInto(w io.Writer, p string, size int64) error {
	f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.CopyN(w, f, size)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	_, err = io.CopyN(w, zeros{}, size-n)
	return err
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// Opts say where a tar stream lands: its first component becomes
// dir/name, or with name "" its entries go straight into dir (the
// contents of a directory copied into an existing one).
type Opts struct {
	Dir, Name string
	// Raw extracts every entry as named, into Dir (den cp - CTR:DIR).
	Raw bool
	// Chown keeps the entries' owners (cp -a); else files belong to
	// whoever extracts: the user on the host, root in the container.
	Chown bool
}

// Extract unpacks r. Every entry's parent is resolved inside the target
// (securejoin: a link in the stream can point anywhere, it is never
// followed out of it) and must be a directory; an entry's own name is
// replaced, never written through.
func Extract(r io.Reader, o Opts) error {
	tr := tar.NewReader(r)
	root := o.Dir
	if o.Name != "" {
		root = filepath.Join(o.Dir, o.Name)
	}
	type dirTime struct {
		p string
		t time.Time
	}
	var dirs []dirTime
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the tar stream: %w", err)
		}
		rel, err := EntryPath(hdr.Name, o.Raw)
		if err != nil {
			return err
		}
		if rel == "." && (o.Name == "" || o.Raw) {
			continue // the directory itself, which exists
		}
		p, err := entryTarget(o.Dir, root, rel)
		if err != nil {
			return err
		}
		if err := extractEntry(tr, hdr, p, root, o); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeDir {
			dirs = append(dirs, dirTime{p, hdr.ModTime})
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = lutimes(dirs[i].p, dirs[i].t)
	}
	return nil
}

// EntryPath is an entry's path below the stream's first component (or
// its whole path, raw); names that climb out are refused.
func EntryPath(name string, raw bool) (string, error) {
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("tar entry %q climbs out of the destination", name)
		}
	}
	if !raw {
		_, name, _ = strings.Cut(name, "/") // the first component, whatever its spelling
	}
	clean := strings.TrimPrefix(path.Clean("/"+name), "/")
	if clean == "" {
		return ".", nil
	}
	return clean, nil
}

// entryTarget is where entry rel goes: its parent resolved inside root,
// made when missing (a stream need not list every directory). What
// SecureJoin leaves to be made holds no link; in the container a link
// planted meanwhile still resolves inside its root (the helper is
// chrooted), and on the host nothing plants one.
func entryTarget(dir, root, rel string) (string, error) {
	if rel == "." {
		return root, nil
	}
	parent, err := securejoin.SecureJoin(root, filepath.Dir(rel))
	if err != nil {
		return "", err
	}
	if _, err := os.Lstat(parent); errors.Is(err, os.ErrNotExist) {
		_ = os.MkdirAll(parent, 0o755)
	}
	if fi, err := os.Lstat(parent); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%s: not a directory, cannot put %s in it", strings.TrimPrefix(parent, dir), filepath.Base(rel))
	}
	return filepath.Join(parent, filepath.Base(rel)), nil
}

func extractEntry(tr *tar.Reader, hdr *tar.Header, p, root string, o Opts) error {
	mode := os.FileMode(hdr.Mode) & os.ModePerm
	old, statErr := os.Lstat(p)
	if statErr == nil && !(hdr.Typeflag == tar.TypeDir && old.IsDir()) {
		if old.IsDir() {
			return fmt.Errorf("cannot overwrite directory %s with a non-directory", p)
		}
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if statErr != nil || !old.IsDir() {
			if err := os.Mkdir(p, 0o700); err != nil {
				return err
			}
		}
	case tar.TypeReg, tar.TypeRegA:
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, tr)
		if err == nil {
			err = f.Chmod(mode | modeBits(hdr.Mode))
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
	case tar.TypeSymlink:
		if err := os.Symlink(hdr.Linkname, p); err != nil {
			return err
		}
	case tar.TypeLink:
		rel, err := EntryPath(hdr.Linkname, o.Raw)
		if err != nil {
			return err
		}
		target, err := securejoin.SecureJoin(root, rel)
		if err != nil {
			return err
		}
		if err := os.Link(target, p); err != nil {
			return err
		}
		return nil
	case tar.TypeFifo:
		if err := unix.Mkfifo(p, 0o600); err != nil {
			return err
		}
	default:
		return nil // devices cannot be made in a user namespace
	}
	if hdr.Typeflag != tar.TypeSymlink && hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeRegA {
		if err := os.Chmod(p, mode|modeBits(hdr.Mode)); err != nil {
			return err
		}
	}
	if o.Chown {
		if err := os.Lchown(p, hdr.Uid, hdr.Gid); err != nil {
			return err
		}
	}
	return lutimes(p, hdr.ModTime)
}

// modeBits are the setuid, setgid and sticky bits of a tar mode.
func modeBits(m int64) os.FileMode {
	var out os.FileMode
	if m&0o4000 != 0 {
		out |= os.ModeSetuid
	}
	if m&0o2000 != 0 {
		out |= os.ModeSetgid
	}
	if m&0o1000 != 0 {
		out |= os.ModeSticky
	}
	return out
}

func lutimes(p string, t time.Time) error {
	ts := unix.NsecToTimespec(t.UnixNano())
	return unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
}
