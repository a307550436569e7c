package e2e

import (
	"bufio"
	"os"
	"path/filepath"
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
			initsBefore, helpersBefore := inits(), helpers()
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
			// den run starts the init before the container exists, and
			// the network beside the mount: neither may outlive den.
			for deadline := time.Now().Add(5 * time.Second); inits() > initsBefore || helpers() > helpersBefore; time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("killed at %q: %d container inits (before %d), %d network programs (before %d)", stage, inits(), initsBefore, helpers(), helpersBefore)
				}
			}
			if out := e.ok("ps", "-a", "-q").stdout; out != "" {
				t.Fatalf("den ps -a after den was killed at %q lists %q", stage, out)
			}
			// The name is free again.
			e.ok("run", "--rm", "--name", "victim", "--network", "none", ref, "true")
		})
	}
	// pasta started before the container (foreground runs) keeps its
	// namespace and pid files in the runtime directory: the next run
	// removes those of runs killed, and a run removes its own.
	if strings.Contains(strings.Join(backends(t), " "), "pasta") {
		e.ok("run", "--rm", "--network", "pasta", ref, "true")
		e.ok("ps", "-a") // waits for the run's cleanup, which den does not
		left, _ := os.ReadDir(filepath.Join(e.run, "den", "pasta"))
		for _, ent := range left {
			if ent.IsDir() {
				t.Fatalf("the runtime directory keeps an early pasta's files: %s", ent.Name())
			}
		}
	}
}

// SIGKILL of the den child of `den run -d` with pasta, at times across its
// start: whatever it left (a running container handed to its init, or
// nothing), pasta and the command go once the container is removed, and
// the name is free.
func TestKillDetachedChildAnyTime(t *testing.T) {
	if !strings.Contains(strings.Join(backends(t), " "), "pasta") {
		t.Skip("pasta is not installed")
	}
	e, ref := pulled(t)
	before := helpers()
	for delay := time.Duration(0); delay <= 32*time.Millisecond; delay += 2 * time.Millisecond {
		cmd := e.command(t.Context(), "run", "-d", "--name", "kd", "--network", "pasta", ref, "sleep", "4242")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		child := 0
		for deadline := time.Now().Add(2 * time.Second); child == 0 && time.Now().Before(deadline); {
			child = childOf(cmd.Process.Pid)
		}
		if child == 0 {
			t.Fatal("den run -d's child never showed")
		}
		time.Sleep(delay)
		syscall.Kill(child, syscall.SIGKILL)
		cmd.Wait()
		e.den("ps", "-a")
		e.den("rm", "-f", "kd")
		for deadline := time.Now().Add(5 * time.Second); helpers() != before || processRunning("sleep", "4242"); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("killed %v in: %d network programs (before %d), command running %v", delay, helpers(), before, processRunning("sleep", "4242"))
			}
		}
		e.ok("run", "--rm", "--name", "kd", "--network", "none", ref, "true")
	}
}

// inits counts the live container inits ("exe" until the init names
// itself den-init).
func inits() int {
	n := 0
	for _, pid := range allPids() {
		if c := comm(pid); (c == "den-init" || c == "exe") && processAlive(pid) {
			n++
		}
	}
	return n
}

// childOf is the den child of the den pid (not newuidmap or newgidmap,
// which den also starts), or 0.
func childOf(pid int) int {
	for _, n := range allPids() {
		if ppid(n) == pid && comm(n) == comm(pid) {
			return n
		}
	}
	return 0
}

// den run starts the container's init before it creates the container
// (forkinit_linux.go): a run that fails before the container exists (a
// name in use, an absent image, a bad volume, a dead end in create) takes
// its init and network down with it, and says why in one line.
func TestEarlyInitGoesWhenRunFails(t *testing.T) {
	e, ref := pulled(t)
	e.ok("run", "-d", "--name", "taken", ref, "sleep", "4243")
	defer e.den("rm", "-f", "taken")
	initsBefore, helpersBefore := inits(), helpers()
	for _, c := range []struct {
		args  []string
		words []string
	}{
		{[]string{"run", "--rm", "--name", "taken", ref, "true"}, []string{"taken", "already in use"}},
		{[]string{"run", "--rm", "--pull=never", "absent/image", "true"}, []string{"absent/image", "--pull=never"}},
		{[]string{"run", "--rm", "-v", "/nonexistent-den-test:/data", ref, "true"}, []string{"/nonexistent-den-test", "does not exist"}},
		{[]string{"run", "--rm", "-p", "8:8:8", ref, "true"}, []string{"8:8:8"}},
	} {
		r := e.den(c.args...)
		if r.code != 125 {
			t.Errorf("den %v: %s, want exit 125", c.args, r)
		}
		oneLineError(t, r, c.words...)
		for deadline := time.Now().Add(5 * time.Second); inits() > initsBefore || helpers() > helpersBefore; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("after den %v failed: %d container inits (before %d), %d network programs (before %d)", c.args, inits(), initsBefore, helpers(), helpersBefore)
			}
		}
	}
	if out := e.ok("ps", "-a", "--format", "{{.Names}}").stdout; strings.TrimSpace(out) != "taken" {
		t.Fatalf("den ps -a after the failed runs: %q, want only taken", out)
	}
}
