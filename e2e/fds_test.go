package e2e

import (
	"bytes"
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
