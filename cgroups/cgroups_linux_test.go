package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// delegated builds a tree shaped like systemd's delegated v2 subtree for
// uid 1000, with den running in app.slice/den.scope under it.
func delegated(t *testing.T, controllers string) (Host, string) {
	t.Helper()
	root := t.TempDir()
	mgr := filepath.Join(root, "user.slice/user-1000.slice/user@1000.service")
	if err := os.MkdirAll(filepath.Join(mgr, "app.slice/den.scope"), 0o755); err != nil {
		t.Fatal(err)
	}
	for f, v := range map[string]string{"cgroup.controllers": controllers, "cgroup.subtree_control": ""} {
		if err := os.WriteFile(filepath.Join(mgr, f), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	self := filepath.Join(root, "self")
	os.WriteFile(self, []byte("0::/user.slice/user-1000.slice/user@1000.service/app.slice/den.scope\n"), 0o644)
	h := Host{Mount: root, Self: self, UID: 1000, IsV2: func(string) bool { return true },
		CanEdit: func(p string) bool { _, err := os.Stat(p); return err == nil }}
	return h, mgr
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCreateWritesDockersLimitsUnderTheDelegatedSubtree(t *testing.T) {
	h, mgr := delegated(t, "cpuset cpu io memory pids")
	l := Limits{Memory: 64 << 20, MemorySwap: 96 << 20, CPUs: 1.5, CPUShares: 512, Pids: 50}
	parent, err := h.Parent(l)
	if err != nil || parent != mgr {
		t.Fatalf("Parent = %q, %v; want %s", parent, err, mgr)
	}
	dir, err := Create(parent, "abc", l)
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(mgr, "den", "abc") {
		t.Errorf("cgroup at %s", dir)
	}
	want := map[string]string{
		"memory.max": "67108864", "memory.swap.max": "33554432", "cpu.max": "150000 100000",
		"cpu.weight": "20", "pids.max": "50",
	}
	for f, v := range want {
		if got := read(t, filepath.Join(dir, f)); got != v {
			t.Errorf("%s = %q, want %q", f, got, v)
		}
	}
	for _, d := range []string{mgr, filepath.Join(mgr, "den")} {
		if got := read(t, filepath.Join(d, "cgroup.subtree_control")); got != "+memory +cpu +pids" {
			t.Errorf("%s/cgroup.subtree_control = %q", d, got)
		}
	}
	if err := Join(dir); err != nil || read(t, filepath.Join(dir, "cgroup.procs")) != "0" {
		t.Errorf("Join: %v", err)
	}
}

func TestSwapFollowsDocker(t *testing.T) {
	for _, c := range []struct {
		l    Limits
		swap string
	}{
		{Limits{Memory: 100}, "100"},
		{Limits{Memory: 100, MemorySwap: -1}, "max"},
		{Limits{Memory: 100, MemorySwap: 100}, "0"},
	} {
		if got := c.l.files()["memory.swap.max"]; got != c.swap {
			t.Errorf("%+v: memory.swap.max %q, want %q", c.l, got, c.swap)
		}
	}
	if w := sharesToWeight(1024); w != 39 {
		t.Errorf("1024 shares -> weight %d, want 39 (runc's)", w)
	}
}

func TestRefusals(t *testing.T) {
	l := Limits{Memory: 1 << 20, Pids: 10}
	h, _ := delegated(t, "cpu memory")
	if _, err := h.Parent(l); err == nil || !strings.Contains(err.Error(), "pids controller is not delegated") {
		t.Errorf("missing controller: %v", err)
	}
	h, _ = delegated(t, "cpu memory pids")
	v1 := h
	v1.IsV2 = func(string) bool { return false }
	if _, err := v1.Parent(l); err == nil || !strings.Contains(err.Error(), "cgroup v1") {
		t.Errorf("v1: %v", err)
	}
	outside := h
	os.WriteFile(h.Self, []byte("0::/user.slice/user-1000.slice/session-3.scope\n"), 0o644)
	if _, err := outside.Parent(l); err == nil || !strings.Contains(err.Error(), "systemd-run --user --scope") {
		t.Errorf("outside the manager: %v", err)
	}
	os.WriteFile(h.Self, []byte("0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope\n"), 0o644)
	ro := h
	ro.CanEdit = func(string) bool { return false }
	if _, err := ro.Parent(l); err == nil || !strings.Contains(err.Error(), "Delegate=yes") {
		t.Errorf("not writable: %v", err)
	}
}
