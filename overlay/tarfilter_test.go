package overlay

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
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

func TestFilterRefusesHardLinkThroughPlantedSymlink(t *testing.T) {
	// Found by FuzzFilterEntries: a file written while "a" was a directory,
	// then "a" replaced by a symlink, then a hard link to "a/f".
	_, _, err := filterRun(65536, 0, tarOf(t,
		&tar.Header{Name: "a", Typeflag: tar.TypeDir},
		&tar.Header{Name: "a/f", Size: 1},
		&tar.Header{Name: "a", Typeflag: tar.TypeSymlink, Linkname: "/etc"},
		&tar.Header{Name: "l", Typeflag: tar.TypeLink, Linkname: "a/f"},
	))
	var ee *EntryError
	if !errors.As(err, &ee) || ee.Entry != "l" || !strings.Contains(ee.Why, `through the symlink "a"`) {
		t.Fatalf("got %v, want entry l refused as a link through the symlink a", err)
	}
}

func TestCleanName(t *testing.T) {
	ok := map[string]string{"a/b": "a/b", "./a": "a", "a/./b/": "a/b", "a/../b": "b", "a//b": "a/b", "./": ".", "..a": "..a", "a/..b": "a/..b"}
	for in, want := range ok {
		if got, err := cleanName(in); err != nil || got != want {
			t.Errorf("cleanName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{"/a": "absolute", "//a": "absolute", "..": "'..'", "../a": "'..'", "a/../../b": "'..'", "./../a": "'..'"}
	for in, why := range bad {
		if _, err := cleanName(in); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("cleanName(%q): %v, want an error saying %s", in, err, why)
		}
	}
}

func TestFilterRefusalsNameEntryAndCause(t *testing.T) {
	cases := []struct {
		hs   []*tar.Header
		want string
	}{
		{[]*tar.Header{{Name: "../x", Size: 1}}, `entry "../x": climbs out of the layer with '..'`},
		{[]*tar.Header{{Name: "/etc/x", Size: 1}}, `entry "/etc/x": has an absolute path`},
		{[]*tar.Header{{Name: "l", Typeflag: tar.TypeLink, Linkname: "/etc/shadow"}}, `entry "l": hard link has an absolute path`},
		{[]*tar.Header{{Name: "s", Typeflag: tar.TypeSymlink, Linkname: "/"}, {Name: "s/a/b", Size: 1}}, `entry "s/a/b": is written through the symlink "s"`},
		{[]*tar.Header{{Name: "l", Typeflag: tar.TypeLink, Linkname: "x"}}, `hard links cannot cross layers`},
		{[]*tar.Header{{Name: "d/.wh.."}}, `whiteout names no file inside the layer`},
	}
	for _, c := range cases {
		_, _, err := filterRun(65536, 0, tarOf(t, c.hs...))
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want %q", c.hs[len(c.hs)-1].Name, err, c.want)
		}
	}
}

func TestFilterRewritesNamesItKeeps(t *testing.T) {
	var out bytes.Buffer
	f := newFilter(65536, 0, func(string) {})
	err := f.copy(&out, bytes.NewReader(tarOf(t,
		&tar.Header{Name: "./usr//bin/", Typeflag: tar.TypeDir, Uid: 0, Gid: 0},
		&tar.Header{Name: "./usr/bin/app", Size: 1, Uid: 1000, Gid: 50},
		&tar.Header{Name: "./app", Typeflag: tar.TypeLink, Linkname: "./usr/bin/app", Uid: 1000, Gid: 50},
	)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	tr := tar.NewReader(&out)
	for h, err := tr.Next(); err == nil; h, err = tr.Next() {
		names = append(names, h.Name+">"+h.Linkname)
	}
	if got := strings.Join(names, " "); got != "usr/bin> usr/bin/app> app>usr/bin/app" {
		t.Errorf("kept entries %q: names and link targets should be clean and relative", got)
	}
	if len(f.uids) != 2 || len(f.gids) != 2 || len(keys(f.uids)) != 2 {
		t.Errorf("owners seen: uids %v gids %v, want {0,1000} and {0,50}", f.uids, f.gids)
	}
}

func TestFilterSquashedOwnersStillRefuseEscapes(t *testing.T) {
	// With one mapped uid the owner check is off; the path checks are not.
	_, _, err := filterRun(0, 0, tarOf(t, &tar.Header{Name: "../../x", Size: 1, Uid: 99999}))
	var ee *EntryError
	if !errors.As(err, &ee) {
		t.Fatalf("got %v, want an entry error", err)
	}
}

// countingZeros is an endless stream of zeros that counts what was read.
type countingZeros struct{ n int64 }

func (z *countingZeros) Read(p []byte) (int, error) {
	clear(p)
	z.n += int64(len(p))
	return len(p), nil
}

func TestFilterStopsAtTheSizeLimit(t *testing.T) {
	// A header declaring 4 GiB, then zeros: the filter must give up near
	// the limit instead of copying the whole entry first.
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	tw.WriteHeader(&tar.Header{Name: "huge", Typeflag: tar.TypeReg, Size: 4 << 30, Mode: 0o644})
	body := &countingZeros{}
	f := newFilter(65536, 1<<20, func(string) {})
	err := f.copy(io.Discard, io.MultiReader(&hdr, body))
	if err == nil || !strings.Contains(err.Error(), "--max-layer-size") {
		t.Fatalf("got %v, want the size limit", err)
	}
	if body.n > 2<<20 {
		t.Errorf("read %d bytes of a layer limited to 1 MiB", body.n)
	}
}
