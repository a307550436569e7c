package records

import (
	"os"
	"os/exec"
	"testing"
)

func TestDecodeCorrectsARunningStateWhoseDenIsGone(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid // reaped: no such process now
	r := Record{Image: "busybox", State: Running, Pid: dead}
	got := Decode(r.Encode())
	if got.State != Exited || got.ExitCode != KilledCode || got.Status() != "Exited (137)" {
		t.Fatalf("dead den: %+v %q", got, got.Status())
	}
	r.Pid = os.Getpid()
	if got := Decode(r.Encode()); got.State != Running || got.Status() != "Up" {
		t.Fatalf("live den: %+v", got)
	}
}

func TestInitOfChecksTheParent(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if err := WriteInitPid(dir, cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if pid, err := InitOf(dir, os.Getpid()); err != nil || pid != cmd.Process.Pid {
		t.Fatalf("InitOf = %d, %v", pid, err)
	}
	// The same pid under another parent is not this container's init.
	if _, err := InitOf(dir, os.Getppid()); err == nil {
		t.Fatal("InitOf accepted a process of another parent")
	}
	if _, err := InitOf(t.TempDir(), os.Getpid()); err == nil {
		t.Fatal("InitOf without a pid file succeeded")
	}
}
