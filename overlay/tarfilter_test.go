package overlay

import (
	"archive/tar"
	"bytes"
	"errors"
	"strings"
	"testing"
)

func tarOf(t *testing.T, hs ...*tar.Header) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range hs {
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
		}
	}
	tw.Close()
	return b.Bytes()
}

func filterRun(ids uint32, max int64, data []byte) (*filter, []string, error) {
	var warns []string
	f := newFilter(ids, max, func(s string) { warns = append(warns, s) })
	var out bytes.Buffer
	err := f.copy(&out, bytes.NewReader(data))
	return f, warns, err
}

func TestFilterRefusesHostileEntries(t *testing.T) {
	cases := map[string][]*tar.Header{
		"climbs out":            {{Name: "../etc/passwd", Size: 1}},
		"climbs out deep":       {{Name: "a/../../x", Size: 1}},
		"absolute path":         {{Name: "/etc/passwd", Size: 1}},
		"hard link out":         {{Name: "l", Typeflag: tar.TypeLink, Linkname: "../../etc/shadow"}},
		"written through":       {{Name: "evil", Typeflag: tar.TypeSymlink, Linkname: "/etc"}, {Name: "evil/passwd", Size: 1}},
		"whiteout dotdot":       {{Name: "dir/.wh..."}},
		"link to a lower layer": {{Name: "l", Typeflag: tar.TypeLink, Linkname: "usr/bin/absent"}},
		"whiteout nothing":      {{Name: ".wh."}},
	}
	for name, hs := range cases {
		_, _, err := filterRun(65536, 0, tarOf(t, hs...))
		var ee *EntryError
		if !errors.As(err, &ee) {
			t.Errorf("%s: got %v, want an entry error", name, err)
		}
	}
}

func TestFilterKeepsOrdinaryLayers(t *testing.T) {
	f, warns, err := filterRun(65536, 0, tarOf(t,
		&tar.Header{Name: "./", Typeflag: tar.TypeDir},
		&tar.Header{Name: "bin/sh", Typeflag: tar.TypeSymlink, Linkname: "/bin/busybox"},
		&tar.Header{Name: "usr/lib/../bin/x", Size: 3, Uid: 1000, Gid: 1000},
		&tar.Header{Name: "link", Typeflag: tar.TypeLink, Linkname: "usr/bin/x"},
		&tar.Header{Name: "dir/.wh..wh..opq"},
		&tar.Header{Name: "dir/.wh.old"},
		&tar.Header{Name: "dev/null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3},
		&tar.Header{Name: "bin/sh", Size: 2}, // replaces the symlink
		&tar.Header{Name: "bin/sh2", Size: 2},
	))
	if err != nil {
		t.Fatal(err)
	}
	if f.size != 7 {
		t.Errorf("size %d, want 7", f.size)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "dev/null") {
		t.Errorf("device nodes are skipped with a warning: %v", warns)
	}
}

func TestFilterChecksOwnersAndSize(t *testing.T) {
	_, _, err := filterRun(65536, 0, tarOf(t, &tar.Header{Name: "f", Uid: 70000}))
	if err == nil || !strings.Contains(err.Error(), "uid 70000") || !strings.Contains(err.Error(), "/etc/subuid") {
		t.Errorf("a uid beyond the range: %v", err)
	}
	if _, _, err := filterRun(0, 0, tarOf(t, &tar.Header{Name: "f", Uid: 70000})); err != nil {
		t.Errorf("with owners squashed any uid is fine: %v", err)
	}
	_, _, err = filterRun(65536, 10, tarOf(t, &tar.Header{Name: "big", Size: 11}))
	if err == nil || !strings.Contains(err.Error(), "--max-layer-size") {
		t.Errorf("an oversized layer: %v", err)
	}
	if _, _, err := filterRun(65536, 0, []byte("garbage that is not tar")); err == nil {
		t.Error("garbage accepted")
	}
}
