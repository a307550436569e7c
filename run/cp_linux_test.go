package run

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

type fakeInfo struct{ dir bool }

func (f fakeInfo) Name() string       { return "" }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() os.FileMode  { return map[bool]os.FileMode{true: os.ModeDir}[f.dir] }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.dir }
func (f fakeInfo) Sys() any           { return nil }

func TestCpTarget(t *testing.T) {
	fs := map[string]bool{"/d": true, "/f": false, "/": true} // path: is a directory
	stat := func(p string) (os.FileInfo, error) {
		if dir, ok := fs[p]; ok {
			return fakeInfo{dir}, nil
		}
		return nil, os.ErrNotExist
	}
	file, dir, contents := cpSource{Base: "s"}, cpSource{IsDir: true, Base: "s"}, cpSource{IsDir: true, Contents: true, Base: "s"}
	for _, c := range []struct {
		dst       string
		src       cpSource
		dir, name string
		err       string
	}{
		{"/d", file, "/d", "s", ""},
		{"/d/", dir, "/d", "s", ""},
		{"/d", contents, "/d", "", ""},
		{"/f", file, "/", "f", ""},
		{"/f", dir, "", "", "directory to a file"},
		{"/new", file, "/", "new", ""},
		{"/new/", file, "", "", "no such directory"},
		{"/new/", dir, "/", "new", ""},
		{"/new", contents, "/", "new", ""},
		{"/no/new", file, "", "", "/no: no such directory"},
		{"/f/new", dir, "", "", "no such directory"},
	} {
		d, n, err := cpTarget(c.dst, stat, c.src)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("cpTarget(%q, %+v): %v, want %q", c.dst, c.src, err, c.err)
			}
			continue
		}
		if err != nil || d != c.dir || n != c.name {
			t.Errorf("cpTarget(%q, %+v) = %q %q %v, want %q %q", c.dst, c.src, d, n, err, c.dir, c.name)
		}
	}
}

func TestParsePs(t *testing.T) {
	out := "UID PID PPID CMD\nu 10 1 den-init\nu 11 10 sleep 300\nu 12 1 other\nu - - thread\n"
	res, err := parsePs(out, map[int]bool{10: true, 11: true})
	if err != nil || len(res.Processes) != 2 || strings.Join(res.Processes[1], "|") != "u|11|10|sleep 300" {
		t.Fatalf("parsePs: %+v %v", res, err)
	}
	if _, err := parsePs("USER COMMAND\nu x\n", nil); err == nil {
		t.Fatal("parsePs without a PID column")
	}
	if _, err := parsePs("PID\nabc\n", nil); err == nil || errors.Is(err, os.ErrNotExist) {
		t.Fatal("parsePs of a PID that is no number")
	}
}
