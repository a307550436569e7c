package netns

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// EndPasta reads a pid file that anything may have left behind: garbage,
// or the pid of a process that is not this container's pasta (pids are
// reused). It kills only a process whose command line names the
// container's namespace file, and removes that file in every case.
func TestEndPastaKillsOnlyThisPasta(t *testing.T) {
	bystander := exec.Command("sleep", "60")
	if err := bystander.Start(); err != nil {
		t.Fatal(err)
	}
	defer bystander.Process.Kill()
	prepare := func(pidFile string) (dir, ns string) {
		dir = t.TempDir()
		ns = filepath.Join(dir, NsFile)
		if err := os.MkdirAll(filepath.Dir(ns), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(ns, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(filepath.Dir(ns), pastaPidFile), []byte(pidFile), 0o600); err != nil {
			t.Fatal(err)
		}
		return dir, ns
	}
	for _, content := range []string{"", "garbage", "-1", "0", "99999999999999999999", strconv.Itoa(bystander.Process.Pid)} {
		dir, ns := prepare(content)
		EndPasta(dir)
		if _, err := os.Stat(ns); !os.IsNotExist(err) {
			t.Errorf("pid file %q: the namespace file is still there (%v)", content, err)
		}
	}
	EndPasta(t.TempDir()) // nothing there at all
	if err := bystander.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("a process that is not this pasta was killed: %v", err)
	}

	// One whose command line names the file, as pasta's --netns does.
	dir, ns := prepare("")
	pasta := exec.Command("sh", "-c", "sleep 60; true", "pasta", "--netns", ns)
	pasta.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := pasta.Start(); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(-pasta.Process.Pid, syscall.SIGKILL) // its sleep
	if err := os.WriteFile(filepath.Join(filepath.Dir(ns), pastaPidFile), []byte(strconv.Itoa(pasta.Process.Pid)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	EndPasta(dir)
	err := pasta.Wait()
	if ws, ok := pasta.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("this container's pasta was not killed: %v", err)
	}
}
