package e2e

import (
	"bufio"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIGKILL of the den a user runs, at each stage --debug names, leaves
// nothing behind: no process of the container, no record once the next
// den looks (--rm), no name taken.
func TestKillAtEachStage(t *testing.T) {
	e, ref := pulled(t)
	stages := []string{"entering the user namespace", "id maps written", "opening the store", "store open",
		"created", "rootfs mounted", "init started", "init configured", "init running", "config read",
		"rootfs ready", "network ready", "command started"}
	for _, stage := range stages {
		t.Run(strings.ReplaceAll(stage, " ", "-"), func(t *testing.T) {
			cmd := e.command(t.Context(), "--debug", "run", "--rm", "--name", "victim", ref, "sleep", "4242")
			errPipe, _ := cmd.StderrPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(errPipe)
			seen := false
			for sc.Scan() {
				if strings.HasSuffix(strings.TrimSpace(sc.Text()), stage) || strings.Contains(sc.Text(), "ms "+stage) {
					seen = true
					cmd.Process.Signal(syscall.SIGKILL)
					break
				}
			}
			go func() {
				for sc.Scan() {
				}
			}()
			cmd.Wait()
			if !seen {
				t.Skipf("den never printed %q", stage)
			}
			for deadline := time.Now().Add(5 * time.Second); processRunning("sleep", "4242"); time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the container's command outlived den killed with SIGKILL")
				}
			}
			if out := e.ok("ps", "-a", "-q").stdout; out != "" {
				t.Fatalf("den ps -a after den was killed at %q lists %q", stage, out)
			}
			// The name is free again.
			e.ok("run", "--rm", "--name", "victim", "--network", "none", ref, "true")
		})
	}
}
