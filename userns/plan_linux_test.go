package userns

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func writeFixture(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sub")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSubRangeByNameOrUID(t *testing.T) {
	p := writeFixture(t, "# comment\nother:1:2\nalice:100000:65536\n1234:200000:1000\n")
	if r, err := subRange(p, "alice", 1); err != nil || r != (Range{100000, 65536}) {
		t.Fatalf("by name: %v %v", r, err)
	}
	if r, err := subRange(p, "bob", 1234); err != nil || r != (Range{200000, 1000}) {
		t.Fatalf("by uid: %v %v", r, err)
	}
	if _, err := subRange(p, "carol", 5); !os.IsNotExist(err) {
		t.Fatalf("absent user: %v", err)
	}
	bad := writeFixture(t, "alice:x:65536\n")
	if _, err := subRange(bad, "alice", 1); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Fatalf("malformed line: %v", err)
	}
}

func TestPlanFallsBackWithAFix(t *testing.T) {
	old1, old2 := subuidPath, subgidPath
	defer func() { subuidPath, subgidPath = old1, old2 }()
	subuidPath = writeFixture(t, "")
	subgidPath = subuidPath
	t.Setenv("PATH", t.TempDir()) // no newuidmap either
	p := NewPlan()
	if !p.Fallback() || p.Size() != 1 || !strings.Contains(p.Warning, "apt-get install uidmap") {
		t.Fatalf("plan without newuidmap: %+v", p)
	}
	bin := t.TempDir()
	for _, n := range []string{"newuidmap", "newgidmap"} {
		os.WriteFile(filepath.Join(bin, n), []byte("#!/bin/sh\n"), 0o755)
	}
	t.Setenv("PATH", bin)
	p = NewPlan()
	if !p.Fallback() || !strings.Contains(p.Warning, subuidPath) || !strings.Contains(p.Warning, "den doctor") {
		t.Fatalf("plan without a range should name the file and the line to add: %+v", p)
	}
	name := userName(os.Getuid())
	subuidPath = writeFixture(t, name+":100000:1000\n")
	subgidPath = subuidPath
	p = NewPlan()
	if p.Fallback() || p.Size() != 1001 || !strings.Contains(p.Warning, "smaller than 65536") {
		t.Fatalf("plan with a short range: %+v", p)
	}
	if got := strings.Join(mapArgs(42, p.UIDs), " "); got != "42 0 "+strconv.Itoa(os.Getuid())+" 1 1 100000 1000" {
		t.Fatalf("newuidmap arguments: %s", got)
	}
}
