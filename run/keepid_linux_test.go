package run

import (
	"syscall"
	"testing"
)

func TestKeepIDMapKeepsTheWholeRange(t *testing.T) {
	m := keepIDMap(1000, 65537)
	want := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 1, Size: 1000}, {ContainerID: 1000, HostID: 0, Size: 1}, {ContainerID: 1001, HostID: 1001, Size: 64536}}
	if len(m) != len(want) {
		t.Fatalf("map %v, want %v", m, want)
	}
	total := 0
	for i := range m {
		if m[i] != want[i] {
			t.Errorf("line %d: %v, want %v", i, m[i], want[i])
		}
		total += m[i].Size
	}
	if total != 65537 {
		t.Errorf("maps %d ids, want 65537", total)
	}
	for k, d := range map[uint32]uint32{0: 1, 999: 1000, 1000: 0, 1001: 1001, 65536: 65536} {
		if got, ok := toKeepID(k, m); !ok || got != d {
			t.Errorf("container id %d -> den's %d (%v), want %d", k, got, ok, d)
		}
	}
	// A uid beyond the range: the range maps below it, the rest not at all.
	if m := keepIDMap(70000, 65537); len(m) != 2 || m[0].Size != 65536 || m[1].ContainerID != 70000 {
		t.Errorf("uid above the range: %v", m)
	}
}
