// Command den runs OCI containers for an unprivileged user, without a daemon.
package main

import (
	"fmt"
	"os"

	"go.podman.io/storage/pkg/reexec"

	"github.com/denproject/den/cmd/den/cli"
	"github.com/denproject/den/run"
	"github.com/denproject/den/run/ctl"
	"github.com/denproject/den/run/pid1"
	"github.com/denproject/den/userns"
)

func main() {
	// The storage library re-executes den to unpack layers chrooted.
	if reexec.Init() {
		return
	}
	// Between the init's fork and a command given --preserve-fds.
	if pid1.IsListenExec() {
		pid1.ListenExec()
	}
	// What den starts gets only the descriptors den hands it.
	ctl.CloseInherited()
	// den's own namespace child blocks here until its id maps are written.
	if err := userns.Init(); err != nil {
		fmt.Fprintln(os.Stderr, "den:", err)
		os.Exit(125)
	}
	switch {
	case pid1.IsInit(): // the container's PID 1
		os.Exit(pid1.Main())
	case run.IsChild(): // den in the user namespace, serving one request
		os.Exit(run.ChildMain())
	}
	os.Exit(cli.Execute())
}
