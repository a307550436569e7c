package pid1

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/denproject/den/run/ctl"
)

// roleListen marks den re-executed between the init's fork and the
// command's exec, to set LISTEN_PID: systemd's socket activation wants the
// pid of the process that reads LISTEN_FDS, known only after the fork.
const roleListen = "listen"

// IsListenExec reports whether this process is that step. It must be
// checked before anything marks descriptors close-on-exec.
func IsListenExec() bool { return os.Getenv(ctl.EnvRole) == roleListen }

// ListenExec sets LISTEN_PID and becomes the command: os.Args are
// [den-listen, PATH, ARGV...].
func ListenExec() {
	if len(os.Args) < 3 {
		os.Exit(125)
	}
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, ctl.EnvRole+"=") && !strings.HasPrefix(e, "LISTEN_PID=") {
			env = append(env, e)
		}
	}
	env = append(env, "LISTEN_PID="+strconv.Itoa(os.Getpid()))
	err := syscall.Exec(os.Args[1], os.Args[2:], env)
	fmt.Fprintf(os.Stderr, "den: starting %s: %v\n", os.Args[1], err)
	os.Exit(exitCodeFor(err))
}

// withPreserved hands the command the descriptors den run --preserve-fds
// passed on, through ListenExec.
func withPreserved(c *Config, path string, stdio []*os.File) (string, []string, []string, []*os.File) {
	if c.PreserveFDs == 0 {
		return path, c.Args, c.Env, stdio
	}
	files := append(append([]*os.File{}, stdio...), preservedFiles(c.PreserveFDs)...)
	env := append(MergeEnv(c.Env, []string{"LISTEN_FDS=" + strconv.Itoa(c.PreserveFDs)}), ctl.EnvRole+"="+roleListen)
	argv := append([]string{"den-listen", path}, c.Args...)
	return "/proc/self/exe", argv, env, files
}

// preserved are the init's --preserve-fds descriptors, each wrapped once
// for its whole life: an *os.File closes its descriptor when collected,
// so one made per start (a restart's) closed it under the next, or handed
// the command whatever took the number after.
var preserved []*os.File

func preservedFiles(n int) []*os.File {
	for i := len(preserved); i < n; i++ {
		preserved = append(preserved, os.NewFile(uintptr(ctl.InitPreserveFD+i), "preserved"))
	}
	return preserved[:n]
}
