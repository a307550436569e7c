package e2e

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

// The command holds only 0, 1 and 2, as under docker, whatever den was
// started with: shells and CI runners leave descriptors open (this
// project's own harness left 10 and 251).
func TestCommandInheritsOnlyStdio(t *testing.T) {
	e, ref := pulled(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	for _, network := range []string{"none", "slirp"} {
		cmd := e.command(t.Context(), "run", "--rm", "--network", network, ref, "ls", "/proc/self/fd")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.ExtraFiles = []*os.File{null, w, r} // 3, 4, 5 in den
		if err := cmd.Run(); err != nil {
			t.Fatalf("--network %s: %v: %s", network, err, errb.String())
		}
		// ls lists its own directory descriptor, 3, too.
		if got := strings.Join(strings.Fields(out.String()), " "); got != "0 1 2 3" {
			t.Errorf("--network %s: the command holds %q, want 0 1 2 (and ls's 3)", network, got)
		}
	}
}

// --preserve-fds N passes den's 3..3+N-1 on, with systemd's LISTEN_FDS and
// LISTEN_PID (the command's own pid), as socket activation wants.
func TestPreserveFDs(t *testing.T) {
	e, ref := pulled(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	cmd := e.command(t.Context(), "run", "--rm", "--network", "none", "--preserve-fds", "2", ref,
		"sh", "-c", `echo "$LISTEN_FDS $LISTEN_PID $$" >&3; ls /proc/self/fd | tr '\n' ' '`)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.ExtraFiles = []*os.File{w, null}
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	w.Close()
	got, _ := io.ReadAll(r)
	f := strings.Fields(string(got))
	if len(f) != 3 || f[0] != "2" || f[1] != f[2] {
		t.Fatalf("through fd 3: %q, want LISTEN_FDS=2 and LISTEN_PID the command's pid", got)
	}
	if fds := strings.TrimSpace(out.String()); fds != "0 1 2 3 4 5" {
		t.Fatalf("the command holds %q, want 0-4 (and ls's 5)", fds)
	}
	oneLineError(t, e.den("run", "--rm", "--preserve-fds", "9", ref, "true"), "--preserve-fds")
}

// --preserve-fds with a restart policy the init applies: every run gets
// the descriptor (the init once closed it after the first, and the
// restart failed).
func TestPreserveFDsAcrossRestarts(t *testing.T) {
	e, ref := pulled(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := e.command(t.Context(), "run", "-d", "--name", "pr", "--restart", "on-failure:2", "--network", "none",
		"--preserve-fds", "1", ref, "sh", "-c", "echo run >&3 && exit 3")
	cmd.ExtraFiles = []*os.File{w}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	w.Close()
	t.Cleanup(func() { e.den("rm", "-f", "pr") })
	if code := e.ok("wait", "pr").stdout; code != "3\n" {
		t.Fatalf("den wait: %q, want 3 after three runs", code)
	}
	got, _ := io.ReadAll(r) // EOF: every holder of the pipe is gone
	if string(got) != "run\nrun\nrun\n" {
		t.Fatalf("through fd 3 across restarts: %q", got)
	}
}
