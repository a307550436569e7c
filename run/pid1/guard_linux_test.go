package pid1

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/denproject/den/run/ctl"
)

// A file among the command's descriptors reaches it as a pipe whose
// output lands in the file; a pipe is handed on as it is.
func TestGuardGivesPipesForFiles(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	out, done, wait, err := guard([]*os.File{r, f, w})
	if err != nil {
		t.Fatal(err)
	}
	if out[0] != r || out[2] != w || out[1] == f || !ctl.Passable(out[1]) {
		t.Fatalf("guard gave %v for %v", out, []*os.File{r, f, w})
	}
	// The command's own copy of its end, as a fork would give it.
	fd, err := syscall.Dup(int(out[1].Fd()))
	if err != nil {
		t.Fatal(err)
	}
	cmd := os.NewFile(uintptr(fd), "command-stdout")
	done() // the init's copy goes
	cmd.Write([]byte("through the pipe\n"))
	cmd.Close()
	wait()
	if b, _ := os.ReadFile(p); string(b) != "through the pipe\n" {
		t.Fatalf("the file holds %q", b)
	}
}
