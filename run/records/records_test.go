package records

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/denproject/den/run/ctl"
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

// The files an init that ran alone leaves beside the log are read as the
// record's truth; torn or foreign ones are not, and a killed init is 137.
func TestDecodeReadsTheInitsFilesAndNotGarbage(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := Record{Image: "busybox", State: Running, InitPid: cmd.Process.Pid, InitStart: 1,
		ExitFile: filepath.Join(dir, ctl.ExitFile)}
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(ctl.ExitFile, `{"code":`)
	write(ctl.RestartFile, "\x00garbage")
	if got := Decode(r.Encode()); got.ExitCode != KilledCode || got.RestartCount != 0 {
		t.Fatalf("garbage files: %+v", got)
	}
	write(ctl.ExitFile, `{"code":3,"finishedAt":"2026-01-02T03:04:05Z"}`)
	write(ctl.RestartFile, `{"count":2,"startedAt":"2026-01-02T03:04:00Z"}`)
	if got := Decode(r.Encode()); got.State != Exited || got.ExitCode != 3 || got.RestartCount != 2 || got.StartedAt.Second() != 0 {
		t.Fatalf("the init's files: %+v", got)
	}
}
