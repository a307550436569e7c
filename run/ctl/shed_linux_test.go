package ctl

import (
	"strings"
	"testing"
)

// Shed leaves the process working: the heap, its code and data are as
// they were (a dropped page of relocated data crashed a PIE build).
func TestShedKeepsTheProcessWhole(t *testing.T) {
	before := strings.Repeat("den", 1000)
	Shed()
	m := map[int]string{}
	for i := 0; i < 20000; i++ {
		m[i%333] += "x"
	}
	if len(m) != 333 || strings.Repeat("den", 1000) != before {
		t.Fatal("state changed across Shed")
	}
	if !selfContained() {
		t.Log("not a static, position-dependent test binary: its code only was shed")
	}
}
