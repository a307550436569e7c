package overlay

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"path"
	"strings"
	"testing"
)

// stayInside checks what the filter let through, in the order the untar
// would see it: every path is relative and clean, none climbs out with
// "..", nothing is written or hard-linked through a symlink this layer
// planted, and hard links point at files written earlier in the layer.
func stayInside(out []byte) error {
	tr := tar.NewReader(bytes.NewReader(out))
	symlinks, files := map[string]bool{}, map[string]bool{}
	through := func(p string) string {
		for dir := path.Dir(p); dir != "." && dir != "/"; dir = path.Dir(dir) {
			if symlinks[dir] {
				return dir
			}
		}
		return ""
	}
	inside := func(p string) bool {
		return p != "" && p == path.Clean(p) && !path.IsAbs(p) && p != ".." && !strings.HasPrefix(p, "../")
	}
	for {
		h, err := tr.Next()
		if err != nil {
			return nil // end, or the cut-off tail of a refused layer
		}
		if !inside(h.Name) {
			return fmt.Errorf("entry %q is not a clean path inside the root", h.Name)
		}
		if s := through(h.Name); s != "" {
			return fmt.Errorf("entry %q is written through the symlink %q", h.Name, s)
		}
		if b := path.Base(h.Name); strings.HasPrefix(b, ".wh.") && b != ".wh..wh..opq" {
			if t := strings.TrimPrefix(b, ".wh."); t == "" || t == "." || t == ".." {
				return fmt.Errorf("whiteout %q names nothing inside the root", h.Name)
			}
		}
		switch h.Typeflag {
		case tar.TypeLink:
			if !inside(h.Linkname) || !files[h.Linkname] || through(h.Linkname) != "" {
				return fmt.Errorf("hard link %q -> %q leaves the layer's own files", h.Name, h.Linkname)
			}
		case tar.TypeChar, tar.TypeBlock:
			return fmt.Errorf("device node %q was kept", h.Name)
		}
		delete(symlinks, h.Name)
		files[h.Name] = h.Typeflag != tar.TypeDir
		if h.Typeflag == tar.TypeSymlink {
			symlinks[h.Name] = true
		}
	}
}

func filterProperty(t *testing.T, stream []byte) {
	var out bytes.Buffer
	f := newFilter(65536, 1<<20, func(string) {})
	_ = f.copy(&out, bytes.NewReader(stream)) // refusals are fine; what passed must be safe
	if err := stayInside(out.Bytes()); err != nil {
		t.Fatal(err)
	}
}

// FuzzFilterTar feeds arbitrary byte streams as layer tars.
func FuzzFilterTar(f *testing.F) {
	for _, spec := range entrySeeds {
		f.Add(tarFromSpec(spec))
	}
	f.Add([]byte("not a tar at all"))
	f.Fuzz(filterProperty)
}

// FuzzFilterEntries builds well-formed tars from a line per entry,
// "TYPE NAME [LINK]" with TYPE one of f d l h c, so the fuzzer spends its
// time on names and orderings rather than on tar checksums.
func FuzzFilterEntries(f *testing.F) {
	for _, spec := range entrySeeds {
		f.Add(spec)
	}
	f.Fuzz(func(t *testing.T, spec string) { filterProperty(t, tarFromSpec(spec)) })
}

var entrySeeds = []string{
	"d ./\nf bin/busybox\nl bin/sh /bin/busybox\nh bin/ls bin/busybox\nf dir/.wh..wh..opq\nf dir/.wh.old",
	"f ../etc/passwd",
	"f a/../../x",
	"f /etc/passwd",
	"h l ../../etc/shadow",
	"l evil /etc\nf evil/passwd",
	"l evil /etc\nd evil\nf evil/passwd",
	"d a\nf a/f\nl a /etc\nh l a/f",
	"l a .\nl a/b ..\nf a/b/x",
	"f dir/.wh...",
	"f .wh.",
	"c dev/null",
	"l ./x/ /\nf x//y",
}

func tarFromSpec(spec string) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, line := range strings.Split(spec, "\n") {
		fields := strings.SplitN(line, " ", 3)
		if len(fields) < 2 || fields[1] == "" {
			continue
		}
		h := &tar.Header{Name: fields[1], Mode: 0o644, Format: tar.FormatPAX}
		if len(fields) == 3 {
			h.Linkname = fields[2]
		}
		switch fields[0] {
		case "d":
			h.Typeflag = tar.TypeDir
		case "l":
			h.Typeflag = tar.TypeSymlink
		case "h":
			h.Typeflag = tar.TypeLink
		case "c":
			h.Typeflag = tar.TypeChar
		default:
			h.Typeflag, h.Size = tar.TypeReg, 1
		}
		if tw.WriteHeader(h) != nil {
			return b.Bytes()
		}
		if h.Size > 0 {
			io.WriteString(tw, "x")
		}
	}
	tw.Close()
	return b.Bytes()
}
